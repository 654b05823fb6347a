"""Prompt rendering: one Jinja2 environment with StrictUndefined, and a token budget."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from .errors import ConfigError
from .retrieval import Hit
from .tokens import count_tokens

MAX_SENTENCES = 6


@lru_cache(maxsize=4)
def environment(prompts_dir: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(prompts_dir)),
        undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(prompts_dir: Path, name: str, **ctx: Any) -> str:
    try:
        return environment(prompts_dir).get_template(f"{name}.j2").render(**ctx).strip() + "\n"
    except TemplateNotFound as exc:
        raise ConfigError(f"Prompt template '{name}.j2' is missing from {prompts_dir}.") from exc


def passage_view(hit: Hit) -> dict[str, str]:
    c = hit.chunk
    return {
        "title": c.title,
        "heading": " › ".join(c.section_path),
        "source": str(c.meta.get("source", "")),
        "as_of": str(c.meta.get("as_of", "")),
        "text": c.text,
    }


def render_answer_prompt(
    prompts_dir: Path, question: str, hits: list[Hit], progress: str = ""
) -> str:
    """The user message of an answer: progress, numbered quoted passages, the question."""
    return render(
        prompts_dir,
        "answer",
        progress=progress,
        question=question,
        passages=[passage_view(h) for h in hits],
        max_sentences=MAX_SENTENCES,
    )


@dataclass
class Budget:
    """How the context window is shared: the answer's room is reserved first."""

    context_window: int
    max_output_tokens: int
    model: str

    @property
    def prompt_limit(self) -> int:
        return self.context_window - self.max_output_tokens - 64  # message framing overhead

    def count(self, messages: list[dict[str, str]]) -> int:
        return sum(count_tokens(m["content"], self.model) + 4 for m in messages)


def build_answer_messages(
    prompts_dir: Path,
    budget: Budget,
    question: str,
    hits: list[Hit],
    roles: list[str],
    progress: str = "",
    history: list[dict[str, str]] | None = None,
) -> tuple[list[dict[str, str]], list[Hit]]:
    """Fit system, history, passages and question into the window.

    The oldest history goes first, then the lowest-ranked passages; the passages that are kept
    are returned because their numbers are the citation numbers.
    """
    system = render(prompts_dir, "system", roles=roles, max_sentences=MAX_SENTENCES)
    turns: list[dict[str, str]] = list(history or [])
    kept = list(hits)

    def assemble() -> list[dict[str, str]]:
        user = render_answer_prompt(prompts_dir, question, kept, progress)
        return [{"role": "system", "content": system}, *turns, {"role": "user", "content": user}]

    messages = assemble()
    while budget.count(messages) > budget.prompt_limit and turns:
        turns = turns[2:]  # the oldest question and its answer go together
        messages = assemble()
    while budget.count(messages) > budget.prompt_limit and len(kept) > 1:
        kept.pop()
        messages = assemble()
    if budget.count(messages) > budget.prompt_limit:
        raise ConfigError(
            f"The prompt does not fit a {budget.context_window}-token context window.",
            "Raise TUTOR_CONTEXT_WINDOW or lower TUTOR_MAX_OUTPUT_TOKENS.",
        )
    return messages, kept
