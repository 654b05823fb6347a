"""`tutor chat`: an interactive session over the real CLI, with follow-ups and /next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_run import run_cli
from conftest import CORPUS


def test_chat_session_answers_follows_up_and_advises(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, shipped: Any
) -> None:
    lines = [
        "How much does a CSM make in the US?",
        "and in Germany?",
        "/next",
        "",  # an empty line is refused with a hint, and the session goes on
        "/quit",
    ]
    home: Path = shipped.settings.home
    r = run_cli(
        monkeypatch,
        embedder,
        home,
        CORPUS,
        "chat",
        "--learner",
        "chat-cli",
        input="\n".join(lines) + "\n",
    )
    out = r.output
    assert r.exit_code == 0, out
    assert "Career Tutor (offline engine)" in out
    assert "$110k" in out and "$111,717" in out  # both US sources, with the disagreement
    assert "Germany" in out and ("€55,000" in out or "$63,300" in out)  # read as 'in Germany'
    assert "in the Customer fundamentals phase" in out  # /next
    assert "[1]" in out and "as of" in out  # footnotes with source dates
    convs = shipped.conversations("chat-cli")
    assert convs and len(shipped.conversation("chat-cli", convs[0]["id"])["messages"]) == 4
