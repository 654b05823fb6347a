"""Prompt rendering: one Jinja2 environment with StrictUndefined, and a token budget.

The model path builds its messages in tutor/model_answer.py; the offline answers render
prompts/answers/ through tutor/compose.py. Both use this environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from .errors import ConfigError
from .tokens import count_tokens


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
