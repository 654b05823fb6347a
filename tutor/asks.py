"""What a plan is made from and of: the learner, the resolved question (Ask) and the plan a
template renders. Kept apart so the pay plans and the other intents' plans share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Learner:
    """What the tutor knows about the person asking."""

    background: str | None = None
    about_me: str | None = None  # what they said about themselves, for matching stories
    said: str | None = None  # this message's statements only, without its questions
    hours: float | None = None  # hours a week: said in this conversation or set on the page
    hours_from: str = ""  # "question", "settings"
    done: list[str] = field(default_factory=list)  # milestone titles ticked done
    in_progress: list[str] = field(default_factory=list)
    total: int = 0
    current_phase: str | None = None
    bg_phrase: str = ""  # "as a call center agent", "in retail sales"
    bg_noun: str = ""  # "a call center agent", "retail sales"


@dataclass
class Ask:
    """The resolved question: intent and slots after the conversation state is applied."""

    intent: str
    role: str
    region: str | None = None
    regions: list[str] = field(default_factory=list)
    level: str | None = None
    other_roles: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # every covered role the question names
    text: str = ""
    delexed: str = ""  # the question with slot values taken out, for ranking facts
    clauses: list[str] = field(default_factory=list)  # the question's parts, as the learner wrote
    brief: bool = False  # one part of a multi-part answer: keep it short
    wants_first: bool = False  # "which should I learn first"
    yes_no: bool = False  # "can I move into sales later?" wants its yes or no first
    facet: str | None = None  # the part of the answer asked for first ("cons": "hardest part?")
    focus: Any = None  # the profile fact the question turns on (tutor/focus.py)
    # the question's own word stems, without function words, role names and slot values:
    # what can name one listed item ("sql" in "do i need sql for customer success")
    specific: set[str] = field(default_factory=set)


@dataclass
class Plan:
    template: str
    data: dict[str, Any]
    abstained: bool = False
