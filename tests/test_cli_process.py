"""The `tutor` command as a process: what a cold start imports, and how it ends.

`entry()` skips the interpreter's teardown after a read-only command has printed everything
(0.3 s of a cold `tutor search`); these tests run real processes to show nothing is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tutor.tutor import Tutor

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Runs the console script's entry point; an atexit hook shows whether the teardown ran.
RUN_ENTRY = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('TEARDOWN', file=sys.stderr))\n"
    "sys.argv = ['tutor', *sys.argv[1:]]\n"
    "from tutor.cli import entry\n"
    "entry()\n"
)


def _tutor(home: Tutor, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TUTOR_HOME": str(home.settings.home),
        "TUTOR_ENGINE": "offline",
        "TUTOR_CORPUS": str(home.settings.corpus_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    return subprocess.run(
        [sys.executable, "-c", RUN_ENTRY, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_a_read_only_command_prints_everything_then_skips_the_teardown(shipped: Tutor) -> None:
    r = _tutor(shipped, "search", "csm pay in germany", "-k", "3", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    hits = json.loads(r.stdout)  # the whole JSON document reached the pipe
    assert len(hits) == 3
    assert "TEARDOWN" not in r.stderr


@pytest.mark.slow
def test_an_error_exits_the_ordinary_way_with_its_code(shipped: Tutor) -> None:
    r = _tutor(shipped, "search", "   ")
    assert r.returncode == 2
    assert "The search query is empty." in r.stderr
    assert "TEARDOWN" in r.stderr


@pytest.mark.slow
def test_what_a_fast_exit_wrote_is_there_for_the_next_reader(shipped: Tutor) -> None:
    learner = "fast-exit-check"
    try:
        r = _tutor(shipped, "ask", "how long does it take to become a csm?", "--learner", learner)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "TEARDOWN" not in r.stderr
        milestone = shipped.roadmaps()["customer-success-manager"].milestones[0].id
        r = _tutor(
            shipped,
            "progress",
            "--learner",
            learner,
            "--role",
            "customer-success-manager",
            "done",
            milestone,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        assert "TEARDOWN" not in r.stderr
        # read back by this process from the same SQLite file
        convs = shipped.conversations(learner)
        assert convs and shipped.conversation(learner, convs[0]["id"])["messages"]
        states = shipped.progress(learner, "customer-success-manager")["states"]
        assert states == {milestone: "done"}
    finally:
        shipped.delete_learner(learner)  # the shipped index is shared: leave it as found


@pytest.mark.slow
def test_a_cold_search_imports_neither_the_composer_nor_every_profile(shipped: Tutor) -> None:
    """Understanding and composing (coach, compose, jinja2) and the role profiles are 0.3 s
    of imports and loading that a search never uses."""
    code = (
        "import sys\n"
        "from tutor.cli import main\n"
        "try:\n"
        "    main(['search', 'csm pay in bangalore', '-k', '2', '--json'], standalone_mode=False)\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('LOADED', sorted(m for m in ('tutor.coach', 'tutor.compose', 'jinja2',\n"
        "    'tutor.profiles', 'torch') if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "TUTOR_HOME": str(shipped.settings.home),
        "TUTOR_ENGINE": "offline",
        "TUTOR_CORPUS": str(shipped.settings.corpus_dir),
    }
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out: Any = r.stdout.strip().splitlines()
    assert "LOADED []" in out, r.stdout[-800:]
    # the region hint still works from the taxonomy alone: Bangalore is searched as India
    assert "India" in r.stdout
