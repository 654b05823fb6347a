"""What a question names: a term of the trade, a listed skill, a tool, and where the learning
path brings a tool in. Matched as stemmed words against the profile, so "do i need sql?" finds
"SQL on customer usage data" and "is salesforce enough?" finds the CRM category.
"""

from __future__ import annotations

from typing import Any

from .asks import Ask
from .focus import fact_words
from .profiles import Profile
from .taxonomy import Gazetteer, stem_all, words

# A word naming one skill is in at most this many of the role's facts ("sql": 2 of 115 CSM
# facts; "empathy": 4 of 152 support facts; "run": 9)
RARE_IN_FACTS = 4


def glossary_of(terms: list[Any]) -> Gazetteer:
    return Gazetteer({t.term: t.aliases for t in terms})


def facts_using(facts: list[Any], terms: list[Any]) -> list[Any]:
    """The facts whose text names one of ``terms`` ("running quarterly business reviews..."
    for QBR)."""
    if not terms:
        return []
    table = glossary_of(terms)
    return [f for f in facts if table.find(f.text)]


def names_a_term(text: str, p: Profile) -> bool:
    """Whether the question names one of the profile's terms of the trade ("what is NRR")."""
    return bool(glossary_of(p.glossary).find(text))


def terms_named(ask: Ask, p: Profile) -> list[Any]:
    """The glossary entries the question names ("what is NRR"), or all when it names none."""
    named = {m.value for m in glossary_of(p.glossary).find(ask.text)}
    return [t for t in p.glossary if t.term in named] or list(p.glossary)


def tools_named(ask: Ask, p: Profile) -> list[dict[str, Any]]:
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


def skill_named(ask: Ask, p: Profile, ordered: list[Any]) -> dict[str, Any] | None:
    """The listed skill the question names ("do i need sql?"), with its group and the groups
    learned before it: the answer says yes or no and when, before the whole list.

    A skill is named by a word that few of the role's skill items use ("sql" in one, against
    "customer" in a dozen), so "what skills do I need as a customer success manager?" names none;
    and few of its facts at all: "am i just running away?" named "running QBRs" on "run",
    which nine CSM facts use.
    """
    items = [(g, i, set(stem_all(words(i)))) for g in p.skills for i in g.items]
    facts = [fw.stems for fw in fact_words(p)]
    best = None
    for g, item, stems in items:
        rare = {
            w
            for w in stems & ask.specific
            if sum(w in s for *_, s in items) <= 2 and sum(w in s for s in facts) <= RARE_IN_FACTS
        }
        if rare and (best is None or len(rare) > best[2]):
            best = (g, item, len(rare))
    if best is None:
        return None
    g, item, _ = best
    before = ordered[: ordered.index(g)] if g in ordered else []
    return {"group": g, "item": item, "before": before, "ordered": g in ordered}


def named_tools_step(ask: Ask, p: Profile) -> dict[str, Any] | None:
    """For a yes-or-no question naming tools, the learning-path stage whose own words name
    every one of them, and the stages before it ("is zendesk enough?" names a tool that only
    a certifications stage mentions: no stage brings it in, so none is said)."""
    names = [n for x in tools_named(ask, p) for n in x["names"]]
    if not ((ask.yes_no or ask.facet == "when") and names):
        return None
    for i, step in enumerate(p.learning_path):
        text = " ".join([*step.learn, *step.practice]).casefold()
        if all(n.casefold() in text for n in names):
            return {"step": step, "before": p.learning_path[:i], "names": names}
    return None


def tools_step(p: Profile) -> Any:
    """The learning-path step that brings the tools in: the guides list tools by category, not
    in order, so "which one first?" is answered by when the path teaches them."""
    names = {w for g in p.tools for item in g.items for w in stem_all(words(item))}
    best, hits = None, 0
    for step in p.learning_path:
        stems = set(stem_all(words(" ".join([*step.learn, *step.practice]))))
        if len(stems & names) > hits:
            best, hits = step, len(stems & names)
    return best if hits >= 2 else None
