"""Answer plans: for each intent, the facts an answer needs, picked from a role's profile.

A plan never writes prose (the templates in ``prompts/answers/`` do) and never invents a fact:
it selects from the profile, by the learner's region, level, background and progress, and
says what is missing so the template can decline that part plainly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .asks import Ask, Learner, Plan
from .focus import Similarity
from .learner_match import closest_transition, myth_for, verdict, what_you_bring
from .named import (
    facts_using,
    named_tools_step,
    skill_named,
    terms_named,
    tools_named,
    tools_step,
)
from .pay_plan import plan_pay
from .profiles import Myth, Pay, Profile
from .roadmaps import Roadmap
from .taxonomy import Gazetteer, Taxonomy, stem_all, words

# A fact this much less relevant than the best one is left out of a gathered answer.
RELEVANCE_GAP = 0.12


def pace(months: float, guide_hours: float, hours: float) -> float:
    return months * guide_hours / hours


def about(months: float) -> float:
    """An estimate as a coach would say it: whole months, or halves under two ("about 13
    months", not "13.3"; "about 1.5 months", not "1.4")."""
    half_up = math.floor(months + 0.5) if months >= 2 else math.floor(months * 2 + 0.5) / 2
    return max(0.5, float(half_up))


@dataclass
class Context:
    profile: Profile
    roadmap: Roadmap | None
    taxonomy: Taxonomy
    learner: Learner
    similar: Similarity | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)  # every role's, for comparisons
    # a background this close to a transition story counts as that story's background
    story_threshold: float = 0.45


WORKPLACE_ITEMS = 4
REGION_BONUS = 0.1
OTHER_REGION_PENALTY = 0.3
# A question this close to a tier's description asks about that tier.
TIER_MIN = 0.6
TIER_MARGIN = 0.05  # and this much closer than any other tier or the role's title
# How close a learner's story must be to a stage of the learning path to count as that stage
# (support's "Frontline support agent..." story and its "Frontline support experience" stage:
# 0.71; an agency account manager and the CSM path's "Onboarding, tools..." stage: 0.54)
STAGE_MIN = 0.65


