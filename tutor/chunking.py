"""Split cleaned sections into token-bounded chunks that follow headings."""

from __future__ import annotations

import hashlib
import logging
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import CorpusError
from .ingestion import Document

TokenCounter = Callable[[str], int]
log = logging.getLogger(__name__)
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


# A chunk is bounded in characters as well as tokens: a word-piece count can call a run of
# 2,000 characters one [UNK], and a text that long is never counted whole (counting is what
# made a 400 KB single-token guide take 228 s). Ordinary English runs 4-5 characters a token.
CHARS_PER_TOKEN_MAX = 10
# An unbroken run of printable ASCII this long is an encoded blob (a data URI, base64), not
# prose; a URL stays well under it. Thousands of chunks of it would help no learner.
MAX_UNBROKEN = 2048
_BLOB = re.compile(rf"[!-~]{{{MAX_UNBROKEN + 1},}}")
_JOIN_SLACK = 2  # count(a + sep + b) <= count(a) + count(b) + 2 for tiktoken and WordPiece


def drop_blobs(text: str, where: str = "") -> str:
    def drop(m: re.Match[str]) -> str:
        log.warning(
            "%sdropped an unbroken run of %s characters (an encoded blob?)",
            f"{where}: " if where else "",
            f"{len(m.group()):,}",
        )
        return " "

    return _BLOB.sub(drop, text)


def _fits(text: str, limit: int, count: TokenCounter) -> bool:
    return len(text) <= limit * CHARS_PER_TOKEN_MAX and count(text) <= limit


def _pieces(text: str, limit: int, count: TokenCounter) -> Iterable[str]:
    """Paragraphs, then sentences, then word windows: the largest units that fit."""
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if _fits(para, limit, count):
            yield para
            continue
        for line in para.split("\n"):
            if _fits(line, limit, count):
                yield line
                continue
            for sent in _SENTENCE.split(line):
                if _fits(sent, limit, count):
                    yield sent
                    continue
                yield from _greedy(_words(sent, limit, count), " ", limit, count)


def _words(sent: str, limit: int, count: TokenCounter) -> Iterable[str]:
    """The words of a sentence; a single "word" over the limit (a long URL, a line of Chinese)
    is cut into the longest character runs that fit, so no chunk exceeds the embedder's input."""
    for w in sent.split():
        if _fits(w, limit, count):
            yield w
        else:
            yield from _slices(w, limit, count)


def _slices(word: str, limit: int, count: TokenCounter) -> Iterable[str]:
    """Longest prefixes that fit, found by galloping from the last slice's length and then
    bisecting: each slice costs O(log) counts of about its own length, so the whole word is
    linear, where bisecting over the whole remaining word was quadratic."""
    cap = limit * CHARS_PER_TOKEN_MAX
    start, guess = 0, max(1, limit)
    while start < len(word):
        room = min(len(word) - start, cap)
        lo, hi = 0, room + 1  # word[start:start+lo] fits; [start:start+hi] does not
        probe = min(guess, room)
        while True:
            if count(word[start : start + probe]) <= limit:
                lo = probe
                if probe == room:
                    break
                probe = min(room, probe * 2)
            else:
                hi = probe
                break
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if count(word[start : start + mid]) <= limit:
                lo = mid
            else:
                hi = mid
        lo = max(lo, 1)  # one character always moves on, whatever a tokenizer says
        yield word[start : start + lo]
        start += lo
        guess = lo


def _greedy(items: Iterable[str], sep: str, limit: int, count: TokenCounter) -> Iterable[str]:
    """Join items up to the limit, in order; each item fits alone.

    The same cuts as re-counting the whole buffer for every item, without the re-counting: an
    upper bound (the buffer's count plus the item's plus the joint) settles most items, and
    the buffer is counted exactly only when that bound is over the limit.
    """
    cap = limit * CHARS_PER_TOKEN_MAX
    buf: list[str] = []
    bound = chars = 0  # bound >= count(sep.join(buf))
    for item in items:
        n = count(item)
        if buf:
            if chars + len(sep) + len(item) <= cap:
                joined = bound + n + _JOIN_SLACK
                if joined > limit:
                    joined = count(sep.join([*buf, item]))
                if joined <= limit:
                    buf.append(item)
                    bound, chars = joined, chars + len(sep) + len(item)
                    continue
            yield sep.join(buf)
        buf, bound, chars = [item], n, len(item)
    if buf:
        yield sep.join(buf)


