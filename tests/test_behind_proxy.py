"""Behind a TLS-terminating proxy: Secure cookie, a passing Origin check, the real client address,
and a Host allow-list.

The proxy is simulated by the peer address of the test client (10.0.0.2 or 127.0.0.1) and the
headers nginx or Caddy add (X-Forwarded-Proto, X-Forwarded-For), with the Host they pass on.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from web_support import app_for, live_server

from web.security import COOKIE_NAME

PUBLIC = "https://tutor.example.org"
PROXY = ("10.0.0.2", 41000)
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.50"}


def through_proxy(app: Any, xff: str = "203.0.113.50") -> TestClient:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": xff}
    return TestClient(app, base_url="http://tutor.example.org", client=PROXY, headers=headers)


def test_trusted_proxy_gives_a_secure_cookie_and_the_page_can_post(shipped: Any) -> None:
    app = app_for(shipped, trusted_proxies="10.0.0.2")
    with through_proxy(app) as c:
        r = c.get("/api/session")
        assert "; Secure" in r.headers["set-cookie"]
        token = r.json()["csrf_token"]
        # what the browser sends from https://tutor.example.org: its Origin, the token, and the
        # Secure cookie (which httpx's jar keeps back from this test's plain-http URL)
        cookie = r.headers["set-cookie"].split(";")[0]
        r = c.post(
            "/api/conversations",
            json={},
            headers={
                "Origin": PUBLIC,
                "Sec-Fetch-Site": "same-origin",
                "X-CSRF-Token": token,
                "Cookie": cookie,
            },
        )
        assert r.status_code == 201, r.text


def test_untrusted_peer_cannot_claim_https_or_an_address(shipped: Any) -> None:
    app = app_for(shipped)  # TUTOR_TRUSTED_PROXIES unset: forwarded headers are ignored
    with through_proxy(app) as c:
        r = c.get("/api/session")
        assert "Secure" not in r.headers["set-cookie"]
        token = r.json()["csrf_token"]
        r = c.post("/api/conversations", json={}, headers={"Origin": PUBLIC, "X-CSRF-Token": token})
        assert r.status_code == 403  # https://... is not the origin this server sees
    # and a trusted list that does not hold this peer changes nothing either
    with through_proxy(app_for(shipped, trusted_proxies="10.9.9.9")) as c:
        assert "Secure" not in c.get("/api/session").headers["set-cookie"]


def test_rates_count_the_forwarded_address(shipped: Any) -> None:
    app = app_for(shipped, trusted_proxies="10.0.0.0/8", new_learners_per_hour=2)
    codes = {}
    for xff in ("203.0.113.50", "203.0.113.51"):
        got = []
        for _ in range(3):
            with through_proxy(app, xff=f"{xff}, 10.0.0.3") as c:  # a chain of trusted proxies
                got.append(c.get("/api/session").status_code)
        codes[xff] = got
    assert codes == {"203.0.113.50": [200, 200, 429], "203.0.113.51": [200, 200, 429]}
    # without trust, all of them are the proxy's one address
    untrusted = app_for(shipped, new_learners_per_hour=2)
    got = []
    for xff in ("203.0.113.60", "203.0.113.61", "203.0.113.62"):
        with through_proxy(untrusted, xff=xff) as c:
            got.append(c.get("/api/session").status_code)
    assert got == [200, 200, 429]


def test_proxy_headers_over_a_real_socket(shipped: Any) -> None:
    """uvicorn on 127.0.0.1 as the upstream of a local proxy, as in the README's nginx example."""
    with live_server(app_for(shipped, trusted_proxies="127.0.0.1")) as url:
        host = url.removeprefix("http://")
        with httpx.Client(base_url=url, headers={"Host": "tutor.example.org", **FORWARDED}) as c:
            r = c.get("/api/session")
            assert r.status_code == 200 and "; Secure" in r.headers["set-cookie"]
            cookie = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
            r = c.post(
                "/api/conversations",
                json={},
                headers={"Origin": PUBLIC, "X-CSRF-Token": r.json()["csrf_token"]},
                cookies={COOKIE_NAME: cookie},
            )
            assert r.status_code == 201, r.text
        assert host.startswith("127.0.0.1:")


@pytest.mark.parametrize(
    "host, status",
    [
        ("tutor.example.org", 200),
        ("www.tutor.example.org", 200),
        ("evil.example", 400),
        ("tutor.example.org.evil.example", 400),
        ("127.0.0.1:8000", 400),
    ],
)
def test_host_allow_list(shipped: Any, host: str, status: int) -> None:
    app = app_for(shipped, allowed_hosts="tutor.example.org, *.tutor.example.org")
    with TestClient(app, base_url=f"http://{host}") as c:
        r = c.get("/api/roles")
        assert r.status_code == status
        assert "content-security-policy" in r.headers  # refused or not, the headers are there


def test_any_host_by_default(shipped: Any) -> None:
    with TestClient(app_for(shipped), base_url="http://whatever.example") as c:
        assert c.get("/healthz").status_code == 200
