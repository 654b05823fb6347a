"""Answer plans: for each intent, the facts an answer needs, picked from a role's profile.

A plan never writes prose (the templates in ``prompts/answers/`` do) and never invents a fact:
it selects from the profile, by the learner's region, level, background and progress, and
says what is missing so the template can decline that part plainly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .asks import Ask, Learner, Plan
from .pay_plan import mentions_region, plan_pay
from .profiles import Myth, Pay, Profile, Transition
from .roadmaps import Roadmap
from .taxonomy import Gazetteer, Taxonomy, stem_all, words

Similarity = Callable[[str, list[str]], list[float]]
# A fact this much less relevant than the best one is left out of a gathered answer.
RELEVANCE_GAP = 0.12


def closest_transition(
    p: Profile, learner: Learner, similar: Similarity | None, tax: Taxonomy | None = None
) -> tuple[Transition | None, float]:
    """The profile's transition story nearest the learner's background, with its similarity.

    Half meaning (the embedder: "call centre agent" is close to "support specialist"), half
    words (the share of the learner's words the story's names use: "support agent" against
    "frontline support agent"); the embedder alone ranked "support agent" nearer "team lead".
    """
    texts = [x for x in (learner.background, learner.about_me) if x]
    if not texts or not p.transitions:
        return None, 0.0
    for t in p.transitions:
        names = {t.background.casefold(), *(a.casefold() for a in t.aliases)}
        if learner.background and learner.background.casefold() in names:
            return t, 1.0
    # "i work retail, been a shift supervisor for 2 yrs": a story's name anywhere in what they
    # said, the longest first ("shift supervisor" before "supervisor")
    said = f" {' '.join(words(learner.about_me or ''))} "
    named = [
        (len(n), t)
        for t in p.transitions
        for n in (t.background, *t.aliases)
        if f" {' '.join(words(n))} " in said
    ]
    if named:
        return max(named, key=lambda x: x[0])[1], 1.0
    if similar is None:
        return None, 0.0
    # the story's own words too: "I've answered tier 1 support tickets for two years" is
    # Daria's "spent two years answering support tickets", though no alias says so
    labels = [f"{t.background}: {', '.join(t.aliases)}. {t.story or ''}" for t in p.transitions]
    skip = tax.function_words if tax else set()
    best_t, best_s = None, 0.0
    for text in texts:
        mine = {w for w in stem_all(words(text)) if len(w) > 2 and w not in skip}
        for t, name, sim in zip(p.transitions, labels, similar(text, labels), strict=True):
            theirs = set(stem_all(words(name)))
            overlap = len(mine & theirs) / len(mine) if mine else 0.0
            score = (sim + overlap) / 2
            if score > best_s:
                best_t, best_s = t, score
    return best_t, best_s


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
# One role fits what the learner told us better by this much (a story from their background
# counts 1, plus the closest "suits" line's similarity)
VERDICT_MARGIN = 0.1
SUITS_BONUS = 0.1
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
                "bring": [] if (story and close) else _what_you_bring(learner, p, ctx.similar),
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
                "myth": _myth_for(learner, p, ctx.similar),
                "bring": [] if (story and close) else _what_you_bring(learner, p, ctx.similar),
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
                "named": _skill_named(ask, p, ordered),
            },
        )
    if ask.intent == "compare":
        return Plan("compare", {**common, **_compare(ask, ctx)})
    simple: dict[str, dict[str, Any]] = {
        "tools": {
            "groups": p.tools,
            # only a tools question pays for these (the table is built for every intent)
            "when": _tools_step(p) if ask.intent == "tools" and ask.wants_first else None,
            # "do i need gainsight before i apply?": the stage of the path that brings it in
            "named_at": _named_tools_step(ask, p) if ask.intent == "tools" else None,
            "facet": ask.facet,
            "named": _tools_named(ask, p) if ask.intent == "tools" else [],
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
        return Plan("myths", {**common, "myths": myths, "trend": _trend_for(myths, p, ctx)})
    if ask.intent == "roadmap":
        return Plan(
            "roadmap",
            {**common, "plan_time": plan_hours[2] if plan_hours else None, "path": p.learning_path},
        )
    if ask.intent == "glossary":
        terms = _terms(ask, p)
        named = terms if len(terms) < len(p.glossary) else []
        if not named and ask.brief:
            # "what's CSAT?" with both roles in view: a role whose glossary lacks the term adds
            # its whole list, which nobody asked for
            terms = []
        # "wtf is NRR and why do csms care so much": what the job has to do with the term
        # (summary items are verb phrases whose subject is the role: "a CSM moves NRR...")
        why = _using(p.summary, named)
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
                near = {*tax.region_chain(ask.region), *tax.children(ask.region)}
                scores = [
                    s
                    + REGION_BONUS * mentions_region(f.describe(), ask.region, tax)
                    - OTHER_REGION_PENALTY * _only_elsewhere(f.describe(), near, tax)
                    for s, f in zip(scores, pool, strict=True)
                ]
            pool = [f for _, f in sorted(zip(scores, pool, strict=True), key=lambda x: -x[0])]
        # the few closest to the question: every sentence should serve it
        return Plan(ask.intent, {**common, "items": pool[:WORKPLACE_ITEMS]})
    name = ask.intent if ask.intent in simple else "overview"
    facts: dict[str, Any] = simple[name]
    return Plan(name, {**common, **facts})


def _only_elsewhere(text: str, near: set[str], tax: Taxonomy) -> bool:
    """The text names regions, and none of them is the one asked about or its wider region."""
    named = {m.value for m in tax.region_gazetteer.find(text)}
    return bool(named) and not (named & near)


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
    terms = _terms(ask, p)
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
    bring = [] if pitch or not learner.background else _what_you_bring(learner, p, ctx.similar)
    # ...and what the job does with the thing named: "running QBRs that show an executive
    # sponsor the value received"
    doing = _using(p.duties, named)
    return {
        "tips": p.interview,
        "named": named,
        "doing": doing[:1],
        "terms": [] if named else list(p.glossary),
        "pitch": pitch,
        "pitch_from": pitch_from,
        "bring": bring,
    }


def _glossary(terms: list[Any]) -> Gazetteer:
    return Gazetteer({t.term: t.aliases for t in terms})


def _using(facts: list[Any], terms: list[Any]) -> list[Any]:
    """The facts whose text names one of ``terms`` ("running quarterly business reviews..."
    for QBR)."""
    if not terms:
        return []
    table = _glossary(terms)
    return [f for f in facts if table.find(f.text)]


def names_a_term(text: str, p: Profile) -> bool:
    """Whether the question names one of the profile's terms of the trade ("what is NRR")."""
    return bool(_glossary(p.glossary).find(text))


