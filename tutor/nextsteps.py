"""Next-step advice from a learner's roadmap progress, paced by their weekly hours.

The plan is computed (which milestones come next, how long the rest takes at the learner's
pace); the words come from ``prompts/answers/next.j2``. The arithmetic is shown in its own
"progress" citation, so the one figure the tutor computes can be checked by the learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .compose import Sources, num, render_answer
from .plans import about
from .profiles import Cited, Profile
from .roadmaps import Milestone, Phase, Roadmap
from .settings import Settings

NEXT_QUESTION = "What should I do next?"
MAX_STEPS = 3


@dataclass
class Progress:
    done: int
    total: int
    states: dict[str, str]
    current_phase: str | None
    removed: list[str]
    hours_per_week: float | None


def open_milestones(rm: Roadmap, states: dict[str, str]) -> list[tuple[Phase, Milestone]]:
    return [
        (p, m)
        for p in rm.phases
        for m in p.milestones
        if states.get(m.id) not in ("done", "skipped")
    ]


def plan_fact(profile: Profile | None) -> Cited | None:
    """The guide fact that states the roadmap's months at its hours a week."""
    if profile is None:
        return None
    return next((d for d in profile.time.training if d.hours_per_week and d.value), None)


def render_next(
    settings: Settings,
    sources: Sources,
    role_view: Any,
    rm: Roadmap,
    prog: Progress,
    profile: Profile | None,
    hours: float | None = None,
) -> str:
    """The advice text, with [n] markers into ``sources``."""
    states = prog.states
    pending = open_milestones(rm, states)
    doing = [(p, m) for p, m in pending if states.get(m.id) == "in_progress"]
    todo = [(p, m) for p, m in pending if states.get(m.id) != "in_progress"]
    nxt = (doing + todo)[:MAX_STEPS]
    phase = next((p for p in rm.phases if p.id == prog.current_phase), None)
    summary = [
        f"{prog.done} of {prog.total} milestones done on the {rm.role_title} roadmap"
        + (f"; current phase: {phase.title}." if phase else "; every milestone is done or skipped.")
    ]
    if nxt:
        summary.append("Next milestones: " + "; ".join(m.title for _, m in nxt) + ".")
    if prog.removed:
        summary.append(
            f"{len(prog.removed)} milestone(s) in your records are no longer in the roadmap: "
            + ", ".join(prog.removed)
            + "."
        )
    progress_mark = sources.progress(
        "Your roadmap progress", rm.role_title, " ".join(summary), "Career Tutor progress records"
    )
    steps = [
        {
            "title": m.title,
            "why": m.why,
            "status": states.get(m.id),
            "section": Cited(cite=f"{rm.guide} > {p.heading}"),
        }
        for p, m in nxt
    ]
    pace = None
    own = hours if hours else prog.hours_per_week
    if nxt and rm.hours_per_week and rm.expected_months:
        remaining = sum(m.weight for _, m in pending)
        total = sum(m.weight for m in rm.milestones)
        h = float(own or rm.hours_per_week)
        exact = rm.expected_months * remaining / total * rm.hours_per_week / h
        months = about(exact)
        calc = (
            "My estimate, scaling the roadmap's plan to your hours for its remaining milestones. "
            f"The roadmap plans {num(rm.expected_months)} months at {num(rm.hours_per_week)} hours "
            f"a week; {num(remaining)} of {num(total)} milestone weight remains; at {num(h)} hours "
            f"a week: {num(rm.expected_months)} × {num(remaining)}/{num(total)} × "
            f"{num(rm.hours_per_week)}/{num(h)} = {num(exact)} months, about {num(months)}."
        )
        pace = {
            "own": bool(own),
            "hours": h,
            "result": months,
            "mark": sources.progress(
                "Pace estimate", rm.role_title, calc, "Career Tutor calculation"
            ),
            "fact": plan_fact(profile),
            # faster than the plan's hours is our scaling, not the guide's promise
            "note": profile.time.pace_note if profile and h > rm.hours_per_week else None,
        }
    return render_answer(
        settings.prompts_dir,
        "next",
        sources,
        role=role_view,
        phase=phase.title if phase else None,
        done=prog.done,
        total=prog.total,
        progress_mark=progress_mark,
        steps=steps,
        removed=prog.removed,
        pace=pace,
        # the phase's purpose in the guide's terms (a milestone's own "why" is the roadmap's
        # wording, which the cited guide section does not state)
        phase_summary=(phase.summary if phase and nxt else ""),
        phase_fact=Cited(cite=f"{rm.guide} > {phase.heading}") if phase else None,
        hours=own,
        # the roadmap's own note on its duration, shown as a record the learner can read
        no_plan_mark=(
            sources.progress(
                "Pace estimate",
                rm.role_title,
                # the learner's own hours are in the record the sentence cites, or the figure
                # check drops "You've set 6 hours a week, but..." for a number no source holds
                (f"You set {num(own)} hours a week. " if own else "") + rm.duration_note,
                "Career Tutor roadmap",
            )
            if rm.duration_note and not pace
            else ""
        ),
        # finished: how to apply, from the guides
        apply_tips=(profile.interview[:2] if profile and not nxt else []),
        job_search=(profile.time.job_search[:1] if profile and not nxt else []),
    )
