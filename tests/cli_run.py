"""Run the real `tutor` command in-process, configured only through its environment.

Settings come from TUTOR_HOME / TUTOR_CORPUS exactly as in a shell; the one thing shared with
the test session is the already-loaded embedder, so no test loads a second MiniLM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tutor import cli
from tutor.settings import get_settings


def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    embedder: Any,
    home: Path,
    corpus: Path,
    *args: str,
    input: str | None = None,
    terminal: dict[str, str] | None = None,
) -> Result:
    monkeypatch.setattr("tutor.index.make_embedder", lambda settings: embedder)
    env = {
        "TUTOR_HOME": str(home),
        "TUTOR_CORPUS": str(corpus),
        # whatever the developer's shell has, this run is local and offline
        "TUTOR_ENGINE": "offline",
        "TUTOR_CHROMA_URL": None,
        "TUTOR_COLLECTION": None,
        "TUTOR_EMBEDDER": None,
        "TUTOR_CHUNK_TOKENS": None,
        "OPENAI_API_KEY": None,
        "OPENAI_BASE_URL": None,
        # the terminal rich sees: none (a pipe) unless the test asks for one
        "TTY_COMPATIBLE": None,
        "TTY_INTERACTIVE": None,
        "FORCE_COLOR": None,
        "COLUMNS": None,
        "LINES": None,
        **(terminal or {}),
    }
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli.main, list(args), env=env, input=input, catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()


def json_out(result: Result) -> Any:
    return json.loads(result.stdout)