def plan_for(ask: Ask, ctx: Context) -> Plan:
    p, tax, learner = ctx.profile, ctx.taxonomy, ctx.learner
    story, score = closest_transition(p, learner, ctx.similar, tax)
    close = story is not None and score >= ctx.story_threshold
    common: dict[str, Any] = {
        "role": p,
        "learner": learner,
        "brief": ask.brief,
        "story": story if close else None,
        "roadmap": ctx.roadmap,
        "focus": ask.focus,
        "focus_kind": type(ask.focus).__name__ if ask.focus is not None else "",
    }
    plan_hours = _plan_hours(p, ctx.roadmap)
    if ask.intent == "pay":
        plan = plan_pay(p, ask, tax)
        plan.data.update(common)
        return plan
    # "faster if you already work in support, sales or account management"
    fast_note = next((d for d in p.time.training if d.faster_if), None)
    if ask.intent == "time":
        data = {**common, "training": p.time.training, "job_search": p.time.job_search}
        data.update(pace=_pace(plan_hours, learner, p.time.pace_note), fast_note=fast_note)
        # "how long until I'm a senior or strategic one?": the experience senior roles take
        data["senior"] = p.time.senior if ask.level in ("senior", "head", "top") else []
        # "how many years does a junior one need?": that tier first, then the ladder
        tier = next((d for d in p.time.senior if ask.level and d.level == ask.level), None)
        if tier is None and ctx.similar is not None and ask.text and p.time.senior:
            # "until I could be a strategic or enterprise CSM?" names the tier, not a level
            # the role's own title is a rival: "how many months to become a support manager"
            # is 0.63 from "a senior support manager" and 0.60 from the junior tier
            sims = ctx.similar(ask.text, [d.who or "" for d in p.time.senior] + [p.title])
            best = max(range(len(p.time.senior)), key=sims.__getitem__)
            rival = max(x for i, x in enumerate(sims) if i != best)
            clear = sims[best] >= TIER_MIN and sims[best] - rival >= TIER_MARGIN
            tier = p.time.senior[best] if clear else None
        data["tier"] = tier
        data["experience"] = (
            [tier, *(d for d in p.time.senior if d is not tier)] if tier else p.time.senior
        )
        # "how many months / hours a week to become one?" when the guides give only years of
        # work experience: the figure asked for is declined, the tiers are what they do give
        study = bool(
            re.search(r"\b(?:months?|weeks?|hours?|hrs?|study|course)\b", ask.text.lower())
        )
        data["study"] = study
        data["total"] = _total_time(p)
        data["study_note"] = p.time.study_note
        return Plan("time", data, abstained=not p.time.training and tier is None and study)
    if ask.intent == "start":
        plan_time = plan_hours[2] if plan_hours else next(iter(p.time.training), None)
        # the duration the path's own guide gives: a four-block path from one guide is not
        # followed by another guide's three-phase plan
        path_guide = p.learning_path[0].guide if p.learning_path else None
        plan_time = next((d for d in p.time.training if d.guide == path_guide), plan_time)
        # "I'm a support agent right now": the learner's story is a stage of the path
        # ("Frontline support agent..." is "Frontline support experience", 0.71), so the
        # answer starts at the stage after it
        at = None
        if story is not None and close and ctx.similar is not None and p.learning_path:
            sims = ctx.similar(story.background, [s.title for s in p.learning_path])
            stages = [i for i, x in enumerate(sims) if x >= STAGE_MIN]
            at = max(stages) if stages and max(stages) + 1 < len(p.learning_path) else None
        return Plan(
            "start",
            {
                **common,
                "at": at,
                "path": p.learning_path,
                "pace": _pace(plan_hours, learner, p.time.pace_note),
                "plan_time": plan_time,
                "bring": [] if (story and close) else what_you_bring(learner, p, ctx.similar),
                # a role reached through experience: the first tier is the realistic target
                "tiers": p.time.senior,
                "first_move": p.advice[0] if p.advice else None,
            },
        )
    if ask.intent == "switch":
        return Plan(
            "switch",
            {
                **common,
                "stories": [t for t in p.transitions if t.person] or p.transitions,
                "first_step": p.learning_path[0] if p.learning_path else None,
                "training": p.time.training,
                "tiers": p.time.senior,
                "fast_note": fast_note,
                "suits": p.fit.suits[0] if p.fit.suits else None,
                "myth": myth_for(learner, p, ctx.similar),
                "bring": [] if (story and close) else what_you_bring(learner, p, ctx.similar),
            },
        )
    if ask.intent == "skills":
        ordered = sorted((g for g in p.skills if g.order is not None), key=lambda g: g.order or 0)
        unordered = [g for g in p.skills if g.order is None]
        return Plan(
            "skills",
            {
                **common,
                "ordered": ordered,
                "unordered": unordered,
                "wants_first": ask.wants_first,
                "yes_no": ask.yes_no,
                "named": skill_named(ask, p, ordered),
            },
        )
    if ask.intent == "compare":
        return Plan("compare", {**common, **_compare(ask, ctx)})
    simple: dict[str, dict[str, Any]] = {
        "tools": {
            "groups": p.tools,
            # only a tools question pays for these (the table is built for every intent)
            "when": tools_step(p) if ask.intent == "tools" and ask.wants_first else None,
            # "do i need gainsight before i apply?": the stage of the path that brings it in
            "named_at": named_tools_step(ask, p) if ask.intent == "tools" else None,
            "facet": ask.facet,
            "named": tools_named(ask, p) if ask.intent == "tools" else [],
        },
        "portfolio": {"projects": p.portfolio.projects, "tips": p.portfolio.tips},
        "interview": _interview(ask, ctx, story if close else None)
        if ask.intent == "interview"
        else {"tips": p.interview},
        "day": {"parts": p.day},
        "education": {
            "edu": p.education,
            "parts": _education_parts(ask, p, ctx.similar) if ask.intent == "education" else [],
        },
        "career_path": {
            "yes_no": ask.yes_no,
            "ladder": p.ladder,
            "senior": p.time.senior,
            "related": p.related,
            # "can I move into sales later?": that move answers it, the ladder follows
            "asked": [
                r
                for r in p.related
                if r is ask.focus
                or r.title in ask.related
                or (r.slug and r.slug in ask.roles and r.slug != p.role)
            ],
        },
        "fit": {"fit": p.fit, "summary": p.summary, "facet": ask.facet},
        "overview": {"summary": p.summary, "duties": p.duties, "day": p.day},
        "sources": {"guides": _sources(p), "notes": p.source_notes},
    }
    if ask.intent == "myths":
        # "do I need to know how to code?": the one myth the question turns on
        if ask.facet == "all":
            myths = list(p.myths)  # "what are the myths about csm?"
        elif isinstance(ask.focus, Myth):
            myths = [ask.focus]
        else:
            myths = _myths(ask, p, ctx.similar)
        if not myths and not ask.related:
            # "do support managers need to know how to code or use sql": no myth of this role
            # is near, and its others answer a question nobody asked; what the role needs does
            return plan_for(replace(ask, intent="skills"), ctx)
        # "is a CSM just an account manager with a new title?": a neighbouring job named,
        # the myths all set the role apart from its neighbours
        myths = myths or list(p.myths)
        return Plan("myths", {**common, "myths": myths, "trend": _trend_for(myths, p, ctx)})
    if ask.intent == "roadmap":
        return Plan(
            "roadmap",
            {**common, "plan_time": plan_hours[2] if plan_hours else None, "path": p.learning_path},
        )
    if ask.intent == "glossary":
        terms = terms_named(ask, p)
        named = terms if len(terms) < len(p.glossary) else []
        if not named and ask.brief:
            # "what's CSAT?" with both roles in view: a role whose glossary lacks the term adds
            # its whole list, which nobody asked for
            terms = []
        # "wtf is NRR and why do csms care so much": what the job has to do with the term
        # (summary items are verb phrases whose subject is the role: "a CSM moves NRR...")
        why = facts_using(p.summary, named)
        return Plan("glossary", {**common, "terms": terms, "why": why[:1]})
    if ask.intent in ("workplace", "outlook"):
        pool = (
            [*p.work_setting, *p.outlook, *p.pay_notes]
            if ask.intent == "workplace"
            else [*p.outlook]
        )
        # "what's the job outlook?" turns on no one fact: the profile's headline (growth,
        # demand) in its own order; "is AI killing it?" gets the closest facts first
        broad = ask.intent == "outlook" and ask.focus is None and not ask.region
        if ctx.similar is not None and ask.text and len(pool) > 1 and not broad:
            # "is AI killing it?": the trend the question is about before the general demand;
            # "which European cities hire?": what the guides say of that region counts extra
            scores = ctx.similar(ask.delexed or ask.text, [f.describe() for f in pool])
            if ask.region:
                # and what they say of other regions only: "can i work remotely as a csm from
                # india?" led with the count of open jobs in Germany
                asked = {ask.region, *tax.children(ask.region)}
                near = {*asked, *tax.region_chain(ask.region)}
                named = [tax.regions_in(f.describe()) for f in pool]
                scores = [
                    s
                    + REGION_BONUS * bool(n & asked)
                    - OTHER_REGION_PENALTY * bool(n and not n & near)
                    for s, n in zip(scores, named, strict=True)
                ]
            pool = [f for _, f in sorted(zip(scores, pool, strict=True), key=lambda x: -x[0])]
        # the few closest to the question: every sentence should serve it
        return Plan(ask.intent, {**common, "items": pool[:WORKPLACE_ITEMS]})
    name = ask.intent if ask.intent in simple else "overview"
    facts: dict[str, Any] = simple[name]
    return Plan(name, {**common, **facts})


