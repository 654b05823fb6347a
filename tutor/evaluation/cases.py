"""Eval cases: the JSONL schema (documented in evals/README.md), loading and validation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import PROJECT_ROOT

EVALS_DIR = PROJECT_ROOT / "evals"
# The case sets `tutor eval` runs when no SET is named, in this order.
DEFAULT_SETS = ("grounded", "conversation", "adversarial", "learners")
NOT_SETS = {"retrieval_questions", "support_labels"}  # JSONL in evals/ that holds no eval cases
CATEGORIES = (
    "pay",
    "time",
    "skills",
    "roadmap",
    "next",
    "compare",
    "conflict",
    "followup",
    "out_of_scope",
    "missing_fact",
    "injection",
    # the learners set: what a learner asks, by intent
    "start",
    "switch",
    "fit",
    "overview",
    "tools",
    "portfolio",
    "interview",
    "day",
    "myths",
    "education",
    "outlook",
    "career_path",
    "decline",
)
STATES = ("done", "in_progress", "skipped")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,47}$")
_KEYS = {
    "id",
    "category",
    "role",
    "question",
    "answerable",
    "facts",
    "forbidden",
    "gold",
    "turns",
    "progress",
    "call",
    "reference",
    "notes",
    "intents",
    "casual",
    "min_words",
    "max_words",
}


class EvalSetError(Exception):
    """A case file that cannot be used: the runner stops with exit code 2."""


@dataclass(frozen=True)
class Fact:
    fact: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Forbidden:
    pattern: str
    regex: bool
    why: str = ""

    @property
    def label(self) -> str:
        return f"/{self.pattern}/" if self.regex else repr(self.pattern)


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    question: str
    role: str | None = None
    answerable: bool | None = True  # None: answering and abstaining are both acceptable
    facts: tuple[Fact, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    gold: tuple[tuple[str, str], ...] = ()  # (guide id, heading)
    turns: tuple[str, ...] = ()  # earlier user questions, asked first in one conversation
    states: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    hours_per_week: float | None = None
    call: str = "ask"  # or "next_steps"
    reference: str | None = None
    notes: str = ""
    source: str = ""  # "file:line", for error messages
    intents: tuple[str, ...] = ()  # every intent the question asks (learners set)
    casual: bool = False  # written the way people chat
    min_words: int | None = None  # length bounds of a useful answer, when the case sets them
    max_words: int | None = None

    @property
    def needs_learner(self) -> bool:
        return bool(self.turns or self.states or self.hours_per_week or self.call == "next_steps")

    def reference_answer(self) -> str:
        """A short expected answer for export: the written one, else one built from the facts."""
        if self.reference:
            return self.reference
        if self.answerable is False:
            return "The guides do not give this; the tutor should say so instead of answering."
        if self.facts:
            return "; ".join(f"{f.fact}: {f.variants[0]}" for f in self.facts) + "."
        return ""


def _fail(where: str, msg: str) -> EvalSetError:
    return EvalSetError(f"{where}: {msg}")


def _str_list(value: Any, where: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(where, f"'{name}' must be a list of non-empty strings")
    return value


def parse_case(obj: Any, where: str = "<case>") -> Case:
    if not isinstance(obj, dict):
        raise _fail(where, "a case must be a JSON object")
    unknown = set(obj) - _KEYS
    if unknown:
        raise _fail(where, f"unknown field(s): {', '.join(sorted(unknown))}")
    for key in ("id", "category", "question"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise _fail(where, f"'{key}' is required and must be a non-empty string")
    cid = obj["id"]
    if not _ID.match(cid):
        raise _fail(where, f"id '{cid}' must be lower-case letters, digits, '-', '_' or '.'")
    where = f"{where} ({cid})"
    if obj["category"] not in CATEGORIES:
        raise _fail(where, f"category '{obj['category']}' is not one of {', '.join(CATEGORIES)}")
    role = obj.get("role")
    if role is not None and (not isinstance(role, str) or not role):
        raise _fail(where, "'role' must be a role slug or null")
    if "answerable" not in obj:
        raise _fail(where, "'answerable' is required (true, false, or null for either)")
    answerable = obj["answerable"]
    if answerable is not None and not isinstance(answerable, bool):
        raise _fail(where, "'answerable' must be true, false or null")

    facts: list[Fact] = []
    for i, f in enumerate(obj.get("facts") or []):
        if not isinstance(f, dict) or not isinstance(f.get("fact"), str):
            raise _fail(where, f"facts[{i}] must be an object with 'fact' and 'variants'")
        variants = _str_list(f.get("variants"), where, f"facts[{i}].variants")
        if not variants:
            raise _fail(where, f"facts[{i}] needs at least one variant")
        facts.append(Fact(f["fact"], tuple(variants)))

    forbidden: list[Forbidden] = []
    for i, f in enumerate(obj.get("forbidden") or []):
        if isinstance(f, str) and f.strip():
            forbidden.append(Forbidden(f, False))
            continue
        if not isinstance(f, dict) or not (
            isinstance(f.get("text"), str) ^ isinstance(f.get("regex"), str)
        ):
            raise _fail(
                where, f"forbidden[{i}] must be a string, {{'text': ...}} or {{'regex': ...}}"
            )
        if "regex" in f:
            try:
                re.compile(f["regex"])
            except re.error as exc:
                raise _fail(where, f"forbidden[{i}] is not a valid regex: {exc}") from exc
            forbidden.append(Forbidden(f["regex"], True, str(f.get("why", ""))))
        else:
            forbidden.append(Forbidden(f["text"], False, str(f.get("why", ""))))

    gold: list[tuple[str, str]] = []
    for i, g in enumerate(obj.get("gold") or []):
        if (
            not isinstance(g, dict)
            or not isinstance(g.get("guide"), str)
            or not isinstance(g.get("heading"), str)
        ):
            raise _fail(where, f"gold[{i}] must be an object with 'guide' and 'heading'")
        gold.append((g["guide"], g["heading"]))

    turns = _str_list(obj.get("turns") or [], where, "turns")
    progress = obj.get("progress") or {}
    if not isinstance(progress, dict) or set(progress) - {"states", "hours_per_week"}:
        raise _fail(where, "'progress' must be an object with 'states' and/or 'hours_per_week'")
    states = progress.get("states") or {}
    if not isinstance(states, dict) or any(v not in STATES for v in states.values()):
        raise _fail(where, f"progress.states must map milestone ids to one of {', '.join(STATES)}")
    hours = progress.get("hours_per_week")
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0
    ):
        raise _fail(where, "progress.hours_per_week must be a positive number")
    call = obj.get("call") or ("next_steps" if obj["category"] == "next" else "ask")
    if call not in ("ask", "next_steps"):
        raise _fail(where, "'call' must be 'ask' or 'next_steps'")
    if call == "next_steps" and not role:
        raise _fail(where, "a next_steps case needs a role")
    bounds = []
    for key in ("min_words", "max_words"):
        v = obj.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise _fail(where, f"'{key}' must be a whole number of words")
        bounds.append(v)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise _fail(where, "'min_words' is larger than 'max_words'")
    intents = _str_list(obj.get("intents") or [], where, "intents")
    if not isinstance(obj.get("casual", False), bool):
        raise _fail(where, "'casual' must be true or false")
    return Case(
        id=cid,
        category=obj["category"],
        question=obj["question"].strip(),
        role=role,
        answerable=answerable,
        facts=tuple(facts),
        forbidden=tuple(forbidden),
        gold=tuple(gold),
        turns=tuple(turns),
        states=dict(states),
        hours_per_week=float(hours) if hours is not None else None,
        call=call,
        reference=obj.get("reference"),
        notes=str(obj.get("notes") or ""),
        source=where,
        intents=tuple(intents),
        casual=bool(obj.get("casual", False)),
        min_words=bounds[0],
        max_words=bounds[1],
    )


def resolve_set(name: str | Path, evals_dir: Path = EVALS_DIR) -> Path:
    """A SET is a path to a .jsonl file, or the name of one in evals/ ("grounded")."""
    p = Path(name)
    if p.suffix == ".jsonl" or p.exists():
        if not p.is_file():
            raise EvalSetError(f"{p}: no such case file")
        return p
    candidate = evals_dir / f"{name}.jsonl"
    if not candidate.is_file():
        known = (
            ", ".join(sorted(x.stem for x in evals_dir.glob("*.jsonl") if x.stem not in NOT_SETS))
            or "none"
        )
        raise EvalSetError(f"Unknown eval set '{name}' (known in {evals_dir}: {known}).")
    return candidate


def load_set(path: Path) -> list[Case]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read ({exc})") from exc
    cases: list[Case] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path.name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(where, f"invalid JSON ({exc.msg})") from exc
        cases.append(parse_case(obj, where))
    if not cases:
        raise EvalSetError(f"{path}: the file holds no cases")
    return cases


def load_cases(
    sets: list[str | Path] | tuple[str | Path, ...] = (),
    categories: tuple[str, ...] = (),
    ids: tuple[str, ...] = (),
    evals_dir: Path = EVALS_DIR,
) -> tuple[list[Case], list[str]]:
    """Cases from the named sets (default: DEFAULT_SETS), filtered; also the set names used."""
    names = list(sets) or list(DEFAULT_SETS)
    cases: list[Case] = []
    used: list[str] = []
    seen: dict[str, str] = {}
    for name in names:
        path = resolve_set(name, evals_dir)
        used.append(path.stem)
        for c in load_set(path):
            if c.id in seen:
                raise EvalSetError(f"{c.source}: duplicate case id (first in {seen[c.id]})")
            seen[c.id] = c.source
            cases.append(c)
    bad = [c for c in categories if c not in CATEGORIES]
    if bad:
        raise EvalSetError(
            f"Unknown category {', '.join(bad)}; use one of {', '.join(CATEGORIES)}."
        )
    if categories:
        cases = [c for c in cases if c.category in categories]
    if ids:
        missing = sorted(set(ids) - {c.id for c in cases})
        if missing:
            raise EvalSetError(f"No case with id {', '.join(missing)} in the selected sets.")
        cases = [c for c in cases if c.id in ids]
    if not cases:
        raise EvalSetError("The selection holds no cases.")
    return cases, used
