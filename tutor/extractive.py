"""The extractive path: cited statements from the retrieved passages.

It answers for a guide that has no profile (a page a maintainer just ingested) and for an
intent a profile has no data for. Statements (sentences, and label/value lines joined to their
label: tutor/statements.py) are scored by the question's content words, weighted by how rare
each word is among the passages, plus what the intent needs: a pay question wants a statement
with a currency figure, a time question one with a duration, a list question the guide's own
list. The words that only say what kind of question it is, or which role it is about, score
nothing: every passage of a role's guide names the role.

The question's region and level are honoured: a figure is shown only when its statement, its
heading or the heading it sits under names the region asked (or a part of it), and a figure for
another level is left out. When no passage gives the region's figure, the answer is declined
and says so, naming the region. It never writes a fact of its own, and never quotes a passage
flagged at ingest for instruction-like text (tutor/injection.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .chunking import Chunk
from .citations import extract_numbers
from .compose import Sources
from .retrieval import Hit
from .statements import (
    Statement,
    addresses_masked,
    context_headings,
    first_of_sequence,
    statements,
)
from .taxonomy import Taxonomy, fold

_TOKEN = re.compile(r"[a-z0-9]+")
_MONEY = re.compile(r"[$€£₹]\s?\d|\d\s?(?:k|K|L)\b|\b\d{2,3},\d{3}\b")
_DURATION = re.compile(r"\d+\s?(?:[–-]\s?\d+)?\+?\s*(?:months?|weeks?|years?|hours?)\b", re.I)
# what an intent's answer must contain to be an answer at all
_NEEDS = {"pay": _MONEY, "time": _DURATION}
_LISTY = {"skills", "tools", "portfolio", "day", "education", "interview", "start", "overview"}
LEVEL_BONUS = 0.5  # a statement that names the level asked
# "how long does it take?" with no level asked is about getting in: the entry tier first
ENTRY_BONUS = 0.2
FIRST_BONUS = 0.5  # the first section of a sequence, when the question asks what comes first
# a word of the intent's description, against one of the question's own (at 0.6 the raw-page
# answers to "whats the pay like" and "wat skills do i need" lost their expected figures/terms)
ABOUT_SHARE = 0.3
Before = Callable[[Chunk, int], list[Chunk]]
Similar = Callable[[str, list[str]], list[float]]
# the embedder's cosine between question and statement: "is support a dead end job?" shares
# no content word with the growth figure that answers it
SIM_WEIGHT = 1.0
SHORTLIST = 8  # statements re-ranked by the embedder, best first


@dataclass
class Wanted:
    """What the question asks, as this path needs it."""

    text: str
    intent: str
    region: str | None = None  # the first region asked; `regions` has them all
    level: str | None = None
    # words that name no content: the taxonomy's function words and the covered roles' names
    skip: set[str] = field(default_factory=set)
    taxonomy: Taxonomy | None = None
    brief: bool = False
    # what this kind of question is about: the intent's description in corpus/understanding
    about: str = ""
    first: bool = False  # asks what comes first: a sequence's first section leads
    regions: list[str] = field(default_factory=list)

    def asked(self) -> list[str]:
        return list(dict.fromkeys([*([self.region] if self.region else []), *self.regions]))


@dataclass
class Extract:
    text: str
    declined: bool
    missing: list[str] = field(default_factory=list)  # regions asked no passage gives pay for
    have: list[str] = field(default_factory=list)  # the regions the passages do give figures for


@dataclass
class _Cand:
    score: float
    hit: int
    st: Statement


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    return _stemmer().stemWords(_TOKEN.findall(text.lower()))


def regions_in(text: str, tax: Taxonomy) -> set[str]:
    """Regions a guide's line names. A short alias counts only as written in capitals ("US",
    "U.S."), never inside ordinary words ("us" in "tell us")."""
    out = set()
    for m in tax.region_gazetteer.find(text):
        written = rf"(?<![A-Za-z]){re.escape(m.alias.upper())}(?![A-Za-z])"
        if len(m.alias) > 3 or " " in m.alias or re.search(written, text):
            out.add(m.value)
    return out


def levels_in(text: str, tax: Taxonomy) -> set[str]:
    """Levels a line names, hyphenated or not ("Senior-Level", "entry and mid-level")."""
    found = tax.level_gazetteer.find(text) + tax.level_gazetteer.find(fold(text).replace("-", " "))
    return {m.value for m in found}


def _for_region(found: set[str], asked: str, tax: Taxonomy) -> bool:
    """A figure for Germany answers a question about Europe; one for Europe is not Germany's."""
    return any(asked in tax.region_chain(r) for r in found)


