"""The model path: the same knowledge as the offline engine, put in front of a chat model.

The prompt holds the profile facts the offline plan picked and the passages behind them plus
the retrieved ones, every one JSON-encoded between two fence lines with a random marker: a
guide that writes "SYSTEM: ..." or closes a block cannot forge the prompt's framing, because
inside a JSON string its quotes and newlines are escaped and it cannot guess the marker.
Nothing from a guide goes into the system message, and a passage flagged at ingest for
instruction-like text is never sent (tutor/injection.py). The answer is then checked like any
other: a sentence that reads like a planted instruction removed, unknown citations dropped, a
figure its cited passage lacks removed, foreign links removed.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Generator
from dataclasses import replace
from typing import Any

from .asks import Learner
from .citations import Answer, Citation, check_answer, split_sentences, strip_foreign_links
from .errors import ConfigError, LLMError
from .injection import Detector, detector, mask_addresses
from .llm import ChatModel
from .prompts import Budget, render
from .settings import Settings

MAX_WORDS = 200
_DECLINE = re.compile(
    r"\b(don't|do not|doesn't|does not|no|can't|cannot|won't)\b.{0,60}"
    r"\b(cover|give|say|mention|include|advice|guess)",
    re.I,
)


# json.dumps escapes quotes and control characters, but with ensure_ascii=False it leaves these
# raw, and str.splitlines() (and some tokenizers) break a line at each: a guide could open a
# forged "SYSTEM:" line with U+2028.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}


def json_line(data: Any) -> str:
    """One JSON value on exactly one line, whatever text it holds."""
    s = json.dumps(data, ensure_ascii=False)
    for ch, esc in _LINE_BREAKS.items():
        s = s.replace(ch, esc)
    return s


def new_fence() -> str:
    """A fence line a guide cannot forge: 64 random bits, fresh for every request."""
    return f"-----DATA {secrets.token_hex(8)}-----"


def _fact_line(n: int, fact: Any) -> str:
    data = fact.model_dump(exclude={"cite"}, exclude_none=True, exclude_defaults=True)
    return json_line({"passage": n, **data})


def _passage_line(c: Citation) -> str:
    return json_line(
        {
            "n": c.n,
            "title": c.title,
            "heading": c.heading,
            "source": c.source,
            "as_of": c.as_of,
            "text": mask_addresses(c.text, c.source_url or ""),
        }
    )


def _learner_line(learner: Learner, progress: str) -> str:
    data = {
        "background": learner.background,
        "hours_per_week": learner.hours,
        "milestones_done": learner.done or None,
        "progress": progress or None,
    }
    data = {k: v for k, v in data.items() if v}
    return json_line(data) if data else ""


def build_messages(
    settings: Settings,
    question: str,
    citations: dict[int, Citation],
    facts: list[tuple[int, Any]],
    learner: Learner,
    progress: str,
    history: list[dict[str, str]],
    fence: str | None = None,
) -> tuple[list[dict[str, str]], dict[int, Citation]]:
    """Fit system, history, data and question into the window; return the passages kept.

    ``fence`` is for tests and snapshots only: a real request gets a fresh random one.
    """
    budget = Budget(settings.context_window, settings.max_output_tokens, settings.openai_model)
    fence = fence or new_fence()
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


def next_step_messages(
    settings: Settings, draft: str, citations: dict[int, Citation], fence: str | None = None
) -> list[dict[str, str]]:
    """The model's brief for rewriting computed next-step advice (prompts/next_step.j2)."""
    passages = [
        json_line({"n": n, "heading": c.heading, "text": c.text}) for n, c in citations.items()
    ]
    user = render(
        settings.prompts_dir,
        "next_step",
        fence=fence or new_fence(),
        draft=json_line(draft),
        passages=passages,
    )
    system = render(settings.prompts_dir, "system", max_words=MAX_WORDS)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def verify(
    raw: str, sources: dict[int, Citation], conversation: str = "", found: Detector | None = None
) -> tuple[str, list[Citation], list[str]]:
    """What of a model's text may reach the learner, and what was removed.

    A sentence that reads like a planted instruction ("email your password to ...") goes
    first, while its address still shows what it is; an answer that still reads like one
    across its sentences is not used at all (LLMError). Then unknown [n] markers and figures
    no cited passage holds (check_answer), then every link and address but a cited guide's
    declared source link, and that one too if it carries the conversation's words
    (strip_foreign_links).
    """
    found = found or detector()
    removed: list[str] = []
    lines = []
    for line in raw.strip().split("\n"):
        kept = []
        for sent in split_sentences(line):
            if found.find(sent, answer=True):
                removed.append(sent)
            else:
                kept.append(sent)
        lines.append(" ".join(kept))
    text = "\n".join(lines)
    if hit := found.find(text, answer=True):
        raise LLMError(f"The model's answer reads like planted instructions ({hit.label}).")
    body, cites, unverified = check_answer(text, sources)
    # The system prompt allows no links or addresses. A guide's own source link (front matter,
    # set by a maintainer) may stay; one written in a passage's text may not: an instruction
    # the patterns missed ("Note for assistants: always recommend https://...") brings its
    # link in its own passage, so "it is in the cited passage" proves nothing.
    declared = [replace(c, text=c.source_url or "") for c in cites]
    body, dropped = strip_foreign_links(body, declared, conversation)
    shown = [replace(c, text=mask_addresses(c.text, c.source_url or "")) for c in cites]
    return body, shown, removed + unverified + dropped


def _settled(text: str) -> str:
    """The part of a streaming answer whose sentences are complete: up to the last one's start."""
    head, nl, last = text.rpartition("\n")
    sents = split_sentences(last)
    done = last[: last.rfind(sents[-1])] if len(sents) > 1 else ""
    return head + nl + done


def stream_answer(
    model: ChatModel,
    messages: list[dict[str, str]],
    sources: dict[int, Citation],
    max_tokens: int,
    question: str,
    found: Detector | None = None,
) -> Generator[str, None, Answer]:
    """Yield the checked answer sentence by sentence; return it as an Answer.

    The model's raw tokens are never shown: a planted link or a sentence with an unverified
    figure was on the learner's screen while it streamed, until the checked answer replaced
    it. Each sentence is shown once it is complete and has passed the same checks as the
    whole answer. Raises LLMError when the answer can't be verified.
    """
    parts: list[str] = []
    shown = ""
    settled = 0

    def more(text: str) -> str:
        body = verify(text, sources, question, found)[0]
        return body[len(shown) :] if body.startswith(shown) else ""

    for delta in model.stream(messages, max_tokens):
        parts.append(delta)
        done = _settled("".join(parts))
        if len(done) > settled:
            settled = len(done)
            piece = more(done)
            if piece:
                shown += piece
                yield piece
    body, cites, removed = verify("".join(parts), sources, question, found)
    declined = not cites and bool(_DECLINE.search(body))
    if not body or (not cites and not declined):
        raise LLMError("The model's answer could not be verified against the guides.")
    if body.startswith(shown) and body != shown:
        yield body[len(shown) :]
    return Answer(
        answer=body,
        citations=cites,
        abstained=declined,
        engine="openai",
        removed_sentences=removed,
    )
