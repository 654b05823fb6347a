"""Conversation state: what a conversation is about, carried from turn to turn.

"what about Germany?" after a pay question is a pay question about Germany; "and how long
would that take?" after "I'm a call center agent..." is a time question for a call center
agent. Each turn's understanding is merged into the state of the turn before, slot by slot,
never by gluing sentences together. The state is stored with each answer, so a conversation
resumed tomorrow (or on another worker process) continues where it left off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .understanding import OUT_OF_SCOPE, Understanding

# Topics whose answers depend on region and level: a new question on another topic does not
# carry "in Germany, senior" along into, say, a question about tools.
_SLOT_TOPICS = {"pay", "career_path"}


@dataclass
class State:
    role: str | None = None
    roles: list[str] = field(default_factory=list)  # covered roles named in the last question
    intents: list[str] = field(default_factory=list)
    region: str | None = None
    regions: list[str] = field(default_factory=list)
    level: str | None = None
    background: str | None = None
    about_me: str | None = None
    hours: float | None = None
    other_roles: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> State | None:
        if not data:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def resolve(
    u: Understanding,
    prev: State | None,
    page_role: str | None,
    learner_role: str | None = None,
) -> State:
    """This turn's state: what the learner said now, else what the conversation says.

    The role selected on the page is a default, not an override: a question that names a
    role (or a job title the guides don't cover) is about that role.
    """
    prev = prev or State()
    followup = u.followup or not u.intents
    intents = list(u.intents) or (list(prev.intents) if followup else [])
    if u.refers_back and "compare" in prev.intents and intents and intents != ["compare"]:
        # "ok and which one is less stressful?" after comparing two roles' pay: the same two
        # roles, compared on what this turn asks
        intents = ["compare", *(i for i in intents if i != "compare")]
        followup = True
    elif u.refers_back and prev.intents and intents and not set(intents) & set(prev.intents):
        # "which one should i learn first?" after "what tools do CSMs use?" is about tools:
        # the words point back at the last answer, whatever kind of question they sound like
        intents = list(prev.intents)
        followup = True
    # a follow-up that only names a role ("same for support managers?") keeps the topic
    if u.roles:
        role = u.roles[0]
    elif (u.other_roles or u.related) and _asks_about_role(intents):
        role = None  # "how much does a product manager make?": not the page's role
    else:
        role = prev.role if (followup and prev.role) else (page_role or prev.role or learner_role)
    carry = followup or bool(set(intents) & _SLOT_TOPICS & set(prev.intents))
    new_topic = not followup and not (set(intents) & set(prev.intents))
    region = u.region or (prev.region if carry or not new_topic else None)
    regions = list(u.regions) or ([region] if region else [])
    level = u.level or (prev.level if carry else None)
    if u.level and not (set(intents) & (_SLOT_TOPICS | {"time"})):
        level = u.level if followup else None  # "what matters the most" names no pay level
    other = list(u.other_roles) if (u.other_roles or not followup) else list(prev.other_roles)
    related = list(u.related) if (u.related or not followup) else list(prev.related)
    return State(
        role=role,
        roles=list(u.roles) or (list(prev.roles) if followup else []),
        intents=intents,
        region=region,
        regions=regions,
        level=level,
        background=u.background or (None if u.about_me else prev.background),
        about_me=u.about_me or prev.about_me,
        hours=u.hours or prev.hours,
        other_roles=other,
        related=related,
    )


def _asks_about_role(intents: list[str]) -> bool:
    """Intents whose answer is a fact about a role (pay, skills...), not about the learner."""
    return bool(intents) and not set(intents) <= {
        "next",
        "greeting",
        "interview",
        "portfolio",
        "switch",
        *OUT_OF_SCOPE,
    }
