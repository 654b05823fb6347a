"""Issue 10, point 1: question processing costs work linear in the question's length.

A 4,000-character question of random words once cost 40 times a normal one (difflib in the
unknown-word check). The work is counted here, not timed: the typo look-ups and the embedder
calls of a question four times as long are at most about four times as many.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from rapidfuzz import process

from tutor.tutor import Tutor


def _question(chars: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < chars:
        out.append("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    # a few clause breaks, as real run-on questions have
    for i in range(40, len(out), 40):
        out[i] += "?"
    return " ".join(out)


def _work(shipped: Tutor, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    lookups = 0
    real = process.extractOne

    def counting(*args: Any, **kw: Any) -> Any:
        nonlocal lookups
        lookups += 1
        return real(*args, **kw)

    monkeypatch.setattr(process, "extractOne", counting)
    embedder = shipped.index.embedder
    before = getattr(embedder, "embed_calls", 0)
    shipped.coach.understand(text)
    monkeypatch.setattr(process, "extractOne", real)
    return lookups, getattr(embedder, "embed_calls", 0) - before


def test_question_work_grows_linearly(shipped: Tutor, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped.coach.understand("warm up: the classifier and the fact vectors load once")
    small = _work(shipped, _question(1000, seed=1), monkeypatch)
    large = _work(shipped, _question(4000, seed=2), monkeypatch)
    print(f"\ntypo look-ups {small[0]} -> {large[0]}, embedder calls {small[1]} -> {large[1]}")
    assert small[0] > 0
    assert large[0] <= 4.5 * small[0] + 5
    assert large[1] <= 4.5 * max(small[1], 1) + 5
