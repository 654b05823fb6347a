"""What the learner sees when the model fails, and what the log keeps (secrets redacted).

An upstream error can carry anything the gateway chose to echo, including the request's
Authorization header: its text goes to the log, with keys masked, never to the learner.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from .errors import LLMError

log = logging.getLogger("tutor.llm")

MASK = "[redacted]"
_PATTERNS = [
    # "Authorization: Bearer abc", "'authorization': 'Basic abc'", "x-api-key=abc"
    re.compile(
        r"(?i)((?:proxy-)?authorization|x-api-key|api[_-]?key)(['\"]?\s*[:=]\s*['\"]?)"
        r"(?:(?:bearer|basic|token)\s+)?[^\s'\",;}]+"
    ),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"),  # OpenAI-style keys wherever they appear
]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with the given secrets and anything shaped like a credential masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _PATTERNS[2].sub(MASK, text)


def model_unavailable(exc: LLMError, secrets: Iterable[str | None], what: str = "answer") -> str:
    """Log why the model failed (redacted) and return the generic notice the learner gets."""
    detail = exc.message
    cause = exc.__cause__
    if cause is not None:
        detail += f" ({type(cause).__name__}: {cause})"
    log.warning("language model unavailable, using the offline engine: %s", redact(detail, secrets))
    return f"The language model was unavailable, so this {what} comes from the offline engine."
