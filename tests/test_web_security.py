"""Safe by default: identity, isolation between learners, CSRF, headers, limits, sanitising."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TEST_SECRET
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from web_support import (
    HOSTILE_ANSWER,
    ScriptedChat,
    app_for,
    csrf,
    hostile_corpus,
    html_problems,
    live_server,
    parse_sse,
)

from tutor.index import Index
from tutor.tutor import Tutor
from web.app import create_app
from web.render import markdown_to_html, sanitize
from web.security import (
    COOKIE_NAME,
    BodyLimitMiddleware,
    RateLimits,
    Signer,
    Throttled,
    client_address,
    load_secret,
)

CSM = "customer-success-manager"
QBRS = "csm-m-run-10-qbrs"


@pytest.fixture
def app(shipped: Any) -> Any:
    return app_for(shipped, max_body_bytes=2048)


@pytest.fixture
def alice(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        csrf(c)
        yield c


@pytest.fixture
def bob(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        csrf(c)
        yield c


def learner_of(client: TestClient, app: Any) -> str | None:
    learner: str | None = app.state.signer.load(client.cookies.get(COOKIE_NAME))
    return learner


# --- identity and isolation -------------------------------------------------------------------


def test_cookie_is_signed_httponly_samesite_and_opaque(app: Any) -> None:
    with TestClient(app) as c:
        r = c.get("/api/session")
        header = r.headers["set-cookie"]
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
        assert "Secure" not in header  # plain http on localhost; set under https
        learner = learner_of(c, app)
        assert learner and len(learner) >= 32  # 24 random bytes
        # the value is the id and its signature, nothing else
        assert (
            URLSafeSerializer("wrong", salt="x").loads_unsafe(c.cookies[COOKIE_NAME])[1] == learner
        )
        # the same learner on the next request: no new cookie
        assert "set-cookie" not in c.get("/api/session").headers


def test_learners_cannot_see_or_touch_each_other(
    alice: TestClient, bob: TestClient, app: Any
) -> None:
    assert learner_of(alice, app) != learner_of(bob, app)
    r = alice.post(
        "/api/chat", json={"message": "How much does a CSM earn in Germany?", "role": CSM}
    )
    cid = parse_sse(r.text)[0][1]["conversation_id"]
    alice.put("/api/progress", json={"milestone_id": QBRS, "state": "done"}).raise_for_status()

    # Bob cannot read, list or continue Alice's conversation, even knowing its id
    assert bob.get(f"/api/conversations/{cid}").status_code == 404
    assert bob.get("/api/conversations").json() == []
    r = bob.post("/api/chat", json={"message": "and in the US?", "conversation_id": cid})
    assert r.status_code == 404
    # Bob's progress is his own; his writes never reach Alice's
    assert bob.get(f"/api/progress/{CSM}").json()["states"] == {}
    bob.put("/api/progress", json={"milestone_id": QBRS, "state": None}).raise_for_status()
    assert alice.get(f"/api/progress/{CSM}").json()["states"] == {QBRS: "done"}
    # nothing in a request names a learner: ids in paths, queries or bodies are ignored/refused
    alice_id = learner_of(alice, app)
    assert bob.get(f"/api/progress/{CSM}", params={"learner": alice_id}).json()["states"] == {}
    r = bob.put("/api/progress", json={"milestone_id": QBRS, "state": "done", "learner": alice_id})
    assert r.status_code == 400
    # and Alice still has her conversation
    assert alice.get(f"/api/conversations/{cid}").status_code == 200


@pytest.mark.parametrize(
    "how", ["flip-signature", "other-secret", "unsigned", "garbage", "wrong-salt"]
)
def test_tampered_cookie_gets_a_fresh_learner(alice: TestClient, app: Any, how: str) -> None:
    r = alice.post(
        "/api/chat", json={"message": "How much does a CSM earn in Germany?", "role": CSM}
    )
    cid = parse_sse(r.text)[0][1]["conversation_id"]
    alice_id = learner_of(alice, app)
    assert alice_id
    value = alice.cookies[COOKIE_NAME]
    payload, _, sig = value.rpartition(".")
    forged = {
        "flip-signature": f"{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}",
        "other-secret": Signer(secrets.token_urlsafe(48)).dump(alice_id),
        "unsigned": alice_id,
        "garbage": "x" * 600,
        "wrong-salt": URLSafeSerializer(TEST_SECRET, salt="wrong-salt").dumps(alice_id),
    }[how]
    with TestClient(app, cookies={COOKIE_NAME: forged}) as mallory:
        r = mallory.get("/api/conversations")
        assert r.status_code == 200 and r.json() == []
        assert COOKIE_NAME in r.headers.get("set-cookie", "")  # a new identity is issued
        new_id = app.state.signer.load(r.cookies.get(COOKIE_NAME))
        assert new_id and new_id != alice_id
        assert mallory.get(f"/api/conversations/{cid}").status_code == 404


# --- CSRF ---------------------------------------------------------------------------------------


def test_csrf_required_on_every_state_change(app: Any, alice: TestClient, bob: TestClient) -> None:
    token = alice.headers.pop("X-CSRF-Token")
    calls = [
        ("POST", "/api/chat", {"message": "pay?"}),
        ("POST", "/api/conversations", {}),
        ("PUT", "/api/progress", {"milestone_id": QBRS, "state": "done"}),
        ("PUT", "/api/hours", {"hours_per_week": 3}),
        ("POST", "/api/next", {"role": CSM}),
    ]
    for method, path, body in calls:
        r = alice.request(method, path, json=body)
        assert r.status_code == 403, path
        assert r.json()["error"] == "forbidden"
        r = alice.request(method, path, json=body, headers={"X-CSRF-Token": "0" * 64})
        assert r.status_code == 403, path
        # Bob's valid token is not Alice's: tokens are bound to the learner
        r = alice.request(
            method, path, json=body, headers={"X-CSRF-Token": bob.headers["X-CSRF-Token"]}
        )
        assert r.status_code == 403, path
    assert alice.get(f"/api/progress/{CSM}").json()["states"] == {}
    # a request without any cookie is refused too (a fresh learner has no token yet)
    with TestClient(app) as anon:
        assert (
            anon.post("/api/conversations", json={}, headers={"X-CSRF-Token": token}).status_code
            == 403
        )
    # with the token it works
    r = alice.put(
        "/api/progress",
        json={"milestone_id": QBRS, "state": "done"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_requests_are_refused_even_with_the_token(
    alice: TestClient, headers: dict[str, str]
) -> None:
    r = alice.post("/api/conversations", json={}, headers=headers)
    assert r.status_code == 403 and "Cross-site" in r.json()["message"]


def test_same_origin_headers_pass(alice: TestClient) -> None:
    headers = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert alice.post("/api/conversations", json={}, headers=headers).status_code == 201


# --- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/roles", "/static/app.js", "/api/nope", "/healthz"])
def test_security_headers_everywhere(alice: TestClient, path: str) -> None:
    h = alice.get(path).headers
    csp = h["content-security-policy"]
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]:
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert "camera=()" in h["permissions-policy"]


# --- body and message limits ----------------------------------------------------------------


def test_oversized_body_with_content_length_is_413(alice: TestClient) -> None:
    r = alice.post("/api/chat", json={"message": "x" * 5000})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert "content-security-policy" in r.headers


def test_oversized_chunked_body_without_content_length_is_413(alice: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    r = alice.post("/api/chat", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"


def test_small_chunked_body_is_fine(alice: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"milestone_id": "csm-m-run-10-qbrs",'
        yield b' "state": "done"}'

    r = alice.put("/api/progress", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 200


def test_body_limit_counts_received_bytes_not_the_declared_length() -> None:
    """Content-Length says 10; the ASGI server hands the app 4000 bytes anyway: still 413."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}] * 4
    chunks.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"10")]}
    asyncio.run(BodyLimitMiddleware(app, max_bytes=2048)(scope, receive, send))
    assert sent[0]["status"] == 413 and not seen
    assert len(sent) == 2  # the app's own response was dropped


