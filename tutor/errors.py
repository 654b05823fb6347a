"""A small error hierarchy, mapped to HTTP status and CLI exit code in one place."""

from __future__ import annotations


class TutorError(Exception):
    """Every error a learner or maintainer can cause. ``hint`` says what to do about it."""

    status = 500
    exit_code = 1
    code = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str | None]:
        return {"error": self.code, "message": self.message, "hint": self.hint}

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(TutorError):
    """The request itself is wrong: empty, too long, malformed."""

    status = 400
    exit_code = 2
    code = "bad_input"


class NotFound(TutorError):
    """An unknown role, milestone, learner or conversation."""

    status = 404
    exit_code = 3
    code = "not_found"


class CorpusError(TutorError):
    """A corpus file that cannot be ingested (empty, binary, undecodable, too large, unreadable)."""

    status = 422
    exit_code = 4
    code = "bad_corpus_file"


class IndexNotReady(TutorError):
    status = 503
    exit_code = 5
    code = "index_not_ready"

    def __init__(self, message: str = "The guide index is empty.", hint: str | None = None) -> None:
        super().__init__(message, hint or "Run `tutor ingest` first.")


class ConfigError(TutorError):
    status = 500
    exit_code = 6
    code = "bad_config"


class LLMError(TutorError):
    """The model endpoint failed; callers fall back to the offline engine."""

    status = 502
    exit_code = 7
    code = "llm_unavailable"


class RateLimited(TutorError):
    status = 429
    exit_code = 8
    code = "rate_limited"


class Forbidden(TutorError):
    status = 403
    exit_code = 9
    code = "forbidden"


class LimitReached(TutorError):
    """A per-learner storage cap (conversations) is full."""

    status = 409
    exit_code = 10
    code = "limit_reached"


class PortInUse(TutorError):
    """`tutor serve` cannot listen: the port is taken or out of range."""

    status = 500
    exit_code = 11
    code = "port_unavailable"


def exit_code_for(exc: BaseException) -> int:
    """CLI exit code: 1 for anything unexpected."""
    return exc.exit_code if isinstance(exc, TutorError) else 1
