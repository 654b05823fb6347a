"""`tutor serve --workers 2`: two processes over one data dir, learners spread across them."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_support import free_port, parse_sse

from web.bench_web import group_pids, start_server, stop_server

MILESTONES = ["csm-m-run-10-qbrs", "csm-m-health-framework-adopted", "csm-m-strategic-upsell"]


@pytest.fixture
def two_workers(shipped: Any, tmp_path: Path) -> Any:
    """A copy of the shipped index served by `tutor serve --workers 2` in its own process group."""
    shipped.index.db.execute("pragma wal_checkpoint(truncate)")
    home = tmp_path / "home"
    shutil.copytree(shipped.settings.home, home)
    port = free_port()
    proc = start_server(home, port, workers=2, env_extra={"TUTOR_CHAT_RATE": "1000"}, ingest=False)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, proc, home / "server.log"
    finally:
        stop_server(proc)


@pytest.mark.slow
def test_learners_across_two_workers_lose_nothing(two_workers: Any) -> None:
    base, proc, log = two_workers
    assert len(group_pids(proc.pid)) >= 3  # the supervisor and two workers

    def learner(i: int) -> tuple[int, str]:
        with httpx.Client(base_url=base, timeout=60) as c:
            c.get("/").raise_for_status()
            c.headers["X-CSRF-Token"] = c.get("/api/session").json()["csrf_token"]
            r = c.post("/api/chat", json={"message": "How much does a CSM earn in Germany?"})
            r.raise_for_status()
            names = [name for name, _ in parse_sse(r.text)]
            assert names[0] == "meta" and names[-1] == "answer", names
            m = MILESTONES[i % 3]
            c.put("/api/progress", json={"milestone_id": m, "state": "done"}).raise_for_status()
            got = c.get("/api/progress/customer-success-manager").json()["states"]
            assert got == {m: "done"}, got
            convs = c.get("/api/conversations").json()
            assert len(convs) == 1
            return i, convs[0]["id"]

    with ThreadPoolExecutor(12) as pool:
        done = list(pool.map(learner, range(24)))
    assert len({cid for _, cid in done}) == 24
    assert "database is locked" not in log.read_text(errors="replace")


def test_workers_must_be_a_positive_count() -> None:
    from click.testing import CliRunner

    from tutor.cli import main

    r = CliRunner().invoke(main, ["serve", "--workers", "0"])
    assert r.exit_code == 2 and "--workers" in r.output


@pytest.mark.slow
@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs CPU affinity and 2+ CPUs",
)
def test_the_load_test_can_keep_the_server_off_its_clients_cpu(
    shipped: Any, tmp_path: Path
) -> None:
    """evals/bench_load.py --pin: the server and its workers run on the CPUs given, so the
    load client's share of the machine is not counted as server latency."""
    shipped.index.db.execute("pragma wal_checkpoint(truncate)")
    home = tmp_path / "home"
    shutil.copytree(shipped.settings.home, home)
    cpu = min(os.sched_getaffinity(0))
    proc = start_server(home, free_port(), workers=1, ingest=False, cpus={cpu})
    try:
        pids = group_pids(proc.pid)
        assert pids and all(os.sched_getaffinity(p) == {cpu} for p in pids)
    finally:
        stop_server(proc)