def _pack(pieces: Iterable[str], budget: int, count: TokenCounter) -> list[str]:
    """Greedily join pieces up to the budget. A tail of a word or two ("Good luck.") joins the
    chunk before it when it fits, and otherwise stays a chunk of its own: no text is dropped."""
    texts: list[str] = []
    for joined in _greedy(pieces, "\n\n", budget, count):
        text = joined.strip()
        words = len(re.findall(r"\w+", text))  # any script: a Hindi or Chinese guide counts
        if words and words < 3 and texts and _fits(texts[-1] + "\n\n" + text, budget, count):
            texts[-1] += "\n\n" + text
        elif words:
            texts.append(text)
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
        body = drop_blobs(section.text, doc.file)
        for text in _pack(_pieces(body, budget, count), budget, count):
            embed = prefix + text
            chunks.append(
                Chunk(chunk_id(embed), text, path[-1], path, len(chunks), meta=dict(meta))
            )
    return chunks


def _shingle_hashes(text: str, n: int = 4) -> Any:
    """Word 4-grams as sorted unique crc32 values: 4 bytes each instead of a string each."""
    import numpy as np

    words = _WORD.findall(text.lower())
    grams = (
        [" ".join(words)]
        if len(words) < n
        else [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    )
    return np.unique(np.fromiter((zlib.crc32(g.encode()) for g in grams), np.uint32, len(grams)))


class Deduper:
    """Exact and near-duplicate chunks (word 4-gram Jaccard >= threshold), first seen wins.

    MinHash LSH proposes the few earlier chunks that may be near copies, and the exact Jaccard
    of their shingles decides: sub-quadratic, where comparing every pair took 31.5 s at 3,000
    chunks. Chunks are fed one at a time, so an ingest can stream its files through it.
    """

    def __init__(self, threshold: float = 0.85, num_perm: int = 64) -> None:
        from datasketch import MinHash, MinHashLSH

        self.threshold = threshold
        self._minhash = MinHash
        self._perms = MinHash(num_perm=num_perm, scheme="affine32").permutations
        self._num_perm = num_perm
        # Candidates at Jaccard 0.5, decided at 0.85: LSH tuned to the threshold itself missed
        # a quarter of the near copies that the exact pairwise pass found (110 of 145 at
        # 3,000 synthetic chunks); at 0.5 it finds all 145 in the same time.
        self._lsh = MinHashLSH(threshold=min(0.5, threshold), num_perm=num_perm)
        self._shingles: list[Any] = []
        self._seen: set[bytes] = set()  # chunk ids and digests of normalised text
        self.dropped = 0

    def add(self, c: Chunk) -> bool:
        """True when the chunk is new (and now remembered), False for a duplicate."""
        import numpy as np

        norm = hashlib.sha1(" ".join(_WORD.findall(c.text.lower())).encode()).digest()
        if c.id.encode() in self._seen or norm in self._seen:
            self.dropped += 1
            return False
        sh = _shingle_hashes(c.text)
        m = self._minhash(
            num_perm=self._num_perm, hashfunc=_identity, permutations=self._perms, scheme="affine32"
        )
        m.update_batch(sh.tolist())
        for key in self._lsh.query(m):
            other = self._shingles[int(key)]
            inter = len(np.intersect1d(sh, other, assume_unique=True))
            if inter / max(1, len(sh) + len(other) - inter) >= self.threshold:
                self.dropped += 1
                return False
        self._lsh.insert(str(len(self._shingles)), m)
        self._shingles.append(sh)
        self._seen.update((c.id.encode(), norm))
        return True


def _identity(value: int) -> int:
    return value


def dedupe(chunks: list[Chunk], threshold: float = 0.85) -> tuple[list[Chunk], int]:
    """Drop exact and near-duplicate chunks, keeping the first seen."""
    d = Deduper(threshold)
    kept = [c for c in chunks if d.add(c)]
    return kept, d.dropped
