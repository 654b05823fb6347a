"""Hybrid retrieval: dense (Chroma) plus BM25 (SQLite FTS5) over the live chunks, fused by rank."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from .chunking import Chunk
from .errors import InputError, NotFound
from .index import Index

__all__ = ["Hit", "Mode", "Retriever", "query_terms", "tokenize"]

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60  # the constant from Cormack et al. (2009); robust without tuning
# English function words only: they match every passage and rank none.
STOPWORDS = frozenset(
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


def _fold_plural(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def tokenize(text: str) -> list[str]:
    """Content words with plurals folded, numbers kept whole ("1,200", "2.5"): for overlap tests."""
    words = re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", text.lower())
    return [_fold_plural(w) for w in words if w not in STOPWORDS]


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


def query_terms(query: str) -> list[str]:
    """The words FTS5 should match: any of them, stemmed by its Porter tokenizer."""
    return [w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS]


class Retriever:
    """Searches the index; holds nothing per chunk, so start-up does not grow with the corpus.

    BM25 lives in SQLite (FTS5, kept by each ingest's swap), vectors in Chroma, and a result's
    whole section is one indexed query. Only the role titles are cached, per index generation.
    """

    def __init__(self, index: Index, hint: Callable[[str], str] | None = None) -> None:
        """``hint`` rewrites a query before both searches; the tutor adds the region a city
        belongs to, because the guides say "India" where learners say "Bangalore"."""
        self.index = index
        self.hint = hint
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._roles: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self._alias_re: re.Pattern[str] | None = None

    def refresh(self) -> None:
        gen = self.index.generation()
        if gen == self._generation:
            return
        with self._lock:
            if gen != self._generation:
                self._roles = self.index.roles()
                self._aliases = self.index.aliases()
                words = "|".join(sorted(map(re.escape, self._aliases), key=len, reverse=True))
                self._alias_re = re.compile(rf"\b({words})\b", re.I) if words else None
                self._generation = gen

    def expand(self, query: str) -> str:
        """Spell out the index's acronyms ("csm" -> "customer success manager"): the embedder
        knows the words far better than the acronym (dense MRR 0.788 -> 0.828)."""
        if self._alias_re is None:
            return query
        return self._alias_re.sub(lambda m: self._aliases[m.group(1).lower()], query)

    @property
    def chunks(self) -> list[Chunk]:
        """Every live chunk, read now (tutor/evaluation/reports.py's gold contexts use it)."""
        return self.index.live_chunks()

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
        parts = self.index.section(best.guide, best.section_path) or [best]
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
        return self.index.lexical_query(query_terms(query), n, role)

    def _dense_ranked(self, query: str, role: str | None, n: int) -> list[str]:
        if self.index.collection_open:
            vec = self.index.embedder.embed_query(self.expand(query))
        else:
            # a cold process: open Chroma (0.6 s, mostly its imports) while the model loads
            # (0.2 s, mostly onnxruntime's C++ that lets go of the GIL): 0.15 s less here.
            # numpy first: both sides import it, and numpy imported from two threads at once
            # fails ("partially initialized module numpy._core._multiarray_umath").
            import numpy  # noqa: F401

            with ThreadPoolExecutor(1, "open-chroma") as pool:
                opening = pool.submit(lambda: self.index.collection)
                vec = self.index.embedder.embed_query(self.expand(query))
                opening.result()
        # over-fetch: vectors of an interrupted ingest may be present but are not live
        return [cid for cid, _ in self.index.dense_query(vec, n * 2, role)]

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
        if self.hint is not None:
            query = self.hint(query)
        dense = self._dense_ranked(query, role, pool) if mode in ("hybrid", "dense") else []
        lexical = self._bm25_ranked(query, role, pool) if mode in ("hybrid", "bm25") else []
        live = self.index.chunks([*dense, *lexical])
        dense = [cid for cid in dense if cid in live][:pool]
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
            c = live[cid]
            key = (c.guide, " > ".join(c.section_path))
            if key in seen_sections:  # one passage per section: the next one adds nothing new
                continue
            seen_sections.add(key)
            hits.append(Hit(self._whole_section(c), scores[cid], d_rank.get(cid), b_rank.get(cid)))
            if len(hits) >= k:
                break
        return hits