def _terms(ask: Ask, p: Profile) -> list[Any]:
    """The glossary entries the question names ("what is NRR"), or all when it names none."""
    named = {m.value for m in _glossary(p.glossary).find(ask.text)}
    return [t for t in p.glossary if t.term in named] or list(p.glossary)


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
    code?" raises two), or all of them when they ask about myths in general."""
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
    return picked or list(p.myths)


# How close a learner's own words must be to a skill the guides list to count as one they bring
# (at 0.40 "im a teacher" brought "mentoring junior CSMs").
BRING_MIN = 0.50


def _what_you_bring(learner: Learner, p: Profile, similar: Similarity | None) -> list[Any]:
    """The skills the guides list for the role that the learner's own description already
    shows ("I run a retail team of 12" -> "leading a small team", "scheduling"), each with the
    fact that lists it: a coach maps a background no story covers onto the role."""
    # the statements alone: "im a teacher, can i become a csm??" as a whole matched
    # "mentoring junior CSMs" on "csm"
    text = learner.said or learner.background
    # "ok so customer success... i dont know anything about saas" says nothing about the
    # learner's past: only a stated background, or words about themselves, can bring skills
    if not text or similar is None or not (learner.background or learner.about_me):
        return []
    pool: list[tuple[str, Any]] = [(i, g) for g in p.skills for i in g.items]
    pool += [(i, t) for t in p.transitions for i in t.transfers]
    if not pool:
        return []
    items = [item for item, _ in pool]
    scores = similar(text, items)
    # each thing they said on its own too: "Retail store manager here, 6 years managing a
    # team of about 15" is 0.38 from "leading a small team" whole, and 0.57 from its second part
    parts = [x.strip() for part in text.split(";") for x in part.split(",")]
    for part in (x for x in parts if len(x.split()) >= 3 and x != text):
        scores = [max(a, b) for a, b in zip(scores, similar(part, items), strict=True)]
    ranked = sorted(zip(pool, scores, strict=True), key=lambda x: -x[1])
    out: list[Any] = []
    for (item, fact), score in ranked:
        if score < BRING_MIN or len(out) >= 3:
            break
        if item not in [i for i, _ in out]:
            out.append((item, fact))
    return [{"item": i, "fact": f} for i, f in out]


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


def _tools_named(ask: Ask, p: Profile) -> list[dict[str, Any]]:
    """The listed tools the question names ("is salesforce enough?"), each with its group:
    the answer says where it fits and what else the guides expect beside it."""
    asked = f" {' '.join(words(ask.text))} "
    out = []
    for g in p.tools:
        # "Tableau or Power BI": one sentence for the two, which share a category
        items = [i for i in g.items if len(n := " ".join(words(i))) > 2 and f" {n} " in asked]
        if items:
            out.append({"names": items, "group": g})
    return out


