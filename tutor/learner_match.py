"""Where the learner's own words meet a role's profile: the transition story nearest their
background, the listed skills their description already shows, the myth worth setting straight
for where they come from, and which of two roles fits what they told us.

The plans (:mod:`tutor.plans`) ask these questions; the answers are profile facts, so every
sentence built on them still cites the guide section that states them.
"""

from __future__ import annotations

from typing import Any

from .asks import Learner
from .focus import Similarity
from .knowledge import Knowledge
from .profiles import Profile, Transition
from .state import State
from .taxonomy import Gazetteer, Taxonomy, stem_all, words


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


# How close a learner's own words must be to a skill the guides list to count as one they bring
# (at 0.40 "im a teacher" brought "mentoring junior CSMs").
BRING_MIN = 0.50


def what_you_bring(learner: Learner, p: Profile, similar: Similarity | None) -> list[Any]:
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
    # ...but not a part naming the role they want: "Thinking about customer success" is no
    # skill of theirs, and it was 0.5 from "the economics of keeping a customer"
    target = Gazetteer({p.title: p.aliases})
    parts = [x.strip() for part in text.split(";") for x in part.split(",")]
    parts = [x for x in parts if len(x.split()) >= 3 and x != text and not target.find(x)]
    for part in parts:
        scores = [max(a, b) for a, b in zip(scores, similar(part, items), strict=True)]
    ranked = sorted(zip(pool, scores, strict=True), key=lambda x: -x[1])
    out: list[Any] = []
    for (item, fact), score in ranked:
        if score < BRING_MIN or len(out) >= 3:
            break
        # one skill once: "time management" beside "organisation and time management"
        mine = set(words(item))
        if not any(mine <= set(words(i)) or set(words(i)) <= mine for i, _ in out):
            out.append((item, fact))
    return [{"item": i, "fact": f} for i, f in out]


def myth_for(learner: Learner, p: Profile, similar: Similarity | None) -> Any:
    """The misconception closest to where the learner comes from ("support" and "success are
    the same job"), worth setting straight for a career changer. A myth about the job's future
    is no misconception of theirs: "support agent" was near "support management is a dead end"
    on the word "support" alone."""
    myths = [m for m in p.myths if not m.future]
    if not myths or similar is None or not learner.background:
        return None
    scores = similar(learner.background, [m.myth for m in myths])
    best = max(range(len(scores)), key=lambda i: scores[i])
    return myths[best] if scores[best] >= 0.5 else None


# Words that make a statement the learner's own ("i love coaching people")
_FIRST_PERSON = {"i", "im", "i'm", "ive", "i've", "my", "me", "myself"}

# One role fits what the learner told us better by this much (a story from their background
# counts 1, plus the closest "suits" line's similarity)
VERDICT_MARGIN = 0.1


SUITS_BONUS = 0.1


def verdict(
    sides: list[Profile],
    learner: Learner,
    similar: Similarity | None,
    tax: Taxonomy,
    story_threshold: float,
) -> dict[str, Any] | None:
    """Which of two roles fits what the learner told us, and why: a story from their
    background, or who the role suits ("im in retail sales and good with numbers. csm or
    support manager?": the CSM guides count retail as customer-facing work, and the role
    suits people comfortable with numbers). None when nothing tells them apart."""
    # what they said of themselves: the background alone ("retail sales") loses "good with
    # numbers", and this message's statements may hold the roles' names
    # (only what is about them: "wats the diffrence btwn a csm and a suport manager job day to
    # day" reads as a statement, tells nothing of the learner, and got a verdict on its words)
    said = learner.said if learner.said and set(words(learner.said)) & _FIRST_PERSON else None
    told = learner.about_me or said or learner.background
    if len(sides) < 2 or not told or similar is None:
        return None
    scored = []
    for side in sides:
        story, s = closest_transition(side, learner, similar, tax)
        story = story if story is not None and s >= story_threshold else None
        # who it suits, and its upsides: "i love coaching people and leading a team" is 0.23
        # from support's "suits" line and closer to its "you lead teams and help people grow"
        lines = [("suits", x) for x in side.fit.suits] + [("pros", x) for x in side.fit.pros]
        sims = similar(told, [x.text for _, x in lines]) if lines else []
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


def learner_for_turn(
    learner: Learner, state: State, k: Knowledge, statements: list[str] | None = None
) -> Learner:
    """The learner, with the background this conversation has told us, phrased for templates."""
    bg = state.background or learner.background
    out = Learner(**{**learner.__dict__})
    out.background = bg
    out.about_me = state.about_me
    neg = k.taxonomy.negations
    out.said = "; ".join(x for x in statements or [] if not set(words(x)) & neg) or None
    if state.hours and not learner.hours or state.hours and state.hours != learner.hours:
        out.hours, out.hours_from = state.hours, "question"
    if bg:
        # "team lead", "shift supervisor": a person too, though "lead" alone names no role
        heads = k.taxonomy.heads | k.taxonomy.generic_heads
        last = bg.split()[-1].rstrip("s")
        if last in heads or bg in k.taxonomy.occupations:
            out.bg_noun = f"{'an' if bg[0] in 'aeiou' else 'a'} {bg}"
            out.bg_phrase = f"as {out.bg_noun}"
        else:
            out.bg_phrase, out.bg_noun = f"in {bg}", bg
    return out
