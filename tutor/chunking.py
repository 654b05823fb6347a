"""Split cleaned sections into token-bounded chunks that follow headings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import CorpusError
from .ingestion import Document

TokenCounter = Callable[[str], int]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(₹$€£])")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    heading: str  # the nearest heading
    section_path: tuple[str, ...]
    position: int  # order within its guide
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def guide(self) -> str:
        return str(self.meta["guide"])

    @property
    def role(self) -> str:
        return str(self.meta["role"])

    @property
    def title(self) -> str:
        return str(self.meta["title"])

    @property
    def flagged(self) -> bool:
        """Holds instruction-like text (tutor/injection.py): never quoted, never sent to a model."""
        return bool(self.meta.get("flagged"))

    @property
    def breadcrumb(self) -> str:
        return " > ".join([self.title, *self.section_path])

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: the section path first, so a passage keeps its context."""
        return f"{self.breadcrumb}\n\n{self.text}"

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for Chroma (str/int/float/bool only)."""
        return {
            **{k: ("" if v is None else v) for k, v in self.meta.items()},
            "heading": self.heading,
            "section_path": " > ".join(self.section_path),
            "position": self.position,
        }


def chunk_id(embed_text: str) -> str:
    return hashlib.sha256(embed_text.encode()).hexdigest()[:32]


def _pieces(text: str, limit: int, count: TokenCounter) -> Iterable[str]:
    """Paragraphs, then sentences, then word windows: the largest units that fit."""
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if count(para) <= limit:
            yield para
            continue
        for line in para.split("\n"):
            if count(line) <= limit:
                yield line
                continue
            for sent in _SENTENCE.split(line):
                if count(sent) <= limit:
                    yield sent
                    continue
                buf: list[str] = []
                for w in _words(sent, limit, count):
                    if buf and count(" ".join([*buf, w])) > limit:
                        yield " ".join(buf)
                        buf = []
                    buf.append(w)
                if buf:
                    yield " ".join(buf)


def _words(sent: str, limit: int, count: TokenCounter) -> Iterable[str]:
    """The words of a sentence; a single "word" over the limit (a long URL, a base64 blob) is
    cut into character runs that fit, so no chunk ever exceeds the embedder's input."""
    for w in sent.split():
        while count(w) > limit:
            lo, hi = 1, len(w)  # the longest prefix that fits
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if count(w[:mid]) <= limit:
                    lo = mid
                else:
                    hi = mid - 1
            yield w[:lo]
            w = w[lo:]
        if w:
            yield w


def _pack(pieces: Iterable[str], budget: int, count: TokenCounter) -> list[str]:
    """Greedily join pieces up to the budget. A tail of a word or two ("Good luck.") joins the
    chunk before it when it fits, and otherwise stays a chunk of its own: no text is dropped."""
    texts: list[str] = []
    buf: list[str] = []
    for piece in [*pieces, None]:
        if buf and (piece is None or count("\n\n".join([*buf, piece])) > budget):
            text = "\n\n".join(buf).strip()
            buf = []
            words = len(re.findall(r"\w+", text))  # any script: a Hindi or Chinese guide counts
            if words and words < 3 and texts and count(texts[-1] + "\n\n" + text) <= budget:
                texts[-1] += "\n\n" + text
            elif words:
                texts.append(text)
        if piece is not None:
            buf.append(piece)
    return texts


def chunk_document(doc: Document, max_tokens: int, count: TokenCounter) -> list[Chunk]:
    """Pack each section's pieces greedily; the heading prefix counts against the budget."""
    chunks: list[Chunk] = []
    meta = doc.meta
    for section in doc.sections:
        path = tuple(section.path) or (doc.title,)
        prefix = " > ".join([doc.title, *path]) + "\n\n"
        budget = max_tokens - count(prefix)
        if budget < 16:
            raise CorpusError(
                f"{doc.file}: the heading path {prefix.strip()!r} leaves no room in a "
                f"{max_tokens}-token chunk.",
                "Shorten the title or heading, or raise TUTOR_CHUNK_TOKENS.",
            )
        for text in _pack(_pieces(section.text, budget, count), budget, count):
            embed = prefix + text
            chunks.append(
                Chunk(chunk_id(embed), text, path[-1], path, len(chunks), meta=dict(meta))
            )
    return chunks


def _shingles(text: str, n: int = 4) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def dedupe(chunks: list[Chunk], threshold: float = 0.85) -> tuple[list[Chunk], int]:
    """Drop exact and near-duplicate chunks (word 4-gram Jaccard), keeping the first seen."""
    kept: list[Chunk] = []
    kept_sh: list[set[str]] = []
    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    dropped = 0
    for c in chunks:
        norm = " ".join(_WORD.findall(c.text.lower()))
        if c.id in seen_ids or norm in seen_text:
            dropped += 1
            continue
        sh = _shingles(c.text)
        if any(len(sh & k) / max(1, len(sh | k)) >= threshold for k in kept_sh):
            dropped += 1
            continue
        kept.append(c)
        kept_sh.append(sh)
        seen_ids.add(c.id)
        seen_text.add(norm)
    return kept, dropped