def _sources(p: Profile) -> list[dict[str, Any]]:
    """Each guide behind the profile: a fact of it (to cite and name it) and the surveys its
    pay figures credit."""
    out: dict[str, dict[str, Any]] = {}
    # pay facts first: their sections carry the dates a source's name may hold ("2026 ...")
    facts = sorted((f for _, f in p.facts()), key=lambda f: not isinstance(f, Pay))
    for fact in facts:
        entry = out.setdefault(fact.guide, {"fact": fact, "surveys": []})
        survey = (getattr(fact, "survey", None) or "").split(",")[0].strip()
        if survey and survey not in entry["surveys"]:
            entry["surveys"].append(survey)
    return list(out.values())


def _interview(ask: Ask, ctx: Context, story: Any) -> dict[str, Any]:
    """Interview preparation as a coach gives it: what the question names first ("a mock
    QBR": what a QBR is), how to pitch the learner's background, the guides' tips, and the
    trade's terms an interviewer expects a candidate to use with ease."""
    p, learner = ctx.profile, ctx.learner
    terms = terms_named(ask, p)
    named = terms if len(terms) < len(p.glossary) else []
    pitch: list[str] = []
    pitch_from: list[Any] = []
    if story is not None and story.transfers:
        pitch, pitch_from = list(story.transfers), [story]
    text = " ".join(x for x in (learner.said, learner.background) if x)
    if text:
        # "coming from sales": the skills the guides say the two jobs share
        for r in p.related:
            if r.shared_skills and Gazetteer({r.title: r.aliases}).find(text):
                pitch += [x for x in r.shared_skills if x not in pitch]
                pitch_from.append(r)
                break
    # "might have to do a mock QBR" states no background: nothing to pitch from it
    bring = [] if pitch or not learner.background else what_you_bring(learner, p, ctx.similar)
    # ...and what the job does with the thing named: "running QBRs that show an executive
    # sponsor the value received"
    doing = facts_using(p.duties, named)
    return {
        "tips": p.interview,
        "named": named,
        "doing": doing[:1],
        "terms": [] if named else list(p.glossary),
        "pitch": pitch,
        "pitch_from": pitch_from,
        "bring": bring,
    }


