"""The model path: the same knowledge as the offline engine, put in front of a chat model.

The prompt holds the profile facts the offline plan picked and the passages behind them plus
the retrieved ones, every one JSON-encoded between two fence lines with a random marker: a
guide that writes "SYSTEM: ..." or closes a block cannot forge the prompt's framing, because
inside a JSON string its quotes and newlines are escaped and it cannot guess the marker.
Nothing from a guide goes into the system message. The answer is then checked like any other:
unknown citations dropped, a figure its cited passage lacks removed, foreign links removed.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Generator
from typing import Any

from .citations import Answer, Citation, check_answer, strip_foreign_links
from .errors import ConfigError, LLMError
from .llm import ChatModel
from .plans import Learner
from .prompts import Budget, render
from .settings import Settings

MAX_WORDS = 200
_DECLINE = re.compile(
    r"\b(don't|do not|doesn't|does not|no|can't|cannot|won't)\b.{0,60}"
    r"\b(cover|give|say|mention|include|advice|guess)",
    re.I,
)


def _fact_line(n: int, fact: Any) -> str:
    data = fact.model_dump(exclude={"cite"}, exclude_none=True, exclude_defaults=True)
    return json.dumps({"passage": n, **data}, ensure_ascii=False)


def _passage_line(c: Citation) -> str:
    return json.dumps(
        {
            "n": c.n,
            "title": c.title,
            "heading": c.heading,
            "source": c.source,
            "as_of": c.as_of,
            "text": c.text,
        },
        ensure_ascii=False,
    )


def _learner_line(learner: Learner, progress: str) -> str:
    data = {
        "background": learner.background,
        "hours_per_week": learner.hours,
        "milestones_done": learner.done or None,
        "progress": progress or None,
    }
    data = {k: v for k, v in data.items() if v}
    return json.dumps(data, ensure_ascii=False) if data else ""


def build_messages(
    settings: Settings,
    question: str,
    citations: dict[int, Citation],
    facts: list[tuple[int, Any]],
    learner: Learner,
    progress: str,
    history: list[dict[str, str]],
) -> tuple[list[dict[str, str]], dict[int, Citation]]:
    """Fit system, history, data and question into the window; return the passages kept."""
    budget = Budget(settings.context_window, settings.max_output_tokens, settings.openai_model)
    fence = f"-----DATA {secrets.token_hex(8)}-----"
    system = render(settings.prompts_dir, "system", max_words=MAX_WORDS)
    turns = list(history)
    kept = dict(citations)

    def assemble() -> list[dict[str, str]]:
        user = render(
            settings.prompts_dir,
            "answer",
            fence=fence,
            learner=_learner_line(learner, progress),
            facts=[_fact_line(n, f) for n, f in facts if n in kept],
            passages=[_passage_line(c) for c in kept.values()],
            question=question,
            max_words=MAX_WORDS,
        )
        return [{"role": "system", "content": system}, *turns, {"role": "user", "content": user}]

    messages = assemble()
    while budget.count(messages) > budget.prompt_limit and turns:
        turns = turns[2:]  # the oldest question and its answer go together
        messages = assemble()
    while budget.count(messages) > budget.prompt_limit and len(kept) > 1:
        kept.pop(max(kept))  # the last-added passage is the least needed
        messages = assemble()
    if budget.count(messages) > budget.prompt_limit:
        raise ConfigError(
            f"The prompt does not fit a {budget.context_window}-token context window.",
            "Raise TUTOR_CONTEXT_WINDOW or lower TUTOR_MAX_OUTPUT_TOKENS.",
        )
    return messages, kept


def stream_answer(
    model: ChatModel,
    messages: list[dict[str, str]],
    sources: dict[int, Citation],
    max_tokens: int,
    question: str,
) -> Generator[str, None, Answer]:
    """Yield text deltas; return the checked Answer (raise LLMError when it can't be verified)."""
    parts: list[str] = []
    for delta in model.stream(messages, max_tokens):
        parts.append(delta)
        yield delta
    raw = "".join(parts).strip()
    body, cites, removed = check_answer(raw, sources)
    body, dropped = strip_foreign_links(body, cites, question)
    removed += dropped
    declined = not cites and bool(_DECLINE.search(body))
    if not body or (not cites and not declined):
        raise LLMError("The model's answer could not be verified against the guides.")
    return Answer(
        answer=body,
        citations=cites,
        abstained=declined,
        engine="openai",
        removed_sentences=removed,
    )
