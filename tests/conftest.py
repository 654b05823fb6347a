"""Shared fixtures: the real embedder, real Chroma and real SQLite, in temporary homes."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tutor.embedding import MiniLMEmbedder
from tutor.index import Index
from tutor.settings import PROJECT_ROOT, Settings
from tutor.tutor import Tutor

CORPUS = PROJECT_ROOT / "corpus"
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
# A strong cookie key (weak ones are refused at start-up); fresh per run, like a real one.
TEST_SECRET = secrets.token_urlsafe(48)


def seed_path(prefix: str) -> Path:
    """A raw seed page by number ("000", "001", "002"); skips the test where ../shared is absent."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the checkout")
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"seed {prefix} not found")
    return found[0]


def make_settings(home: Path, corpus: Path | None = None, **overrides: Any) -> Settings:
    """Settings that ignore the developer's environment and .env (no API key leaks into tests)."""
    values: dict[str, Any] = {
        "home": home,
        "corpus_dir": corpus or CORPUS,
        "engine": "offline",
        "openai_api_key": None,
        "openai_base_url": None,
        "chroma_url": None,
        "embedder": "minilm",
        "secret_key": TEST_SECRET,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """Loading the model costs seconds: once per session."""
    return MiniLMEmbedder()


@pytest.fixture
def copy_corpus(tmp_path: Path) -> Path:
    """A private, writable copy of the shipped corpus."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture
def make_tutor(tmp_path: Path, embedder: MiniLMEmbedder) -> Iterator[Any]:
    """Build a Tutor over a given corpus in a fresh TUTOR_HOME."""
    made: list[Tutor] = []

    def factory(corpus: Path | None = None, home: Path | None = None, **overrides: Any) -> Tutor:
        settings = make_settings(home or tmp_path / f"home{len(made)}", corpus, **overrides)
        t = Tutor(settings, index=Index(settings, embedder=embedder))
        made.append(t)
        return t

    yield factory
    for t in made:
        t.close()


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Iterator[Tutor]:
    """The shipped corpus, ingested once for the whole session. Read-only use, please."""
    home = tmp_path_factory.mktemp("shipped-home")
    settings = make_settings(home)
    t = Tutor(settings, index=Index(settings, embedder=embedder))
    t.ingest()
    yield t
    t.close()


def converse(tutor: Tutor, learner: str, *questions: str) -> list[Any]:
    """Ask ``questions`` in order as one conversation of a throwaway learner (deleted after,
    so the shared index is left as found); the answers, in order."""
    try:
        tutor.ensure_learner(learner)
        conv = tutor.new_conversation(learner)["id"]
        return [tutor.ask(q, None, learner, conv) for q in questions]
    finally:
        tutor.delete_learner(learner)