def search_query(want: Wanted, title: str) -> str:
    """What to search the role's passages for: the question; the role's title when the
    question does not name it ("how long will it take me?" on the role's page found the
    senior tier but not the junior one); the regions asked, by the names the guides use; and,
    when the question says little beyond its kind ("how much does a support manager make?"
    shares no word with a salary block), what that kind of question is about: the intent's
    description in corpus/understanding, its asides dropped. A question that says more is not
    diluted: "how long does it take to become one?" lost the training time to the job search
    that the time description also names."""
    skip = set(stems(" ".join(want.skip)))
    own = set(stems(want.text)) - skip
    about = ""
    if len(own) < 2:
        about = _about(want)
    tax = want.taxonomy
    region = " ".join(tax.display(r) for r in want.asked()) if tax else ""
    named = set(stems(title)) <= set(stems(want.text))
    return " ".join(x for x in (want.text, "" if named else title, about, region) if x)


def _about(want: Wanted) -> str:
    about = re.sub(r"\([^)]*\)", " ", want.about)
    return " ".join(w for w in re.findall(r"[A-Za-z][A-Za-z'-]*", about) if len(w) > 1)


def extractive_answer(
    want: Wanted,
    hits: Sequence[Hit],
    sources: Sources,
    before: Before | None = None,
    similar: Similar | None = None,
) -> Extract:
    tax = want.taxonomy or Taxonomy()
    need = _NEEDS.get(want.intent)
    hits, firsts = _with_firsts(want, hits, before)
    # a passage flagged at ingest for instruction-like text is never quoted, not even the
    # sentences of it that read innocently: a planted instruction often spans several
    per_hit: list[list[Statement]] = []
    where: list[str] = []  # what each passage's statements sit under: its headings
    for h in hits:
        above = context_headings(h.chunk, before) if before else []
        where.append(" ".join([*h.chunk.section_path, *above]))
        found = [] if h.chunk.flagged else statements(h.chunk)
        # a question that asks for a list gets the guide's lists whole; any other, their items
        found = [s for s in found if s.group is None or s.whole == (want.intent in _LISTY)]
        per_hit.append([s for s in found if not addresses_masked(s.text, h.chunk)])
    lowest = min(tax.levels.values(), key=lambda lv: lv.rank).name if tax.levels else None
    asked = want.asked()
    kept, have = _answerable(want, per_hit, where, tax)
    missing: list[str] = []
    if want.intent == "pay" and asked and need is not None:
        figures = [
            regions_in(st.text, tax) or regions_in(where[i], tax)
            for i, st, _ in kept
            if need.search(st.text)
        ]
        missing = [a for a in asked if not any(_for_region(f, a, tax) for f in figures)]
        if len(missing) == len(asked):
            return Extract("", True, missing, sorted({tax.display(r) for r in have}))
    docs = [set(stems(st.text)) for _, st, _ in kept]
    n = max(1, len(docs))
    df: dict[str, int] = {}
    for d in docs:
        for t in d:
            df[t] = df.get(t, 0) + 1
    skip = set(stems(" ".join(want.skip)))
    q = set(stems(want.text)) - skip
    q_weight = sum(math.log(1 + n / df[t]) for t in q if t in df) or 1.0
    # the kind of question's own words count a little: "Tech Stack" over "Zendesk" answers
    # "support manager tools?", "Soft Abilities" over "Empathy" answers "what skills...?"
    kind = set(stems(_about(want))) - skip - q
    cands: list[_Cand] = []
    for i, st, levels in kept:
        toks = set(stems(st.text))
        heading = set(stems(where[i]))
        matched = sum(math.log(1 + n / df[t]) for t in q & toks if t in df)
        # a list item is what its heading says it is ("Soft Abilities" over "Empathy")
        share = 1.0 if st.listed and want.intent in _LISTY else 0.5
        matched += share * sum(math.log(1 + n / df[t]) for t in (q & heading) - toks if t in df)
        near = (kind & toks) | (kind & heading if st.listed else set())
        matched += ABOUT_SHARE * sum(math.log(1 + n / df[t]) for t in near if t in df)
        score = matched / q_weight + 0.3 / (1 + i)
        if need is not None:
            score += 1.0 if (need.search(st.text) and extract_numbers(st.text)) else -1.0
        if hits[i].chunk.id in firsts:
            score += FIRST_BONUS
        if want.level and want.level in levels:
            score += LEVEL_BONUS
        elif not want.level and want.intent == "time" and lowest in levels:
            score += ENTRY_BONUS
        cands.append(_Cand(score, i, st))
    if not cands:
        return Extract("", True)
    cands.sort(key=lambda c: (-c.score, c.hit, c.st.pos))
    if similar is not None:
        # the shortlist only: each statement is one embedding. On the raw seed pages' 39
        # questions, embedding every statement doubled the median time per question; these
        # eight add about half. Re-ranking only when the question's words matched little lost
        # the growth figure that answers "is support a dead end job?"
        cands = cands[:SHORTLIST]
        for c, sim in zip(cands, similar(want.text, [c.st.text for c in cands]), strict=True):
            c.score += SIM_WEIGHT * sim
        cands.sort(key=lambda c: (-c.score, c.hit, c.st.pos))
    best = cands[0].score
    if need is not None and best < 0.5:
        return Extract("", True)  # no statement with the figure the question needs
    if best < 0.2:
        return Extract("", True)
    limit = 2 if want.brief else (5 if want.intent in _LISTY else 3)
    chosen: list[_Cand] = []
    for c in cands:
        if len(chosen) >= limit or c.score < best * 0.5:
            break
        if any(_overlap(c.st.text, o.st.text) > 0.6 for o in chosen):
            continue
        chosen.append(c)
    # in reading order: the best passage first, each passage's statements as written
    first: dict[int, int] = {}
    for c in chosen:
        first.setdefault(c.hit, len(first))
    chosen.sort(key=lambda c: (first[c.hit], c.st.pos))
    lines = []
    for c in chosen:
        mark = sources.cite_hit(hits[c.hit])
        body = c.st.text.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        lines.append(f"{body.rstrip('.!?')} {mark}{end}")
    bullets = want.intent in _LISTY and len(lines) > 2
    text = "\n".join(f"- {x}" for x in lines) if bullets else " ".join(lines)
    return Extract(text, False, missing, sorted({tax.display(r) for r in have}))