def _gather(
    ask: Ask, ctx: Context, first: list[Any], rest: list[Any], label: str
) -> dict[str, Any]:
    """The facts closest to the question, best first.

    Closeness is the embedder's, on the question with its slot values taken out (so "what
    does a CSM do" is not matched on "CSM"), plus the share of the question's own words the
    fact uses; ``first`` facts (what the role is) win ties with the ``rest``.
    """
    pool = [*first, *rest]
    if not pool:
        return {"lead": None, "more": [], "more_label": label}
    if ctx.similar is None or not ask.text:
        return {"lead": pool[0], "more": pool[1:5], "more_label": label}
    query = ask.delexed or ask.text
    sims = ctx.similar(query, [f.describe() for f in pool])
    skip = ctx.taxonomy.function_words
    mine = {w for w in stem_all(words(query)) if len(w) > 2 and w not in skip}
    scored = []
    for k, (f, sim) in enumerate(zip(pool, sims, strict=True)):
        theirs = set(stem_all(words(f.describe())))
        overlap = len(mine & theirs) / len(mine) if mine else 0.0
        scored.append((f, sim + 0.3 * overlap + (0.1 if k < len(first) else 0.0)))
    ranked = sorted(scored, key=lambda x: -x[1])
    top = ranked[0][1]
    more = [f for f, sc in ranked[1:] if sc >= top - RELEVANCE_GAP]
    return {"lead": ranked[0][0], "more": more, "more_label": label}


def has_data(intent: str, p: Profile) -> bool:
    """Whether the profile can answer this intent at all (else: the extractive path)."""
    return bool(
        {
            "pay": p.pay,
            "time": p.time.training or p.time.job_search or p.time.senior,
            "start": p.learning_path,
            "switch": p.transitions or p.learning_path,
            "skills": p.skills,
            "tools": p.tools,
            "portfolio": p.portfolio.projects or p.portfolio.tips,
            "interview": p.interview,
            "day": p.day,
            "education": p.education.degrees or p.education.certifications,
            "outlook": p.outlook,
            "career_path": p.ladder or p.related or p.time.senior,
            "fit": p.fit.suits or p.fit.pros or p.fit.cons or p.summary,
            "overview": p.summary or p.duties,
            "glossary": p.glossary,
            "workplace": p.work_setting,
            "roadmap": True,
            "myths": p.myths,
            "compare": True,
            "sources": True,
        }.get(intent, p.summary)
    )


def _total_time(p: Profile) -> dict[str, Any] | None:
    """Training from zero plus the job search, both in months from one guide: "how long from
    zero to getting hired, including the job hunt?" (the CSM guide adds them to 5-16 months)."""
    search = next(iter(p.time.job_search), None)
    if search is None or search.unit != "month" or search.low is None or search.high is None:
        return None
    for d in p.time.training:
        if (
            d.unit == "month"
            and d.low is not None
            and d.high is not None
            and d.guide == search.guide
        ):
            return {
                "low": d.low + search.low,
                "high": d.high + search.high,
                "training": d,
                "search": search,
            }
    return None


def _plan_hours(p: Profile, roadmap: Roadmap | None) -> tuple[float, float, Any] | None:
    """(months, hours a week, the fact) of the role's plan, when a guide gives both."""
    for d in p.time.training:
        months = d.value if d.value is not None else None
        if months and d.hours_per_week and d.unit == "month":
            return months, d.hours_per_week, d
    return None


def _pace(
    plan: tuple[float, float, Any] | None, learner: Learner, note: Any = None
) -> dict[str, Any] | None:
    if plan is None or not learner.hours:
        return None
    months, guide_hours, fact = plan
    return {
        "months": months,
        "guide_hours": guide_hours,
        "hours": learner.hours,
        "exact": pace(months, guide_hours, learner.hours),
        "result": about(pace(months, guide_hours, learner.hours)),
        "note": note,
        "fact": fact,
    }