def test_chunked_upload_over_a_real_socket_is_413(shipped: Any) -> None:
    app = app_for(shipped, max_body_bytes=2048)
    with live_server(app) as url:
        with httpx.Client(base_url=url) as c:
            token = csrf(c)
            cookie = c.cookies[COOKIE_NAME]
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                f"POST /api/chat HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Cookie: {COOKIE_NAME}={cookie}\r\nX-CSRF-Token: {token}\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
            )
            # 5 x 512 bytes (over the 2048 limit), no Content-Length, and no final chunk: the
            # server must not wait for the end of the body to refuse it. Nothing more is sent:
            # bytes arriving after the server has answered and closed draw a TCP reset, which
            # can discard the 413 before we read it (seen once on a loaded machine).
            for _ in range(5):
                s.sendall(b"200\r\n" + b"x" * 0x200 + b"\r\n")
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


# --- sanitising -----------------------------------------------------------------------------


def test_markdown_rendering_is_safe() -> None:
    html = markdown_to_html(HOSTILE_ANSWER + "\n\n<https://ok.example/a>", [1], "a1")
    assert html_problems(html) == []
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert html.count('<sup class="cite"><a href="#fn-a1-1"') == 5
    assert '<a href="https://ok.example/a"' in html
    assert html_problems('<img src="x" onerror="y"><a href="javascript:z">') == [
        "<img>",
        "img[src]",
        "img[onerror]",
        "a[href=javascript:z]",
    ]  # the audit itself works


def test_citation_markers_only_for_known_citations() -> None:
    html = markdown_to_html("Pay is high [1] and [7]; see [1, 2].", [1, 2], "x")
    assert html.count('class="cite"') == 3
    assert "[7]" in html
    with pytest.raises(ValueError):
        markdown_to_html("x", [], 'a" onmouseover="x')


