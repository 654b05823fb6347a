"""What, specifically, a question is about: the profile fact closest to it.

An intent says what kind of answer a question wants; the focus says which fact it turns on.
"For the customer health score project, which signals should I track?" is a portfolio
question, but its answer is the one project's contents, not the list of four projects;
"how technical do I need to be?" reads as a skills question, but the myth about coding
answers it. The answer leads with the focus and the intent's plan follows it.

A fact's closeness is the embedder's similarity to the question (with slot values taken out)
plus half the share of the question's specific words the fact uses, each word weighted by how
rare it is among the profile's facts: "playbook" in two facts says much, "customer" in forty
says nothing. Words common in the labelled examples ("portfolio", "learn") and role names are
not specific: they say what kind of question it is, or about whom.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .profiles import Profile
from .taxonomy import stem_all, words

Similarity = Callable[[str, list[str]], list[float]]
# A fact is the question's focus from this combined score. On the shipped profiles, questions
# about one thing ("what goes in a churn save playbook", 1.29; "how technical do I need to
# be", 1.04) score above 0.8 and broad ones ("what skills do I need") below 0.6.
FOCUS_MIN = 0.75
# ...or one fact stands well clear of the rest: "by how much did inbound tickets drop?" scores
# 0.69 on the telecom case study and 0.26 on the next fact.
FOCUS_CLEAR = 0.6
FOCUS_MARGIN = 0.3
LEXICAL_WEIGHT = 0.5
# Figures have their own plans and checks (a source note names other regions' figures); a
# story's alias list matches on names, not meaning.
_SKIP_SECTIONS = ("pay", "time", "transitions", "source_notes")


@dataclass(frozen=True)
class FactWords:
    path: str
    fact: Any
    text: str  # fact.describe()
    stems: frozenset[str]


_CACHE: dict[int, tuple[Profile, list[FactWords]]] = {}
_CACHE_LOCK = threading.Lock()


def fact_words(profile: Profile) -> list[FactWords]:
    """Each fact of a profile with its text and word stems, worked out once per loaded
    profile: every question used to redo it, three times, at 4 ms an answer."""
    with _CACHE_LOCK:
        hit = _CACHE.get(id(profile))
        if hit is not None and hit[0] is profile:
            return hit[1]
    out = []
    for path, f in profile.facts():
        text = f.describe()
        out.append(FactWords(path, f, text, frozenset(stem_all(words(text)))))
    with _CACHE_LOCK:
        if len(_CACHE) > 32:  # profiles reloaded after edits: drop the old ones
            _CACHE.clear()
        _CACHE[id(profile)] = (profile, out)  # the profile is held, so its id is not reused
    return out


@dataclass(frozen=True)
class Scored:
    score: float
    path: str
    fact: Any


def specific_words(question: str, skip_words: set[str]) -> set[str]:
    """The question's word stems that can name one fact: not function words, role names or
    slot values (``skip_words``), nor two-letter scraps."""
    return {w for w in stem_all(words(question)) if len(w) > 2 and w not in skip_words}


def rank(asked: set[str], delexed: str, profile: Profile, similar: Similarity) -> list[Scored]:
    """The profile's facts, closest to the question first (``asked``: its specific words)."""
    facts = [fw for fw in fact_words(profile) if not fw.path.startswith(_SKIP_SECTIONS)]
    if not facts:
        return []
    stems = [fw.stems for fw in facts]
    n = len(facts)
    weight = {w: math.log((n + 1) / (1 + sum(w in s for s in stems))) + 1 for w in asked}
    total = sum(weight.values())
    # one specific word is thin evidence ("what comes after csm?" shares only "come" with
    # "many strong CSMs come from support"): half credit until there are two
    damp = min(1.0, len(asked) / 2)
    sims = similar(delexed, [fw.text for fw in facts])
    out = []
    for fw, s, sim in zip(facts, stems, sims, strict=True):
        lexical = sum(weight[w] for w in asked & s) / total if total else 0.0
        out.append(Scored(sim + LEXICAL_WEIGHT * damp * lexical, fw.path, fw.fact))
    return sorted(out, key=lambda x: -x.score)


def focus(ranked: Iterable[Scored]) -> Scored | None:
    it = iter(ranked)
    best, second = next(it, None), next(it, None)
    if best is None:
        return None
    if best.score >= FOCUS_MIN:
        return best
    gap = best.score - (second.score if second else 0.0)
    return best if best.score >= FOCUS_CLEAR and gap >= FOCUS_MARGIN else None
