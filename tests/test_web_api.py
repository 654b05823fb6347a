"""The JSON API and the page, through FastAPI's TestClient (httpx) over the real Tutor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import app_for, csrf, parse_sse

from tutor.tutor import WORDS_PER_EVENT
from web.render import markdown_to_html

pytestmark = pytest.mark.slow

CSM = "customer-success-manager"


@pytest.fixture
def app(shipped: Any) -> Any:
    # Each test's clients get fresh cookies, i.e. fresh learners: shipped's guides are shared,
    # its learner data is not.
    return app_for(shipped)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        csrf(c)
        yield c


def chat(client: TestClient, message: str, **body: Any) -> list[tuple[str, Any]]:
    r = client.post("/api/chat", json={"message": message, **body})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return parse_sse(r.text)


# --- page, static, health ---------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "engine": "offline", "roles": 2}
    assert "set-cookie" not in r.headers  # probes do not mint learners


def test_page_renders_roles_and_has_no_inline_code(app: Any) -> None:
    with TestClient(app) as c:
        r = c.get("/")
    assert r.status_code == 200
    html = r.text
    assert 'value="customer-success-manager"' in html
    assert re.search(r'<meta name="csrf-token" content="[0-9a-f]{64}">', html)
    assert "tutor_learner=" in r.headers["set-cookie"]
    # CSP: no inline scripts, handlers or styles; assets are local and versioned
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all('src="/static/' in tag for tag in scripts)
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert re.search(r'href="/static/app\.css\?v=[0-9a-f]{10}"', html)


def test_static_assets_are_small_and_cached(client: TestClient) -> None:
    total = len(client.get("/").content)
    for name, ctype in [("app.js", "javascript"), ("app.css", "text/css"), ("favicon.svg", "svg")]:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and ctype in r.headers["content-type"]
        assert "max-age" in r.headers["cache-control"]
        total += len(r.content)
    assert total < 100_000


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    r = client.get("/api/nope")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/api/chat",
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/progress",
        "/api/progress/{role}",
        "/api/roles",
        "/api/roadmap/{role}",
        "/api/next",
        "/api/session",
        "/healthz",
    ]:
        assert path in paths, path
    assert "text/event-stream" in paths["/api/chat"]["post"]["responses"]["200"]["content"]
    schemas = spec["components"]["schemas"]
    assert {"ChatIn", "AnswerOut", "CitationOut", "ProgressOut", "ProgressIn", "ErrorOut"} <= set(
        schemas
    )
    assert "html" in schemas["AnswerOut"]["properties"]


# --- guides and roadmap -----------------------------------------------------------------------


def test_roles_and_roadmap(client: TestClient) -> None:
    roles = client.get("/api/roles").json()
    assert {r["slug"] for r in roles} == {CSM, "customer-support-manager"}
    rm = client.get(f"/api/roadmap/{CSM}").json()
    assert rm["role"] == CSM and len(rm["phases"]) == 3
    assert all(m["id"] and m["title"] for p in rm["phases"] for m in p["milestones"])
    r = client.get("/api/roadmap/astronaut")
    assert r.status_code == 404
    assert set(r.json()) == {"error", "message", "hint"}


def test_progress_round_trip_and_undo(client: TestClient) -> None:
    p = client.get(f"/api/progress/{CSM}").json()
    assert p["done"] == 0 and p["total"] == 9 and p["states"] == {}
    assert "learner" not in p  # the id stays inside the signed cookie
    p = client.put(
        "/api/progress", json={"milestone_id": "csm-m-run-10-qbrs", "state": "done"}
    ).json()
    assert p["done"] == 1 and p["states"] == {"csm-m-run-10-qbrs": "done"}
    assert client.get(f"/api/progress/{CSM}").json()["states"] == {"csm-m-run-10-qbrs": "done"}
    p = client.put(
        "/api/progress", json={"milestone_id": "csm-m-run-10-qbrs", "state": None}
    ).json()
    assert p["done"] == 0 and p["states"] == {}


def test_progress_rejects_bad_input(client: TestClient) -> None:
    r = client.put("/api/progress", json={"milestone_id": "csm-m-run-10-qbrs", "state": "finished"})
    assert r.status_code == 400 and r.json()["error"] == "bad_input"
    r = client.put("/api/progress", json={"milestone_id": "no-such-milestone", "state": "done"})
    assert r.status_code == 404
    r = client.put(
        "/api/progress", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400


def test_next_steps_use_the_progress_the_sidebar_shows(client: TestClient) -> None:
    for mid in ("csm-m-run-10-qbrs", "csm-m-health-framework-adopted"):
        client.put("/api/progress", json={"milestone_id": mid, "state": "done"}).raise_for_status()
    assert client.put("/api/hours", json={"hours_per_week": 5}).json() == {"hours_per_week": 5}
    sidebar = client.get(f"/api/progress/{CSM}").json()
    assert sidebar["done"] == 2 and sidebar["hours_per_week"] == 5

    a = client.post("/api/next", json={"role": CSM}).json()
    assert a["intent"] == "next" and not a["abstained"]
    mine = [c for c in a["citations"] if c["kind"] == "progress"]
    assert mine and f"{sidebar['done']} of {sidebar['total']} milestones done" in mine[0]["text"]
    assert "Run at least 10 QBRs" not in a["answer"]  # done: not suggested again
    assert f'href="#fn-{a["anchor"]}-1"' in a["html"]


def test_next_steps_are_kept_in_the_conversation(client: TestClient) -> None:
    a = client.post("/api/next", json={"role": CSM}).json()
    conv = a["conversation_id"]
    assert conv  # a new conversation when the page had none
    b = client.post("/api/next", json={"role": CSM, "conversation_id": conv}).json()
    assert b["conversation_id"] == conv
    kept = client.get(f"/api/conversations/{conv}").json()
    senders = [m["sender"] for m in kept["messages"]]
    assert senders == ["user", "assistant", "user", "assistant"]  # survives a reload
    assert kept["messages"][1]["answer"]["intent"] == "next"


# --- chat -------------------------------------------------------------------------------------


def test_chat_streams_meta_tokens_then_a_cited_answer(client: TestClient) -> None:
    events = chat(client, "How much does a CSM earn in Germany?", role=CSM)
    names = [e for e, _ in events]
    assert names[0] == "meta" and names[-1] == "answer"
    assert set(names[1:-1]) == {"token"}
    # streamed in pieces of a few words, not one blob (nor one event per word: each event is a
    # hop through the server's thread pool)
    pieces = [d["text"] for e, d in events if e == "token"]
    assert len(pieces) >= 3 and all(len(p.split()) <= WORDS_PER_EVENT for p in pieces)
    meta, answer = events[0][1], events[-1][1]
    assert meta["conversation_id"] and meta["role"] == CSM
    tokens = "".join(d["text"] for e, d in events if e == "token")
    assert tokens.strip() == answer["answer"].strip()
    assert not answer["abstained"] and answer["citations"]
    c = answer["citations"][0]
    assert c["n"] == 1 and c["text"] and c["title"] and c["heading"] and c["as_of"]
    assert c["chunk_id"] in {p["id"] for p in answer["passages"]}
    assert "63,300" in answer["answer"]
    assert f'<sup class="cite"><a href="#fn-{answer["anchor"]}-1"' in answer["html"]
    numbers = [c["n"] for c in answer["citations"]]
    assert answer["html"] == markdown_to_html(answer["answer"], numbers, answer["anchor"])


def test_abstention_is_flagged(client: TestClient) -> None:
    answer = chat(client, "How do I bake sourdough bread?", role=CSM)[-1][1]
    assert answer["abstained"] is True
    assert answer["citations"] == []
    assert "sup" not in answer["html"]


def test_conversations_list_create_and_follow_up(client: TestClient) -> None:
    assert client.get("/api/conversations").json() == []
    first = chat(client, "How long does it take to become a CSM?", role=CSM)
    cid = first[0][1]["conversation_id"]
    follow = chat(client, "And what does it pay in the US?", conversation_id=cid)
    assert follow[0][1]["conversation_id"] == cid
    assert follow[-1][1]["conversation_id"] == cid

    empty = client.post("/api/conversations", json={"role": CSM})
    assert empty.status_code == 201
    listed = client.get("/api/conversations").json()
    assert [c["id"] for c in listed] == [empty.json()["id"], cid]  # newest first
    assert listed[1]["title"] == "How long does it take to become a CSM?"

    conv = client.get(f"/api/conversations/{cid}").json()
    assert [m["sender"] for m in conv["messages"]] == ["user", "assistant"] * 2
    stored = conv["messages"][1]["answer"]
    assert stored["anchor"] == "m1" and 'href="#fn-m1-1"' in stored["html"]
    assert conv["messages"][0]["answer"] is None


def test_chat_errors_before_streaming_are_json(client: TestClient) -> None:
    r = client.post("/api/chat", json={"message": "pay?", "role": "astronaut"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    r = client.post("/api/chat", json={"message": "   "})
    assert r.status_code == 400 and r.json()["error"] == "bad_input"
    r = client.post("/api/chat", json={"message": "pay?", "conversation_id": "0" * 24})
    assert r.status_code == 404
    r = client.post("/api/chat", json={"message": "pay?", "role": "Not A Slug"})
    assert r.status_code == 400
    r = client.post("/api/chat", json={"message": "pay?", "learner_id": "someone-else"})
    assert r.status_code == 400  # the learner comes from the cookie, never from the body


def test_message_length_limit(shipped: Any) -> None:
    with TestClient(app_for(shipped, max_message_chars=50)) as c:
        csrf(c)
        r = c.post("/api/chat", json={"message": "x" * 51})
        assert r.status_code == 413 and r.json()["error"] == "too_large"
        assert c.post("/api/chat", json={"message": "How much does a CSM earn?"}).status_code == 200


def test_chat_is_rate_limited_per_learner(shipped: Any) -> None:
    app = app_for(shipped, chat_rate_per_minute=2)
    with TestClient(app) as a, TestClient(app) as b:
        csrf(a)
        csrf(b)
        for _ in range(2):
            assert a.post("/api/chat", json={"message": "CSM pay in Germany?"}).status_code == 200
        r = a.post("/api/chat", json={"message": "CSM pay in Germany?"})
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert a.post("/api/next", json={"role": CSM}).status_code == 429  # the same bucket
        assert b.post("/api/chat", json={"message": "CSM pay in Germany?"}).status_code == 200


def test_empty_index_says_what_to_do(make_tutor: Any, tmp_path: Any) -> None:
    empty = tmp_path / "empty-corpus"
    (empty / "guides").mkdir(parents=True)
    with TestClient(app_for(make_tutor(corpus=empty))) as c:
        page = c.get("/")
        assert page.status_code == 200 and "tutor ingest" in page.text
        assert c.get("/healthz").json()["roles"] == 0
        csrf(c)
        r = c.post("/api/chat", json={"message": "How much does a CSM earn?"})
        assert r.status_code == 503
        assert r.json()["error"] == "index_not_ready" and "tutor ingest" in r.json()["hint"]


# --- found by schemathesis (tests/test_api_fuzz.py) -------------------------------------------


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    r = client.request("TRACE", "/api/conversations")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert client.request("TRACE", "/healthz").headers["allow"] == "GET"


@pytest.mark.parametrize("message", ["\r\x0b", " ", "\x1c\ufeff", "\u3000"])
def test_blank_messages_are_refused_by_the_schema(client: TestClient, message: str) -> None:
    r = client.post("/api/chat", json={"message": message})
    assert r.status_code == 400 and "message" in r.json()["message"]


def test_next_steps_need_a_role_in_the_schema(client: TestClient) -> None:
    r = client.post("/api/next", json={})
    assert r.status_code == 400 and "role" in r.json()["message"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["NextIn"]
    assert schema["required"] == ["role"]


def test_chat_events_are_documented_one_by_one(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"]["/api/chat"]["post"]
    event = op["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert event["properties"]["event"]["enum"] == ["meta", "token", "reset", "answer", "error"]
