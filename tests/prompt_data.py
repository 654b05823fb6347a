"""Reading the model path's prompt as the model receives it (tutor/model_answer.py).

The user message holds the reference data between two identical fence lines with a random
marker; each line between them is ``learner: {...}``, ``fact: {...}`` or ``passage: {...}``
(``draft: "..."`` in the next-step prompt), one JSON value per line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fake_openai import Reply

from tutor.citations import split_sentences

FENCE = re.compile(r"^-----DATA ([0-9a-f]{16})-----$", re.M)
LABELS = ("learner", "fact", "passage", "draft")


def user_prompt(body: dict[str, Any]) -> str:
    return [m["content"] for m in body["messages"] if m["role"] == "user"][-1]


def fence_of(prompt: str) -> str:
    """The request's marker; the data block must open and close with the same fence line."""
    marks = FENCE.findall(prompt)
    assert len(marks) == 2 and marks[0] == marks[1], f"expected one fenced block, got {marks}"
    return marks[0]


def data_lines(prompt: str) -> list[tuple[str, Any]]:
    """(label, decoded JSON) for every line between the fences; any other line fails the test."""
    fences = list(FENCE.finditer(prompt))
    fence_of(prompt)
    block = prompt[fences[0].end() : fences[1].start()]
    out = []
    for line in block.splitlines():
        if not line.strip():
            continue
        label, _, data = line.partition(": ")
        assert label in LABELS, f"a line between the fences is not data: {line[:80]!r}"
        out.append((label, json.loads(data)))
    return out


def passages_in(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The numbered passages of an answer prompt, decoded."""
    return {p["n"]: p for label, p in data_lines(user_prompt(body)) if label == "passage"}


def facts_in(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for label, f in data_lines(user_prompt(body)) if label == "fact"]


def sentences_of(body: dict[str, Any], n: int = 1) -> list[str]:
    return [s.rstrip(".") for s in split_sentences(passages_in(body)[n]["text"])]


def first_sentence(body: dict[str, Any]) -> str:
    return sentences_of(body)[0]


def echo(
    suffix: str = "", seen: list[str] | None = None, sentences: int = 1
) -> Callable[[dict[str, Any]], Reply]:
    """A model that copies the first sentences of passage [1], cites each, then adds `suffix`."""

    def step(body: dict[str, Any]) -> Reply:
        picked = sentences_of(body)[:sentences]
        if seen is not None:
            seen.extend(picked)
        return Reply(" ".join(f"{s} [1]." for s in picked) + suffix, chunk_size=8)

    return step
