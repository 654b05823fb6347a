"""Abuse limits that rotating identities cannot sidestep, and storage that cannot be grown for free.

The floods run against the app with its default limits, so the numbers printed (run with -s)
are the ones a deployment gets.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cli_run import json_out, run_cli
from conftest import CORPUS
from fastapi.testclient import TestClient
from web_support import app_for, csrf, parse_sse

from tutor.db import write
from tutor.tutor import Tutor

pytestmark = pytest.mark.slow

CSM = "customer-success-manager"
QBRS = "csm-m-run-10-qbrs"


def learner_rows(tutor: Any) -> int:
    return int(tutor.index.db.execute("select count(*) from learners").fetchone()[0])


def identity(app: Any, address: str = "198.51.100.7") -> TestClient:
    """A fresh client (a new cookie jar: a new learner) from ``address``."""
    c = TestClient(app, client=(address, 40000))
    csrf(c)
    return c


def test_cookieless_gets_create_no_rows_and_minting_is_limited(make_tutor: Any) -> None:
    t = make_tutor()  # no guides needed: the page says to ingest, the API reads roadmaps
    app = app_for(t)  # default limits
    paths = ["/", "/api/session", "/api/conversations", f"/api/progress/{CSM}", "/api/roles"]
    statuses: dict[int, int] = {}
    with TestClient(app, client=("198.51.100.7", 40000)) as c:
        for i in range(300):
            c.cookies.clear()
            r = c.get(paths[i % len(paths)])
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 429:
                assert "set-cookie" not in r.headers  # a refused identity is not issued
                assert int(r.headers["retry-after"]) >= 1
    print(f"\n300 cookie-less GETs from one address: {statuses}; learner rows: {learner_rows(t)}")
    assert learner_rows(t) == 0  # reading never creates a learner
    limit = t.settings.new_learners_per_hour
    assert statuses == {200: limit, 429: 300 - limit}
    # another address is not affected; /healthz never mints
    with TestClient(app, client=("203.0.113.9", 40000)) as other:
        assert other.get("/api/session").status_code == 200
    with TestClient(app, client=("198.51.100.7", 40000)) as same:
        assert same.get("/healthz").status_code == 200
    # the first write creates the row
    with TestClient(app, client=("203.0.113.9", 40000)) as writer:
        csrf(writer)
        writer.put("/api/hours", json={"hours_per_week": 6}).raise_for_status()
    assert learner_rows(t) == 1


def test_chat_flood_with_rotating_identities(shipped: Any) -> None:
    """25 fresh identities x 20 chats from one address (the attack that once got 500 through)."""
    app = app_for(shipped)
    s = shipped.settings
    accepted = refused = 0
    start = time.monotonic()
    clients = [identity(app) for _ in range(25)]
    for c in clients:
        for _ in range(20):
            r = c.post("/api/chat", json={"message": "CSM pay in Germany?"})
            if r.status_code == 200:
                accepted += 1
            else:
                assert r.status_code == 429 and r.json()["error"] == "rate_limited"
                refused += 1
        c.close()
    took = time.monotonic() - start
    print(
        f"\nchat flood, 25 identities x 20 from one address in {took:.1f} s: "
        f"{accepted} accepted, {refused} refused (limits: {s.chat_rate_per_minute}/min a learner, "
        f"{s.chat_rate_per_address}/min an address)"
    )
    assert accepted == s.chat_rate_per_address and refused == 500 - accepted
    # a learner from another address still gets through
    with identity(app, "203.0.113.9") as other:
        assert other.post("/api/chat", json={"message": "CSM pay?"}).status_code == 200


def test_write_flood_with_rotating_identities(make_tutor: Any) -> None:
    """POST /api/conversations and PUT /api/progress, which once took 3,000 each in 12 s."""
    t = make_tutor()
    app = app_for(t)
    s = t.settings
    counts = {"conversations": [0, 0], "progress": [0, 0]}
    for _ in range(20):
        with identity(app) as c:
            for i in range(50):
                if i % 2:
                    r = c.post("/api/conversations", json={})
                    key = "conversations"
                else:
                    r = c.put("/api/progress", json={"milestone_id": QBRS, "state": "done"})
                    key = "progress"
                assert r.status_code in (200, 201, 429), r.text
                counts[key][r.status_code == 429] += 1
    total = sum(a for a, _ in counts.values())
    print(
        "\nwrite flood, 20 identities x 50 from one address: "
        + ", ".join(f"{k}: {a} accepted, {r} refused" for k, (a, r) in counts.items())
        + f" (limits: {s.write_rate_per_minute}/min a learner, {s.write_rate_per_address}/min an address)"
    )
    assert total == s.write_rate_per_address
    stored = t.index.db.execute("select count(*) from conversations").fetchone()[0]
    assert stored == counts["conversations"][0]
    # one learner alone stops at its own rate
    small = app_for(t, write_rate_per_minute=5)
    with identity(small, "203.0.113.50") as c:
        codes = [c.post("/api/conversations", json={}).status_code for _ in range(8)]
    assert codes == [201] * 5 + [429] * 3


def test_conversations_per_learner_are_capped(shipped: Any) -> None:
    settings = shipped.settings.model_copy(update={"max_conversations": 3})
    t = Tutor(settings, index=shipped.index)  # the shipped guides, a cap of 3
    with identity(app_for(t)) as c:
        for _ in range(3):
            assert c.post("/api/conversations", json={}).status_code == 201
        r = c.post("/api/conversations", json={})
        assert r.status_code == 409 and r.json()["error"] == "limit_reached"
        assert "Continue" in r.json()["hint"]
        # a chat that would start a fourth is refused before streaming, as JSON
        r = c.post("/api/chat", json={"message": "CSM pay in Germany?"})
        assert r.status_code == 409 and r.headers["content-type"].startswith("application/json")
        # an existing conversation carries on
        cid = c.get("/api/conversations").json()[0]["id"]
        r = c.post("/api/chat", json={"message": "CSM pay in Germany?", "conversation_id": cid})
        assert r.status_code == 200


def test_conversation_list_is_paged(shipped: Any) -> None:
    with identity(app_for(shipped)) as c:
        made = [c.post("/api/conversations", json={}).json()["id"] for _ in range(7)]
        first = c.get("/api/conversations", params={"limit": 3}).json()
        second = c.get("/api/conversations", params={"limit": 3, "before": first[-1]["id"]}).json()
        third = c.get("/api/conversations", params={"limit": 3, "before": second[-1]["id"]}).json()
        ids = [x["id"] for x in first + second + third]
        assert len(first) == len(second) == 3 and len(third) == 1
        assert sorted(ids) == sorted(made) and len(set(ids)) == 7  # no overlap, none missing
        # newest first
        stamps = [(x["updated_at"], x["id"]) for x in first + second + third]
        assert stamps == sorted(stamps, reverse=True)
        assert len(c.get("/api/conversations").json()) == 7  # default page is 50
        assert c.get("/api/conversations", params={"limit": 0}).status_code == 400
        assert c.get("/api/conversations", params={"limit": 201}).status_code == 400
        assert c.get("/api/conversations", params={"before": "nope"}).status_code == 404
    # another learner's id as a cursor reveals nothing
    with identity(app_for(shipped)) as other:
        assert other.get("/api/conversations", params={"before": made[0]}).status_code == 404


def test_stored_exchange_keeps_citations_not_every_passage(shipped: Any) -> None:
    with identity(app_for(shipped)) as c:
        events = parse_sse(
            c.post("/api/chat", json={"message": "How much does a CSM earn in Germany?"}).text
        )
        live = events[-1][1]
        cid = live["conversation_id"]
        (stored_json,) = shipped.index.db.execute(
            "select answer from messages where conversation_id = ? and sender = 'assistant'",
            (cid,),
        ).fetchone()
        stored = json.loads(stored_json)
        full = len(json.dumps({k: v for k, v in live.items() if k not in ("html", "anchor")}))
        print(
            f"\nstored exchange: {len(stored_json)} bytes, against {full} with every passage "
            f"({len(live['passages'])} passages retrieved, {len(stored['passages'])} kept)"
        )
        cited = {x["chunk_id"] for x in live["citations"] if x["kind"] == "guide"}
        assert cited and {p["id"] for p in stored["passages"]} == cited
        assert all("text" not in p for p in stored["passages"])
        assert len(stored_json) < full
        # the page still renders the citations from the stored conversation
        conv = c.get(f"/api/conversations/{cid}").json()
        answer = conv["messages"][1]["answer"]
        assert answer["citations"] == live["citations"]
        assert '<sup class="cite">' in answer["html"]


def test_prune_forgets_idle_anonymous_learners_only(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, make_tutor: Any, tmp_path: Path
) -> None:
    home = tmp_path / "prune-home"
    t = make_tutor(home=home)
    app = app_for(t)
    with identity(app) as old, identity(app) as recent:
        old.put("/api/hours", json={"hours_per_week": 5}).raise_for_status()
        recent.put("/api/hours", json={"hours_per_week": 6}).raise_for_status()
        old_id = app.state.signer.load(old.cookies.get("tutor_learner"))
    t.set_hours("ana", 4)  # a named (CLI) learner, also long idle
    t.new_conversation(old_id)
    with write(t.index.db):
        t.index.db.execute(
            "update learners set last_seen_at = '2000-01-01T00:00:00.000+00:00' "
            "where id in (?, 'ana')",
            (old_id,),
        )
    t.close()

    r = run_cli(monkeypatch, embedder, home, CORPUS, "prune", "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    assert json_out(r) == {"idle_days": 90, "dry_run": True, "learners": 1}
    r = run_cli(monkeypatch, embedder, home, CORPUS, "prune")
    assert r.exit_code == 0 and "Forgot 1 anonymous learner" in r.stdout

    t2 = make_tutor(home=home)
    ids = {row[0] for row in t2.index.db.execute("select id from learners")}
    assert old_id not in ids and "ana" in ids and len(ids) == 2
    assert t2.index.db.execute("select count(*) from conversations").fetchone()[0] == 0
    r = run_cli(monkeypatch, embedder, home, CORPUS, "prune", "--days", "0")
    assert r.exit_code == 2  # a bad --days is a usage error