def _answerable(
    want: Wanted, per_hit: list[list[Statement]], where: list[str], tax: Taxonomy
) -> tuple[list[tuple[int, Statement, set[str]]], set[str]]:
    """The statements that may answer, with the levels they name; and the regions the passages
    give figures for. Never a figure for another region, nor one whose region the page does
    not say; another level's figure only when none is given at the level asked ("senior pay in
    India?" gets the mid-level figure the page gives, which names its level, rather than a
    decline that says India has no figure)."""
    asked = want.asked()
    have: set[str] = set()
    found: list[tuple[int, Statement, set[str], bool]] = []
    for i, sts in enumerate(per_hit):
        for st in sts:
            money = bool(_MONEY.search(st.text) and extract_numbers(st.text))
            regions = regions_in(st.text, tax) or regions_in(where[i], tax)
            levels = levels_in(st.text, tax) or (levels_in(where[i], tax) if money else set())
            if money and asked:
                have.update(regions)
                if not any(_for_region(regions, a, tax) for a in asked):
                    continue
            found.append((i, st, levels, money))
    level = want.level
    if level and any(money and level in levels for _, _, levels, money in found):
        found = [f for f in found if not (f[3] and f[2] and level not in f[2])]
    return [(i, st, levels) for i, st, levels, _ in found], have


def _with_firsts(
    want: Wanted, hits: Sequence[Hit], before: Before | None
) -> tuple[list[Hit], set[str]]:
    """The passages, plus the first section of each sequence a passage belongs to when the
    question asks what comes first; and the ids of those first sections."""
    out = list(hits)
    firsts: set[str] = set()
    if not want.first or before is None:
        return out, firsts
    have = {(h.chunk.guide, h.chunk.section_path): h for h in out}
    for h in hits:
        first = first_of_sequence(h.chunk, before)
        if first is None:
            continue
        known = have.get((first.guide, first.section_path))
        if known is None:
            known = Hit(first, 0.0)
            have[(first.guide, first.section_path)] = known
            out.append(known)
        firsts.add(known.chunk.id)
    return out, firsts


def _overlap(a: str, b: str) -> float:
    x, y = set(stems(a)), set(stems(b))
    return len(x & y) / max(1, len(x | y))
