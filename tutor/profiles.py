"""Role profiles: what the guides say about a role, as validated data.

A profile (``corpus/profiles/<role>.yaml``) restates a role's facts in fields the tutor can
reason over: pay by region and level, time to job-ready, skills in learning order, tools,
transitions, myths... Every fact names the guide section that states it (``cite``), so an
answer composed from a profile cites the passage a learner can read, and every figure in a
fact must appear in that passage: a profile can never say more than its guides.

The schema is documented in ``corpus/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import safe_yaml
from .citations import extract_numbers
from .errors import CorpusError
from .ingestion import ROLE_SLUG, Document

_CITE = re.compile(r"^\s*([a-z0-9][a-z0-9._-]*)\s*>\s*(.+?)\s*$")


class _Strict(BaseModel):
    # a misspelt key ("ammount") is an error, not silently ignored data
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict):
    """A fact and the guide section that states it: ``"<guide id> > <heading>"``."""

    cite: str
    as_of: str | None = None  # when the fact is fresher or older than its guide's as_of

    @field_validator("cite")
    @classmethod
    def _cite_form(cls, v: str) -> str:
        if not _CITE.match(v):
            raise ValueError("cite must look like '<guide id> > <section heading>'")
        return v

    @property
    def guide(self) -> str:
        m = _CITE.match(self.cite)
        assert m
        return m.group(1)

    @property
    def section(self) -> tuple[str, ...]:
        m = _CITE.match(self.cite)
        assert m
        return tuple(p.strip() for p in m.group(2).split(">"))

    def figures_text(self) -> str:
        """The text whose figures must appear in the cited section."""
        return ""

    def describe(self) -> str:
        """The fact in words, for ranking facts by their relevance to a question."""
        parts: list[str] = []
        for name in type(self).model_fields:
            # notes are for maintainers; aliases are names, not meaning ("sales" made the Sales
            # Manager entry the nearest fact to "do CSMs get commission?")
            if name in ("cite", "as_of", "note", "aliases", "slug"):
                continue
            value = getattr(self, name)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, list):
                parts.extend(str(x) for x in value if isinstance(x, str))
        return ". ".join(p for p in parts if p)


class Text(Cited):
    text: str = Field(min_length=3)

    def figures_text(self) -> str:
        return self.text


class Pay(Cited):
    region: str  # a region name from corpus/taxonomy/regions.yaml
    level: str = "all"  # a level from corpus/taxonomy/levels.yaml, or "all"
    amount: float | None = Field(default=None, gt=0)
    low: float | None = Field(default=None, gt=0)
    high: float | None = Field(default=None, gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    period: Literal["year", "month", "hour"] = "year"
    basis: Literal[
        "median", "average", "typical", "percentile-25-75", "range", "career-span", "top-10-percent"
    ]
    display: str  # the figure as the guide writes it: "$110k", "€55,000–€70,000"
    survey: str | None = None  # e.g. "Glassdoor, 31,467 salaries"
    note: str | None = None

    def figures_text(self) -> str:
        return " ".join(x for x in (self.display, self.survey or "", self.note or "") if x)


class Duration(Cited):
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)
    value: float | None = Field(default=None, ge=0)
    unit: Literal["week", "month", "year"]
    display: str  # "3–9 months"
    hours_per_week: float | None = Field(default=None, gt=0)
    who: str | None = None  # read after the figure: "from zero", "following the roadmap"
    level: str | None = None  # the seniority tier this experience leads to (taxonomy levels)
    faster_if: str | None = None  # "faster if you already work in support or sales"
    note: str | None = None  # for maintainers; never shown to learners

    def figures_text(self) -> str:
        return " ".join(
            x for x in (self.display, self.who or "", self.faster_if or "", self.note or "") if x
        )


class Time(_Strict):
    training: list[Duration] = []  # from zero to job-ready
    job_search: list[Duration] = []
    senior: list[Duration] = []  # experience before senior or strategic roles
    # what the guide says of studying faster than its plan ("does not say whether more than 10
    # hours a week gets you there sooner"): said beside any estimate scaled up from the plan
    pace_note: Text | None = None
    # what the guide says when it gives no study time at all (a role reached through work
    # experience): said instead of a course length, cited to the section that says it
    study_note: Text | None = None


class Step(Cited):
    """One stage of a learning path, in order."""

    title: str
    when: str | None = None  # "months 1–2"
    learn: list[str] = []
    practice: list[str] = []
    note: str | None = None

    def figures_text(self) -> str:
        return " ".join([self.title, self.when or "", *self.learn, *self.practice, self.note or ""])


class SkillGroup(Cited):
    name: str
    kind: Literal["technical", "soft", "mixed"]
    order: int | None = None  # learning order where the guide gives one; None = no order
    items: list[str] = Field(min_length=1)
    note: str | None = None

    def figures_text(self) -> str:
        return " ".join([*self.items, self.note or ""])


class ToolGroup(Cited):
    category: str
    items: list[str] = Field(min_length=1)
    note: str | None = None

    def figures_text(self) -> str:
        return " ".join([*self.items, self.note or ""])


class Item(Cited):
    name: str
    note: str | None = None

    def figures_text(self) -> str:
        return " ".join([self.name, self.note or ""])


class Term(Cited):
    """A word of the trade the guides explain: "NRR", "QBR", "CSAT"."""

    term: str
    meaning: str
    aliases: list[str] = []

    def figures_text(self) -> str:
        return self.meaning


class Education(_Strict):
    degrees: list[Text] = []
    certifications: list[Item] = []
    language: list[Text] = []
    other: list[Text] = []  # "a track record matters more than a degree"


class Transition(Cited):
    background: str  # "Customer support specialist"
    aliases: list[str] = []  # how learners name it: "support agent", "help desk"
    months: float | None = Field(default=None, gt=0)
    person: str | None = None  # the guide's example person, when it tells a story
    story: str | None = None
    transfers: list[str] = []
    learn_first: list[str] = []
    outcome: str | None = None

    def figures_text(self) -> str:
        return " ".join(
            [
                f"{self.months:g} months" if self.months else "",
                self.story or "",
                self.outcome or "",
                *self.transfers,
                *self.learn_first,
            ]
        )


class Project(Cited):
    name: str
    proves: str
    contents: list[str] = []

    def figures_text(self) -> str:
        return " ".join([self.name, self.proves, *self.contents])


class Portfolio(_Strict):
    projects: list[Project] = []
    tips: list[Text] = []


class DayPart(Cited):
    when: str | None = None  # "Morning (9:00 AM – 12:00 PM)"
    focus: str | None = None
    tasks: list[str] = Field(min_length=1)

    def figures_text(self) -> str:
        return " ".join([self.when or "", self.focus or "", *self.tasks])


class Myth(Cited):
    myth: str
    reality: str
    # a worry about the job's future ("AI will replace it", "a dead end"): answered with the
    # role's outlook too
    future: bool = False
    # how learners raise it ("do I need to code?"): matched with the myth itself, because the
    # embedder puts "code" nearer "AI will replace CSMs" than "you have to be a developer"
    asked_as: list[str] = []

    def figures_text(self) -> str:
        return f"{self.myth} {self.reality}"


class Outlook(Cited):
    text: str
    growth: str | None = None  # "8%", "faster than average"
    openings: str | None = None  # "about 1.1 million a year"
    source: str | None = None  # "U.S. Bureau of Labor Statistics"

    def figures_text(self) -> str:
        return " ".join([self.text, self.growth or "", self.openings or ""])


class Related(Cited):
    title: str  # "Product Manager"
    slug: str | None = None  # the role's slug when the corpus has it
    aliases: list[str] = []
    differs: str
    choose_if: str | None = None  # who should pick which
    move: str | None = None  # what the guides say about moving between the two
    shared_skills: list[str] = []

    def figures_text(self) -> str:
        return " ".join([self.differs, self.choose_if or "", self.move or ""])


class Rung(Cited):
    """One step of the career ladder: "Senior Customer Support Manager, 7–12 years"."""

    title: str
    experience: str | None = None
    summary: str | None = None

    def figures_text(self) -> str:
        return " ".join([self.experience or "", self.summary or ""])


class Fit(_Strict):
    """Is this role right for me: who it suits, its pros, cons and pressures."""

    suits: list[Text] = []
    pros: list[Text] = []
    cons: list[Text] = []
    stress: list[Text] = []


class Profile(_Strict):
    role: str
    title: str = (
        ""  # default: from the slug ("customer-success-manager" -> "Customer Success Manager")
    )
    aliases: list[str] = []
    roadmap: str | None = None  # a roadmap file in corpus/roadmaps (its `role`)
    summary: list[Text] = []
    duties: list[Text] = []
    pay: list[Pay] = []
    pay_notes: list[Text] = []  # what drives pay: who sits at the top, which employers pay most
    time: Time = Time()
    learning_path: list[Step] = []
    skills: list[SkillGroup] = []
    tools: list[ToolGroup] = []
    education: Education = Education()
    transitions: list[Transition] = []
    portfolio: Portfolio = Portfolio()
    day: list[DayPart] = []
    interview: list[Text] = []
    myths: list[Myth] = []
    outlook: list[Outlook] = []
    related: list[Related] = []
    ladder: list[Rung] = []
    fit: Fit = Fit()
    advice: list[Text] = []  # the guides' own tips and beginner mistakes
    work_setting: list[Text] = []
    source_notes: list[Text] = []  # what a guide says of its own sources: samples, chart credits
    glossary: list[Term] = []

    @field_validator("role")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not ROLE_SLUG.match(v):
            raise ValueError("role must be a slug like customer-success-manager")
        return v

    @model_validator(mode="after")
    def _title(self) -> Profile:
        if not self.title:
            object.__setattr__(
                self, "title", " ".join(w.capitalize() for w in self.role.split("-"))
            )
        return self

    def facts(self) -> Iterator[tuple[str, Cited]]:
        """Every cited fact with its field path ("pay[2]"), for validation and the model prompt."""
        yield from _walk(self, "")


def _walk(model: BaseModel, path: str) -> Iterator[tuple[str, Cited]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        if isinstance(value, Cited):
            yield here, value
        elif isinstance(value, BaseModel):
            yield from _walk(value, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Cited):
                    yield f"{here}[{i}]", item
                elif isinstance(item, BaseModel):
                    yield from _walk(item, f"{here}[{i}]")


# --- loading ------------------------------------------------------------------------------------


def _where(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_profile(path: Path) -> Profile:
    data = safe_yaml.load_mapping(path, "role profile")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CorpusError(
            f"{path}: invalid profile field '{_where(first['loc'])}': {first['msg']}{more}.",
            "See the profile schema in corpus/README.md.",
        ) from exc


def load_profiles(corpus_dir: Path) -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    folder = corpus_dir / "profiles"
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        p = load_profile(path)
        if p.role in out:
            raise CorpusError(
                f"{path}: a second profile for role '{p.role}'.", "Keep one per role."
            )
        out[p.role] = p
    return out


@dataclass(frozen=True)
class SectionText:
    guide: str
    path: tuple[str, ...]
    text: str


def _matches(section: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """A cite names the full heading path or just its last heading."""
    norm = tuple(p.casefold() for p in path)
    want = tuple(p.casefold() for p in section)
    return norm == want or (len(want) == 1 and norm[-1:] == want)


def check_profile(
    profile: Profile, sections: Sequence[SectionText], path: Path | str = "profile"
) -> list[str]:
    """Problems: cites that resolve to no section, and figures the cited section does not hold."""
    problems: list[str] = []
    by_guide: dict[str, list[SectionText]] = {}
    for s in sections:
        by_guide.setdefault(s.guide, []).append(s)
    for where, fact in profile.facts():
        found = [s for s in by_guide.get(fact.guide, []) if _matches(fact.section, s.path)]
        if fact.guide not in by_guide:
            problems.append(f"{path}: {where}.cite names guide '{fact.guide}', which is not loaded")
            continue
        if not found:
            problems.append(
                f"{path}: {where}.cite: guide '{fact.guide}' has no section "
                f"'{' > '.join(fact.section)}'"
            )
            continue
        have = {n for s in found for n in extract_numbers(s.text)}
        missing = [n for n in extract_numbers(fact.figures_text()) if n not in have]
        if missing:
            shown = ", ".join(f"{n:g}" for n in missing)
            problems.append(
                f"{path}: {where}: figure(s) {shown} are not in the cited section '{fact.cite}'"
            )
    return problems


def sections_of(docs: Sequence[Document]) -> list[SectionText]:
    return [
        SectionText(d.id, tuple(s.path) or (d.title,), s.text) for d in docs for s in d.sections
    ]


def validate_corpus(corpus_dir: Path) -> list[str]:
    """Every profile checked against the guides in ``corpus_dir`` (used by ``tutor check``)."""
    from .ingestion import discover, load_document

    docs = [load_document(p, corpus_dir) for p in discover(corpus_dir)]
    sections = sections_of(docs)
    problems: list[str] = []
    folder = corpus_dir / "profiles"
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        try:
            problems += check_profile(load_profile(path), sections, path)
        except CorpusError as exc:
            problems.append(str(exc))
    return problems


if __name__ == "__main__":  # python -m tutor.profiles [corpus dir]
    import sys

    found = validate_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus"))
    print("\n".join(found) or "profiles OK")
    sys.exit(1 if found else 0)
