"""Hybrid retrieval: dense (Chroma) plus BM25 over the same live chunks, fused by reciprocal rank."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

from rank_bm25 import BM25Okapi

from .chunking import Chunk
from .errors import InputError, NotFound
from .index import Index
from .regions import with_region_hint

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60  # the constant from Cormack et al. (2009); robust without tuning

_STOP = set(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "should",
        "would",
        "could",
        "much",
        "many",
        "get",
        "about",
        "into",
        "than",
        "then",
        "there",
        "these",
        "those",
        "its",
        "also",
        "any",
    ]
)
# Learners write "csm", "pay", "make"; the guides write "Customer Success Manager", "salary".
_SYNONYMS: dict[str, list[str]] = {
    "csm": ["customer", "success", "manager"],
    "csms": ["customer", "success", "manager"],
    "cs": ["customer", "success"],
    "pay": ["salary", "earn"],
    "paid": ["salary", "earn"],
    "make": ["salary", "earn"],
    "earn": ["salary"],
    "earning": ["salary"],
    "salary": ["pay", "earn"],
    "compensation": ["salary", "pay"],
    "money": ["salary", "pay"],
    "wage": ["salary"],
    "long": ["months", "time"],
    "qbr": ["quarterly", "business", "review"],
    "qbrs": ["quarterly", "business", "review"],
    "tool": ["tools", "platforms", "stack"],
    "software": ["tools", "platforms"],
    "germany": ["german", "europe"],
    "german": ["germany"],
    "uk": ["london", "europe"],
    "usa": ["united", "states", "us"],
    "america": ["united", "states", "us"],
    "india": ["indian"],
    "nrr": ["net", "revenue", "retention"],
    "certification": ["certifications", "certificate"],
    "certificate": ["certifications"],
    "hire": ["employer"],
    "hires": ["employer"],
    "hiring": ["employer"],
    "employ": ["employer"],
    "code": ["technical", "developer"],
    "coding": ["technical", "developer"],
    "programming": ["technical", "developer"],
    "example": ["case", "study"],
    "examples": ["case", "study"],
}
# The embedder knows "customer success manager" far better than "CSM": spell acronyms out
# in the query it embeds (BM25 gets the same words from _SYNONYMS).
_ACRONYMS = {
    "csm": "customer success manager",
    "csms": "customer success managers",
    "cs": "customer success",
    "qbr": "quarterly business review",
    "qbrs": "quarterly business reviews",
    "nrr": "net revenue retention",
}
_ACRONYM = re.compile(r"\b(" + "|".join(_ACRONYMS) + r")\b", re.IGNORECASE)


def expand_acronyms(query: str) -> str:
    return _ACRONYM.sub(lambda m: _ACRONYMS[m.group(1).lower()], query)


def _stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def tokenize(text: str, expand: bool = False) -> list[str]:
    words = re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", text.lower())
    out: list[str] = []
    for w in words:
        if w in _STOP:
            continue
        out.append(_stem(w))
        if expand and w in _SYNONYMS:
            out.extend(_stem(s) for s in _SYNONYMS[w])
    return out


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict[str, object]:
        c = self.chunk
        return {
            "id": c.id,
            "guide": c.guide,
            "role": c.role,
            "title": c.title,
            "heading": c.heading,
            "section_path": list(c.section_path),
            "text": c.text,
            "score": round(self.score, 6),
            "source": c.meta.get("source", ""),
            "source_url": c.meta.get("source_url") or None,
            "as_of": c.meta.get("as_of", ""),
            "dense_rank": self.dense_rank,
            "bm25_rank": self.bm25_rank,
        }


class Retriever:
    """Holds the live chunks and their BM25 index in memory; rebuilt when the generation changes."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._generation: str | None = None
        self.chunks: list[Chunk] = []
        self._by_id: dict[str, Chunk] = {}
        self._sections: dict[tuple[str, str], list[Chunk]] = {}
        self._roles: dict[str, str] = {}
        self._bm25: BM25Okapi | None = None

    def refresh(self) -> None:
        gen = self.index.generation()
        if gen == self._generation:
            return
        with self._lock:
            if gen == self._generation:
                return
            chunks = self.index.live_chunks()
            self._by_id = {c.id: c for c in chunks}
            sections: dict[tuple[str, str], list[Chunk]] = {}
            for c in chunks:
                sections.setdefault((c.guide, " > ".join(c.section_path)), []).append(c)
            self._sections = {k: sorted(v, key=lambda c: c.position) for k, v in sections.items()}
            # the section path counts twice (it also opens embed_text): a heading that matches
            # the question is the strongest lexical evidence a passage has
            docs = [tokenize(c.embed_text) + tokenize(" ".join(c.section_path)) for c in chunks]
            self._bm25 = BM25Okapi(docs) if chunks else None
            self._roles = {c.role: str(c.meta.get("role_title", c.role)) for c in chunks}
            self.chunks = chunks
            self._generation = gen

    def roles(self) -> dict[str, str]:
        """Role slug -> title, computed once per index generation (asked several times per answer)."""
        self.refresh()
        return self._roles

    def check_role(self, role: str | None) -> None:
        if role is None:
            return
        roles = self.roles()
        if role not in roles:
            known = ", ".join(sorted(roles)) or "none (run `tutor ingest`)"
            raise NotFound(f"Unknown role '{role}'.", f"Known roles: {known}.")

    def _whole_section(self, best: Chunk) -> Chunk:
        """The section a chunk belongs to, under the best chunk's id.

        Chunks are what we embed and rank; sections are what a learner reads and what one
        result stands for. A split section must not hide its other half: "Months 6–8" was
        represented by a 29-word tail while its 117-word body, with the answer, was dropped.
        """
        parts = self._sections.get((best.guide, " > ".join(best.section_path)), [best])
        if len(parts) == 1:
            return best
        return Chunk(
            id=best.id,
            text="\n\n".join(p.text for p in parts),
            heading=best.heading,
            section_path=best.section_path,
            position=parts[0].position,
            meta=best.meta,
        )

    def _bm25_ranked(self, query: str, role: str | None, n: int) -> list[str]:
        if self._bm25 is None:
            return []
        scores = self._bm25.get_scores(tokenize(query, expand=True))
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        out = []
        for i in order:
            if scores[i] <= 0:
                break
            c = self.chunks[i]
            if role and c.role != role:
                continue
            out.append(c.id)
            if len(out) >= n:
                break
        return out

    def _dense_ranked(self, query: str, role: str | None, n: int) -> list[str]:
        vec = self.index.embedder.embed_query(expand_acronyms(query))
        # over-fetch: vectors of an interrupted ingest may be present but are not live
        hits = self.index.dense_query(vec, n * 2, role)
        return [cid for cid, _ in hits if cid in self._by_id][:n]

    def search(
        self, query: str, role: str | None = None, k: int = 5, mode: Mode = "hybrid"
    ) -> list[Hit]:
        query = (query or "").strip()
        if not query:
            raise InputError(
                "The search query is empty.", "Type a question, e.g. 'how much does a CSM earn?'"
            )
        if k < 1 or k > 50:
            raise InputError(f"k={k} is out of range.", "Use a number from 1 to 50.")
        self.refresh()
        self.index.require_ready()
        self.check_role(role)
        pool = max(20, k * 4)
        query = with_region_hint(query)  # both searches: the guides say "India", not "Bangalore"
        dense = self._dense_ranked(query, role, pool) if mode in ("hybrid", "dense") else []
        lexical = self._bm25_ranked(query, role, pool) if mode in ("hybrid", "bm25") else []
        scores: dict[str, float] = {}
        for ranks in (dense, lexical):
            for r, cid in enumerate(ranks):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + r + 1)
        d_rank = {cid: r + 1 for r, cid in enumerate(dense)}
        b_rank = {cid: r + 1 for r, cid in enumerate(lexical)}
        ordered = sorted(scores, key=lambda cid: (-scores[cid], cid))
        hits: list[Hit] = []
        seen_sections: set[tuple[str, str]] = set()
        for cid in ordered:
            c = self._by_id[cid]
            key = (c.guide, " > ".join(c.section_path))
            if key in seen_sections:  # one passage per section: the next one adds nothing new
                continue
            seen_sections.add(key)
            hits.append(Hit(self._whole_section(c), scores[cid], d_rank.get(cid), b_rank.get(cid)))
            if len(hits) >= k:
                break
        return hits
