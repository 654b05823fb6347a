"""The extractive path: cited sentences from the retrieved passages.

It answers for a guide that has no profile (a page a maintainer just ingested) and for an
intent a profile has no data for. Sentences are scored by the question's stemmed words,
weighted by how rare each word is among the passages, plus what the intent needs: a pay
question wants a sentence with a currency figure, a time question one with a duration, a list
question the guide's own list. It never writes a fact of its own, and never quotes a passage
flagged at ingest for instruction-like text (tutor/injection.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .citations import extract_numbers, split_sentences
from .compose import Sources
from .injection import mask_addresses
from .retrieval import Hit

_TOKEN = re.compile(r"[a-z0-9]+")
_MONEY = re.compile(r"[$€£₹]\s?\d|\d\s?(?:k|K|L)\b|\b\d{2,3},\d{3}\b")
_DURATION = re.compile(r"\d+\s?(?:[–-]\s?\d+)?\+?\s*(?:months?|weeks?|years?|hours?)\b", re.I)
# what an intent's answer must contain to be an answer at all
_NEEDS = {"pay": _MONEY, "time": _DURATION}
_LISTY = {"skills", "tools", "portfolio", "day", "education", "interview", "start", "overview"}


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    return _stemmer().stemWords(_TOKEN.findall(text.lower()))


def _sentences(hit: Hit) -> list[str]:
    out = []
    declared = str(hit.chunk.meta.get("source_url") or "")
    for s in split_sentences(hit.chunk.text):
        s = re.sub(r"^\s*(?:[-*•]|\d+\.)\s+", "", s).strip()
        if len(s.split()) < 3 or s.endswith(":"):
            continue
        # an address in a guide's text is never passed on, only its declared source link: an
        # instruction the patterns miss ("write to desk@... with your salary") carries one
        if mask_addresses(s, declared) != s:
            continue
        out.append(s)
    return out


def extractive_answer(
    question: str, intent: str, hits: Sequence[Hit], sources: Sources, brief: bool = False
) -> tuple[str, bool]:
    """(answer text with [n] markers, declined)."""
    cands: list[tuple[float, int, int, str]] = []
    # a passage flagged at ingest for instruction-like text is never quoted, not even the
    # sentences of it that read innocently: a planted instruction often spans several
    per_hit = [[] if h.chunk.flagged else _sentences(h) for h in hits]
    docs = [set(stems(s)) for ss in per_hit for s in ss]
    n = max(1, len(docs))
    df: dict[str, int] = {}
    for d in docs:
        for t in d:
            df[t] = df.get(t, 0) + 1
    q = set(stems(question))
    q_weight = sum(math.log(1 + n / df[t]) for t in q if t in df) or 1.0
    need = _NEEDS.get(intent)
    for i, (hit, sents) in enumerate(zip(hits, per_hit, strict=True)):
        heading = set(stems(" ".join(hit.chunk.section_path)))
        for pos, s in enumerate(sents):
            toks = set(stems(s))
            matched = sum(math.log(1 + n / df[t]) for t in q & toks if t in df)
            matched += 0.5 * sum(math.log(1 + n / df[t]) for t in (q & heading) - toks if t in df)
            score = matched / q_weight + 0.3 / (1 + i)
            if need is not None:
                score += 1.0 if (need.search(s) and extract_numbers(s)) else -1.0
            cands.append((score, i, pos, s))
    if not cands:
        return "", True
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    best = cands[0][0]
    if need is not None and best < 0.5:
        return "", True  # no sentence with the figure the question needs
    if best < 0.2:
        return "", True
    limit = 2 if brief else (5 if intent in _LISTY else 3)
    chosen: list[tuple[float, int, int, str]] = []
    for c in cands:
        if len(chosen) >= limit or c[0] < best * 0.5:
            break
        if any(_overlap(c[3], o[3]) > 0.6 for o in chosen):
            continue
        chosen.append(c)
    # in reading order: the best passage first, each passage's sentences as written
    first: dict[int, int] = {}
    for c in chosen:
        first.setdefault(c[1], len(first))
    chosen.sort(key=lambda c: (first[c[1]], c[2]))
    lines = []
    for _, i, _, s in chosen:
        mark = sources.cite_hit(hits[i])
        body = s.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        lines.append(f"{body.rstrip('.!?')} {mark}{end}")
    bullets = intent in _LISTY and len(lines) > 2
    return ("\n".join(f"- {x}" for x in lines) if bullets else " ".join(lines)), False


def _overlap(a: str, b: str) -> float:
    x, y = set(stems(a)), set(stems(b))
    return len(x & y) / max(1, len(x | y))
