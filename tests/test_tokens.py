"""tiktoken is used when its encoding is cached, and estimated (one warning) when it is not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tutor import tokens
from tutor.settings import PROJECT_ROOT

SHARED_CACHE = PROJECT_ROOT.parent / "shared" / "tiktoken-cache"


@pytest.fixture
def fresh_tokens(monkeypatch: pytest.MonkeyPatch):
    tokens._encoding.cache_clear()
    monkeypatch.setattr(tokens, "_warned", False)
    yield tokens
    tokens._encoding.cache_clear()


def test_without_encoding_it_warns_once_and_estimates(
    fresh_tokens, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        tokens, "_cache_dirs", lambda: [tmp_path]
    )  # an empty cache: nothing to load
    with caplog.at_level(logging.WARNING, logger="tutor.tokens"):
        a = fresh_tokens.count_tokens("Customer Success Managers own renewals and expansion.")
        b = fresh_tokens.count_tokens("A second call must not warn again.", "gpt-4o-mini")
    assert a == tokens.estimate_tokens("Customer Success Managers own renewals and expansion.")
    assert b > 0
    warnings = [r.getMessage() for r in caplog.records if "not cached" in r.getMessage()]
    assert len(warnings) == 1
    # the warning says how to fix it, not just what is wrong
    for words in ("TIKTOKEN_CACHE_DIR", "cl100k_base", "o200k_base", "shared/tiktoken-cache"):
        assert words in warnings[0], words
    assert not fresh_tokens.have_tiktoken()


def test_corrupt_cache_file_does_not_crash(
    fresh_tokens, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"  # cl100k_base under tiktoken's cache name
    (tmp_path / key).write_text("this is not an encoding")
    monkeypatch.setattr(tokens, "_cache_dirs", lambda: [tmp_path])
    import tiktoken.registry

    # tiktoken keeps encodings loaded by earlier tests; start from none
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    assert fresh_tokens.count_tokens("hello world", "gpt-4") == tokens.estimate_tokens(
        "hello world"
    )


@pytest.mark.skipif(
    not SHARED_CACHE.is_dir(), reason="../shared/tiktoken-cache is not beside the checkout"
)
def test_cached_encoding_is_used(fresh_tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_cache_dirs", lambda: [SHARED_CACHE])
    assert fresh_tokens.have_tiktoken("gpt-4o-mini")
    assert fresh_tokens.count_tokens("hello world", "gpt-4o-mini") == 2
    assert fresh_tokens.count_tokens("hello world", "gpt-4") == 2


def test_encoding_choice_by_model() -> None:
    assert tokens.encoding_name_for("gpt-4o-mini") == "o200k_base"
    assert tokens.encoding_name_for("llama3.1:8b") == "cl100k_base"


@pytest.mark.skipif(
    not SHARED_CACHE.is_dir(), reason="../shared/tiktoken-cache is not beside the checkout"
)
def test_chunks_do_not_depend_on_tiktoken_being_cached(
    fresh_tokens, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, embedder
) -> None:
    """Same chunk ids either way, so eval numbers match on machines without the cache."""
    import tiktoken.registry
    from conftest import make_settings

    from tutor.index import Index

    ix = Index(make_settings(tmp_path / "home"), embedder=embedder)
    docs, _ = ix.load()
    monkeypatch.setattr(tokens, "_cache_dirs", lambda: [SHARED_CACHE])
    assert tokens.have_tiktoken()
    with_cache = [c.id for c in ix.chunk(docs)[0]]
    fresh_tokens._encoding.cache_clear()
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.setattr(tokens, "_cache_dirs", lambda: [tmp_path / "empty"])
    assert not tokens.have_tiktoken()
    assert [c.id for c in ix.chunk(docs)[0]] == with_cache
    ix.close()


def test_checking_for_the_tiktoken_file_does_not_load_it() -> None:
    """An unchanged re-ingest asks only whether the file is there (loading it costs seconds)."""
    from tutor import tokens

    tokens._encoding.cache_clear()
    try:
        cached = tokens.tiktoken_cached()
        assert tokens._encoding.cache_info().currsize == 0  # nothing was loaded
        assert cached == tokens.have_tiktoken()
    finally:
        tokens._encoding.cache_clear()