def _myths(ask: Ask, p: Profile, similar: Similarity | None) -> list[Any]:
    """The myths the learner raises (one per question: "will AI replace CSMs? do I need to
    code?" raises two); none when no myth is near (the "all" facet asks for every one)."""
    if not p.myths or similar is None or not ask.text:
        return list(p.myths)
    picked: list[Any] = []
    for clause in ask.clauses or [ask.text]:
        scores = [max(similar(clause, [m.myth, *m.asked_as])) for m in p.myths]
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        best = ranked[0]
        # the nearest, or the few about as near ("im not techy at all, is csm still an
        # option?" is 0.57 from the coding myth and 0.55 from the AI one), each surer then:
        # not every myth
        near = [i for i in ranked if scores[best] - scores[i] <= 0.05]
        floor = 0.45 if len(near) == 1 else 0.5
        near = [i for i in near if scores[i] >= floor]
        for i in near:
            if p.myths[i] not in picked:
                picked.append(p.myths[i])
    return picked


def _trend_for(myths: list[Any], p: Profile, ctx: Context) -> Any:
    """The outlook fact that backs up the one myth answered: a worry about the job's future
    deserves the demand figures too."""
    if len(myths) != 1 or not myths[0].future or not p.outlook:
        return None
    if ctx.similar is None:
        return p.outlook[0]
    m = myths[0]
    # a fact with growth or openings figures, where the guides give one
    pool = [o for o in p.outlook if o.growth or o.openings] or p.outlook
    scores = ctx.similar(f"{m.myth}. {m.reality}", [f.describe() for f in pool])
    return pool[max(range(len(scores)), key=scores.__getitem__)]


# Language skills this far from the question are left out of an education answer (an answer
# about degrees), unless they are the closest part.
EDU_PART_MIN = 0.35


def _education_parts(ask: Ask, p: Profile, similar: Similarity | None) -> list[str]:
    """The education answer's parts, the one the question is about first: "which certs are
    worth getting?" leads with certifications, "do I need a degree?" with degrees and what
    counts instead."""
    e = p.education
    texts = {
        "degrees": [d.text for d in e.degrees],
        "other": [o.text for o in e.other],
        "certifications": [f"{c.name}. {c.note or ''}" for c in e.certifications],
        "language": [x.text for x in e.language],
    }
    parts = [k for k, v in texts.items() if v]
    if similar is None or not ask.text or len(parts) < 2:
        return parts
    q = ask.delexed or ask.text
    # a part the guides leave empty is scored by its schema name, so "which certs should i
    # get first?" still finds that certifications are what it asks about (and the answer says
    # first that the guides name none)
    empty = [k for k, v in texts.items() if not v and k == "certifications"]
    score = {k: max(similar(q, texts[k] or [k])) for k in parts + empty}
    # the part holding the fact the question turns on leads ("is Tableau worth learning?":
    # "data skills in Tableau or Power BI help you read support metrics")
    held = {"degrees": e.degrees, "other": e.other, "language": e.language}
    for k, items in held.items():
        if ask.focus is not None and any(x is ask.focus for x in items) and k in score:
            score[k] += 1.0
    ranked = sorted(parts + empty, key=lambda k: -score[k])
    # language only when asked about: the other parts are the answer to any education question
    return [
        k
        for i, k in enumerate(ranked)
        if (i == 0 or k != "language" or score[k] >= EDU_PART_MIN) and (i == 0 or k not in empty)
    ]


def _compare(ask: Ask, ctx: Context) -> dict[str, Any]:
    p = ctx.profile
    # two covered roles side by side: what each is and who it suits
    peers = [ctx.profiles[s] for s in ask.roles if s in ctx.profiles and s != p.role]
    wanted = [*ask.related, *ask.other_roles]
    found = []
    missing = []
    for name in wanted:
        hit = next(
            (
                r
                for r in p.related
                if name.casefold() in {r.title.casefold(), *(a.casefold() for a in r.aliases)}
            ),
            None,
        )
        (found.append(hit) if hit else missing.append(name))
    for slug in ask.roles:
        if slug != p.role:
            hit = next((r for r in p.related if r.slug == slug), None)
            if hit and hit not in found:
                found.append(hit)
    if not wanted and not found and not peers:
        found = list(p.related)
    sides = [p, *peers] if peers else []
    return {
        "found": found,
        "missing": missing,
        "sides": sides,
        "verdict": verdict(sides, ctx.learner, ctx.similar, ctx.taxonomy, ctx.story_threshold),
    }
