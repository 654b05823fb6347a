"""Answers with citations: parse [n] markers, drop bad ones, and never show an unverified number."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .retrieval import Hit

_MARK = re.compile(r"\[(\d{1,3})\]")
# a boundary keeps markers written after the full stop ("text. [2] Next") with their sentence
_SENT_END = re.compile(r"([.!?](?:\s*\[\d{1,3}\])*)\s+(?=[A-Z0-9\"'“(₹$€£*-])")


@dataclass
class Citation:
    n: int
    guide: str
    title: str
    heading: str
    text: str
    source: str
    as_of: str
    source_url: str | None = None
    chunk_id: str | None = None
    kind: str = "guide"  # or "progress": the learner's own data or a pace calculation

    @classmethod
    def from_hit(cls, n: int, hit: Hit) -> Citation:
        c = hit.chunk
        return cls(
            n=n,
            guide=c.guide,
            title=c.title,
            heading=c.heading,
            text=c.text,
            source=str(c.meta.get("source", "")),
            as_of=str(c.meta.get("as_of", "")),
            source_url=c.meta.get("source_url") or None,
            chunk_id=c.id,
        )


def progress_citation(n: int, title: str, heading: str, text: str, source: str) -> Citation:
    """The learner's own records or a pace calculation, shown as text so it can be checked."""
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()
    return Citation(n, "progress", title, heading, text, source, today, kind="progress")


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    abstained: bool
    engine: str
    question: str = ""
    standalone_question: str = ""
    role: str | None = None
    intent: str = "general"
    notice: str | None = None
    passages: list[dict[str, Any]] = field(default_factory=list)
    conversation_id: str | None = None
    removed_sentences: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)  # every intent the question asked
    state: dict[str, Any] | None = None  # the conversation state after this turn (tutor.state)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of to_dict: an answer event from ask_stream back into an Answer."""
        return cls(**{**data, "citations": [Citation(**c) for c in data["citations"]]})


# --- numbers ------------------------------------------------------------------------------

_NUM = re.compile(
    r"""(?P<cur>[$€£₹])?\s?
        (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)
        (?:\s?(?P<suf>k|K|L|M|bn|million|billion|lakh)\b)?""",
    re.VERBOSE,
)
_SCALE = {
    "k": 1e3,
    "K": 1e3,
    "L": 1e5,
    "lakh": 1e5,
    "M": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}


def extract_numbers(text: str) -> list[float]:
    """Every figure in `text` as a value: "$110k" -> 110000, "₹22L" -> 2200000, "3–9" -> 3 and 9.

    Citation markers ([1]) and ordinals inside ids are ignored.
    """
    text = _MARK.sub(" ", text)
    out: list[float] = []
    for m in _NUM.finditer(text):
        start = m.start("num")
        if start > 0 and (
            text[start - 1].isalpha()
            or text[start - 1] == "-"
            and start > 1
            and text[start - 2].isalpha()
        ):
            continue  # "B1", "11-1021" stay as codes below
        raw = m.group("num").replace(",", "")
        try:
            value = float(raw)
        except ValueError:
            continue
        suf = m.group("suf")
        if suf:
            value *= _SCALE[suf]
        out.append(round(value, 4))
    return out


def numbers_supported(sentence: str, passages: list[str]) -> list[float]:
    """Numbers in `sentence` that appear in none of `passages` (empty list = all verified)."""
    have: set[float] = set()
    for p in passages:
        have.update(extract_numbers(p))
    return [n for n in extract_numbers(sentence) if n not in have]


# --- sentences and markers ----------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """Sentences with their trailing [n] markers kept; list items count as sentences."""
    out: list[str] = []
    for block in re.split(r"\n+", text.strip()):
        block = block.strip()
        if block:
            parts = _SENT_END.split(block)
            # re.split with a group alternates text and the captured end; glue them back
            sents = [
                parts[i] + (parts[i + 1] if i + 1 < len(parts) else "")
                for i in range(0, len(parts), 2)
            ]
            out.extend(x.strip() for x in sents if x.strip())
    return out


def markers(sentence: str) -> list[int]:
    return [int(x) for x in _MARK.findall(sentence)]


def check_answer(text: str, sources: dict[int, Citation]) -> tuple[str, list[Citation], list[str]]:
    """Keep what is verifiable; renumber citations by first use.

    - markers that match no passage are dropped;
    - a sentence with a number that no cited passage contains is removed (never shown unverified);
    - citations are renumbered 1..m in order of first use.
    Returns (text, citations, removed sentences).
    """
    kept_lines: list[str] = []
    removed: list[str] = []
    order: dict[int, int] = {}
    for line in text.strip().split("\n"):
        if not line.strip():
            kept_lines.append("")
            continue
        bullet = re.match(r"^\s*(?:[-*]|\d+\.)\s+", line)
        prefix = bullet.group(0) if bullet else ""
        body = line[len(prefix) :]
        kept: list[str] = []
        for sent in split_sentences(body):
            valid = [n for n in markers(sent) if n in sources]
            clean = _MARK.sub(lambda m: m.group(0) if int(m.group(1)) in sources else "", sent)
            clean = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", clean)).strip()
            nums = extract_numbers(clean)
            if nums:
                cited = [sources[n].text for n in valid]
                if not valid or numbers_supported(clean, cited):
                    removed.append(sent)
                    continue
            for n in valid:
                order.setdefault(n, len(order) + 1)
            kept.append(clean)
        if kept:
            kept_lines.append(prefix + " ".join(kept))
    body = "\n".join(kept_lines).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    body = _MARK.sub(
        lambda m: f"[{order[int(m.group(1))]}]" if int(m.group(1)) in order else "", body
    )
    cites = []
    for old, new in sorted(order.items(), key=lambda kv: kv[1]):
        c = sources[old]
        cites.append(Citation(**{**asdict(c), "n": new}))
    return body, cites, removed


# --- links ------------------------------------------------------------------------------------

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_URL = re.compile(r"(?:https?:)?//[^\s)\]>\"']+|\bwww\.[^\s)\]>\"']+", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def strip_foreign_links(
    text: str, citations: list[Citation], conversation: str = ""
) -> tuple[str, list[str]]:
    """Remove links and email addresses that no cited passage contains.

    A guide may link its source; a model (or a planted instruction) must not add an address
    of its own, nor one that smuggles the learner's words out in its query string.
    """
    allowed = " ".join(c.text for c in citations)
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]{4,}", conversation)}
    removed: list[str] = []

    def ok(url: str) -> bool:
        if url not in allowed:
            return False
        query = re.split(r"[?#]", url, maxsplit=1)[1:] or [""]
        return not any(w in query[0].lower() for w in words)

    def link(m: re.Match[str]) -> str:
        if ok(m.group(2)):
            return m.group(0)
        removed.append(m.group(0))
        return m.group(1)

    text = _MD_LINK.sub(link, text)

    def bare(m: re.Match[str]) -> str:
        if ok(m.group(0)):
            return m.group(0)
        removed.append(m.group(0))
        return "[link removed]"

    text = _URL.sub(bare, text)

    def email(m: re.Match[str]) -> str:
        if m.group(0) in allowed:
            return m.group(0)
        removed.append(m.group(0))
        return "[address removed]"

    return _EMAIL.sub(email, text), removed
