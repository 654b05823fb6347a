"""`tutor serve --workers 2`: two processes over one data dir, learners spread across them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_support import free_port, parse_sse

from tutor.settings import PROJECT_ROOT

MILESTONES = ["csm-m-run-10-qbrs", "csm-m-health-framework-adopted", "csm-m-strategic-upsell"]


def _group(pgid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


@pytest.fixture
def two_workers(shipped: Any, tmp_path: Path) -> Any:
    """A copy of the shipped index served by `tutor serve --workers 2` in its own process group."""
    shipped.index.db.execute("pragma wal_checkpoint(truncate)")
    home = tmp_path / "home"
    shutil.copytree(shipped.settings.home, home)
    port = free_port()
    env = {
        **os.environ,
        "TUTOR_HOME": str(home),
        "TUTOR_CORPUS": str(shipped.settings.corpus_dir),
        "TUTOR_ENGINE": "offline",
        "TUTOR_CHAT_RATE": "1000",
        "OPENAI_API_KEY": "",
        "OPENAI_BASE_URL": "",
    }
    env.pop("TUTOR_CHROMA_URL", None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutor.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        yield base, proc, tmp_path / "server.log"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_learners_across_two_workers_lose_nothing(two_workers: Any) -> None:
    base, proc, log = two_workers
    assert len(_group(proc.pid)) >= 3  # the supervisor and two workers

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
