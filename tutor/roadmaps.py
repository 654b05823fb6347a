"""Machine-readable role roadmaps (phases and milestones with stable ids), validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from . import safe_yaml
from .errors import CorpusError, NotFound
from .ingestion import ROLE_SLUG

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class Milestone(BaseModel):
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=3)
    why: str = Field(min_length=10)
    weight: float = Field(default=1.0, gt=0)


class Phase(BaseModel):
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=2)
    summary: str = ""
    heading: str = Field(min_length=2)  # the guide section that explains this phase, for citations
    milestones: list[Milestone] = Field(min_length=1)


class Roadmap(BaseModel):
    role: str
    role_title: str
    guide: str
    hours_per_week: float | None = Field(default=None, gt=0)
    expected_months: float | None = Field(default=None, gt=0)
    duration_note: str = ""
    phases: list[Phase] = Field(min_length=1)

    @field_validator("role")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not ROLE_SLUG.match(v):
            raise ValueError("role must be a slug like customer-success-manager")
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> Roadmap:
        seen: set[str] = set()
        for ident in [p.id for p in self.phases] + [
            m.id for p in self.phases for m in p.milestones
        ]:
            if ident in seen:
                raise ValueError(f"duplicate id '{ident}'")
            seen.add(ident)
        return self

    @property
    def milestones(self) -> list[Milestone]:
        return [m for p in self.phases for m in p.milestones]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


def load_roadmap(path: Path) -> Roadmap:
    data = safe_yaml.load_mapping(path, "roadmap")
    try:
        return Roadmap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise CorpusError(
            f"{path}: invalid roadmap at '{where}': {first['msg']} ({exc.error_count()} problem(s)).",
            "See corpus/README.md for the roadmap schema.",
        ) from exc


def load_roadmaps(corpus_dir: Path) -> dict[str, Roadmap]:
    out: dict[str, Roadmap] = {}
    seen_ids: dict[str, str] = {}
    for path in sorted((corpus_dir / "roadmaps").glob("*.y*ml")):
        rm = load_roadmap(path)
        if rm.role in out:
            raise CorpusError(
                f"{path}: a second roadmap for role '{rm.role}'.", "Keep one per role."
            )
        for m in rm.milestones:
            if m.id in seen_ids:
                raise CorpusError(
                    f"{path}: milestone id '{m.id}' is also used by role '{seen_ids[m.id]}'.",
                    "Milestone ids must be unique across roadmaps.",
                )
            seen_ids[m.id] = rm.role
        out[rm.role] = rm
    return out


def find_milestone(roadmaps: dict[str, Roadmap], milestone_id: str) -> tuple[Roadmap, Milestone]:
    for rm in roadmaps.values():
        for m in rm.milestones:
            if m.id == milestone_id:
                return rm, m
    import difflib

    ids = [m.id for rm in roadmaps.values() for m in rm.milestones]
    close = difflib.get_close_matches(milestone_id, ids, n=3)
    hint = (
        f"Did you mean {', '.join(close)}?"
        if close
        else "Run `tutor progress show` to list milestone ids."
    )
    raise NotFound(f"Unknown milestone id '{milestone_id}'.", hint)