def _skill_named(ask: Ask, p: Profile, ordered: list[Any]) -> dict[str, Any] | None:
    """The listed skill the question names ("do i need sql?"), with its group and the groups
    learned before it: the answer says yes or no and when, before the whole list.

    A skill is named by a word that few of the role's skill items use ("sql" in one, against
    "customer" in a dozen), so "what skills do I need as a customer success manager?" names none.
    """
    items = [(g, i, set(stem_all(words(i)))) for g in p.skills for i in g.items]
    best = None
    for g, item, stems in items:
        rare = {w for w in stems & ask.specific if sum(w in s for *_, s in items) <= 2}
        if rare and (best is None or len(rare) > best[2]):
            best = (g, item, len(rare))
    if best is None:
        return None
    g, item, _ = best
    before = ordered[: ordered.index(g)] if g in ordered else []
    return {"group": g, "item": item, "before": before, "ordered": g in ordered}


def _named_tools_step(ask: Ask, p: Profile) -> dict[str, Any] | None:
    """For a yes-or-no question naming tools, the learning-path stage whose own words name
    every one of them, and the stages before it ("is zendesk enough?" names a tool that only
    a certifications stage mentions: no stage brings it in, so none is said)."""
    names = [n for x in _tools_named(ask, p) for n in x["names"]]
    if not ((ask.yes_no or ask.facet == "when") and names):
        return None
    for i, step in enumerate(p.learning_path):
        text = " ".join([*step.learn, *step.practice]).casefold()
        if all(n.casefold() in text for n in names):
            return {"step": step, "before": p.learning_path[:i], "names": names}
    return None


def _tools_step(p: Profile) -> Any:
    """The learning-path step that brings the tools in: the guides list tools by category, not
    in order, so "which one first?" is answered by when the path teaches them."""
    names = {w for g in p.tools for item in g.items for w in stem_all(words(item))}
    best, hits = None, 0
    for step in p.learning_path:
        stems = set(stem_all(words(" ".join([*step.learn, *step.practice]))))
        if len(stems & names) > hits:
            best, hits = step, len(stems & names)
    return best if hits >= 2 else None


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


def _myth_for(learner: Learner, p: Profile, similar: Similarity | None) -> Any:
    """The misconception closest to where the learner comes from ("support" and "success are
    the same job"), worth setting straight for a career changer."""
    if not p.myths or similar is None or not learner.background:
        return None
    scores = similar(learner.background, [m.myth for m in p.myths])
    best = max(range(len(scores)), key=lambda i: scores[i])
    return p.myths[best] if scores[best] >= 0.5 else None


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
    return {"found": found, "missing": missing, "sides": sides, "verdict": _verdict(sides, ctx)}


def _verdict(sides: list[Profile], ctx: Context) -> dict[str, Any] | None:
    """Which of two roles fits what the learner told us, and why: a story from their
    background, or who the role suits ("im in retail sales and good with numbers. csm or
    support manager?": the CSM guides count retail as customer-facing work, and the role
    suits people comfortable with numbers). None when nothing tells them apart."""
    learner = ctx.learner
    # what they said of themselves: the background alone ("retail sales") loses "good with
    # numbers", and this message's statements may hold the roles' names
    told = learner.about_me or learner.said or learner.background
    if len(sides) < 2 or not told or ctx.similar is None:
        return None
    scored = []
    for side in sides:
        story, s = closest_transition(side, learner, ctx.similar, ctx.taxonomy)
        story = story if story is not None and s >= ctx.story_threshold else None
        # who it suits, and its upsides: "i love coaching people and leading a team" is 0.23
        # from support's "suits" line and closer to its "you lead teams and help people grow"
        lines = [("suits", x) for x in side.fit.suits] + [("pros", x) for x in side.fit.pros]
        sims = ctx.similar(told, [x.text for _, x in lines]) if lines else []
        # who it suits is what the guides say of fit; an upside only when clearly closer
        sims = [
            s + SUITS_BONUS * (kind == "suits") for s, (kind, _) in zip(sims, lines, strict=True)
        ]
        best = max(range(len(sims)), key=sims.__getitem__) if sims else None
        why = lines[best] if best is not None else None
        score = (1.0 if story else 0.0) + (sims[best] if best is not None else 0.0)
        scored.append((score, side, story, why))
    scored.sort(key=lambda x: -x[0])
    if scored[0][0] - scored[1][0] < VERDICT_MARGIN:
        return None
    _, side, story, why = scored[0]
    return {
        "role": side,
        "story": story,
        "kind": why[0] if why else None,
        "fact": why[1] if why else None,
    }