def test_sanitizer_is_a_second_wall() -> None:
    raw = (
        '<p onclick="x">hi<script>alert(1)</script><a href="javascript:alert(1)">a</a>'
        '<a href="https://ok.example" target="_blank">ok</a><img src="/x.png"><style>*{}</style></p>'
    )
    out = sanitize(raw)
    assert out == (
        '<p>hi<a rel="noopener noreferrer nofollow">a</a>'
        '<a href="https://ok.example" target="_blank" rel="noopener noreferrer nofollow">ok</a></p>'
    )
    # the second wall alone also refuses what the first one unwraps
    for href in (
        "http://x.example",
        "mailto:a@b.c",
        "//evil.example/x",
        "https://u:p@evil.example",
    ):
        assert "href" not in sanitize(f'<a href="{href}" target="_top">x</a>')


@pytest.mark.parametrize(
    "markdown, shown",
    [
        ("![x](http://attacker.example/p.png)", "![x](http://attacker.example/p.png)"),
        ('![x](https://ok.example/p.png "t")', '![x](https://ok.example/p.png "t")'),
        ("[write to us](mailto:help@evil.example)", "write to us"),
        ("<mailto:help@evil.example>", "mailto:help@evil.example"),
        ("[guide](//evil.example/login)", "guide"),
        ("[guide](http://evil.example/login)", "guide"),
        ("[guide](/api/session)", "guide"),
        ("[bank](https://bank.example@evil.example/)", "bank"),
        ("[x](https:evil.example)", "x"),
    ],
)
def test_images_and_unsafe_links_render_as_text(markdown: str, shown: str) -> None:
    html = markdown_to_html(markdown)
    assert html == f"<p>{shown}</p>\n"
    assert "<a" not in html and "<img" not in html


def test_https_links_are_absolute_and_open_safely() -> None:
    html = markdown_to_html("See [the page](https://ok.example/a?b=c) and <https://ok.example>.")
    assert html.count('target="_blank" rel="noopener noreferrer nofollow"') == 2
    assert '<a href="https://ok.example/a?b=c"' in html


def test_hostile_model_answer_is_sanitised_in_the_api(tmp_path: Path, embedder: Any) -> None:
    from conftest import make_settings

    settings = make_settings(tmp_path / "home", hostile_corpus(tmp_path))
    tutor = Tutor(
        settings, index=Index(settings, embedder=embedder), chat_model=ScriptedChat(HOSTILE_ANSWER)
    )
    try:
        tutor.ingest()
        with TestClient(create_app(tutor=tutor)) as c:
            csrf(c)
            events = parse_sse(
                c.post("/api/chat", json={"message": "How do I run onboarding?", "role": CSM}).text
            )
        answer = events[-1][1]
        assert events[-1][0] == "answer" and answer["engine"] == "openai"
        assert "<script>" in "".join(
            d["text"] for e, d in events if e == "token"
        )  # raw text, streamed
        assert html_problems(answer["html"]) == []
        assert "&lt;script&gt;" in answer["html"]
        assert '<sup class="cite">' in answer["html"]
    finally:
        tutor.close()


# --- secret and rate limiter ---------------------------------------------------------------


def test_generated_secret_is_persisted_privately(shipped: Any, tmp_path: Path) -> None:
    settings = shipped.settings.model_copy(update={"secret_key": None, "home": tmp_path / "h"})
    secret = load_secret(settings)
    path = tmp_path / "h" / "secret_key"
    assert path.read_text() == secret and len(secret) >= 40
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(settings) == secret
    # a cookie from one app instance is valid in the next one (restarts keep learners)
    with TestClient(create_app(settings, tutor=shipped)) as c1:
        csrf(c1)
        c1.put("/api/progress", json={"milestone_id": QBRS, "state": "done"}).raise_for_status()
        cookie = c1.cookies[COOKIE_NAME]
    with TestClient(create_app(settings, tutor=shipped), cookies={COOKIE_NAME: cookie}) as c2:
        assert c2.get(f"/api/progress/{CSM}").json()["states"] == {QBRS: "done"}


def test_rate_limits_count_per_address_and_per_learner(shipped: Any) -> None:
    limits = RateLimits(
        shipped.settings.model_copy(update={"chat_rate_per_minute": 2, "chat_rate_per_address": 3})
    )
    limits.check("chat", "10.0.0.1", "alice")
    limits.check("chat", "10.0.0.1", "alice")
    with pytest.raises(Throttled) as err:
        limits.check("chat", "10.0.0.2", "alice")  # alice's own budget, from any address
    assert 1 <= err.value.retry_after <= 60 and err.value.status == 429
    limits.check("chat", "10.0.0.1", "bob")  # the address's third
    with pytest.raises(Throttled):
        limits.check("chat", "10.0.0.1", "carol")  # a fresh identity, the same address
    limits.check("write", "10.0.0.1", "carol")  # writes have their own budget


@pytest.mark.parametrize(
    "client, key",
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 5000), "2001:db8:1:2::/64"),  # same host, same /64
        (("::ffff:198.51.100.4", 5000), "198.51.100.4"),
        (("testclient", 50000), "testclient"),
        (None, "unknown"),
    ],
)
def test_client_address_keys(client: Any, key: str) -> None:
    assert client_address({"client": client}) == key
