"""Request and response models of the JSON API (they are what /docs and /openapi.json show)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tutor.progress import MAX_HOURS, MIN_HOURS

Slug = Field(default=None, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
MilestoneState = Literal["done", "in_progress", "skipped"]
# At least one character that is not whitespace to Python's str.strip, to JSON Schema's \s or
# to pydantic's: a message of "\r\v" passed the schema and was then refused as empty.
BLANK = " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"


class _Open(BaseModel):
    """Responses pass through fields the Tutor adds later instead of dropping them."""

    model_config = ConfigDict(extra="allow")


class ErrorOut(BaseModel):
    error: str = Field(examples=["not_found"])
    message: str
    hint: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    engine: str
    roles: int = Field(description="Roles in the index; 0 means `tutor ingest` has not run.")


class SessionOut(BaseModel):
    csrf_token: str = Field(description="Send it in an X-CSRF-Token header on POST/PUT requests.")
    max_message_chars: int
    engine: str


class RoleOut(_Open):
    slug: str
    title: str
    guides: list[str] = []
    has_roadmap: bool = False


class MilestoneOut(_Open):
    id: str
    title: str
    why: str = ""
    weight: float = 1


class PhaseOut(_Open):
    id: str
    title: str
    summary: str = ""
    heading: str | None = None
    milestones: list[MilestoneOut] = []


class RoadmapOut(_Open):
    role: str
    role_title: str
    guide: str | None = None
    hours_per_week: float | None = None
    expected_months: float | None = None
    duration_note: str | None = None
    phases: list[PhaseOut] = []


class ProgressOut(_Open):
    role: str
    states: dict[str, MilestoneState] = {}
    done: int = 0
    total: int = 0
    current_phase: str | None = None
    removed: list[str] = []
    hours_per_week: float | None = None


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    milestone_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    state: MilestoneState | None = Field(description="null undoes the milestone.")


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours_per_week: float = Field(
        ge=MIN_HOURS, le=MAX_HOURS, allow_inf_nan=False, description="Hours a week, 1 to 80."
    )


class HoursOut(BaseModel):
    hours_per_week: float


class CitationOut(_Open):
    n: int
    guide: str | None = None
    title: str | None = None
    heading: str | None = None
    text: str = ""
    source: str | None = None
    source_url: str | None = None
    as_of: str | None = None
    chunk_id: str | None = None
    kind: Literal["guide", "progress"] = "guide"


class AnswerOut(_Open):
    answer: str
    citations: list[CitationOut] = []
    abstained: bool = False
    engine: str | None = None
    notice: str | None = None
    question: str | None = None
    standalone_question: str | None = None
    role: str | None = None
    intent: str | None = None
    passages: list[dict[str, Any]] = []
    conversation_id: str | None = None
    html: str = Field(
        description="The answer as sanitised HTML; [n] markers link to #fn-<anchor>-<n>."
    )
    anchor: str = Field(description="Prefix of this answer's footnote element ids.")


class ConversationOut(_Open):
    id: str
    title: str = ""
    role: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Slug


class MessageOut(_Open):
    sender: Literal["user", "assistant"]
    content: str
    answer: AnswerOut | None = None
    created_at: str | None = None


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut] = []


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(
        min_length=1,
        pattern=NOT_BLANK,
        description="At most TUTOR_MAX_MESSAGE_CHARS characters, not only whitespace.",
    )
    role: str | None = Slug
    conversation_id: str | None = Field(default=None, max_length=100)


class NextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # required: a learner who never ticked anything has no role to fall back on
    role: str = Field(max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    # the advice joins this conversation (a new one when absent), so it survives a reload
    conversation_id: str | None = Field(default=None, max_length=100)


SSE_DESCRIPTION = """A `text/event-stream` of the events of `Tutor.ask_stream`, in order:

* `meta` `{"conversation_id", "role", "standalone_question"}`
* `token` `{"text"}`, many: append as plain text
* `reset` `{"notice"}`, only if the model failed mid-answer: drop the streamed text
* `answer`: the final Answer (as in AnswerOut, with sanitised `html`), which replaces the text
* `error` `{"error", "message", "hint"}`, instead of `answer` on failure

Errors found before streaming starts (unknown role, too long, rate limited) are JSON responses
with their HTTP status instead.
"""

# One server-sent event as parsed from the stream: its name and its JSON data (as text).
SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["meta", "token", "reset", "answer", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}
