"""What a passage says, as statements the extractive path can quote.

A guide's prose splits into sentences, but a scraped page also states facts as lines: a label
over its figure ("Mid salary (US)" / "$110k"), a figure over its caption ("$85,000" / "median
salary"), a figure alone under its heading ("Entry-Level" / "$67,500"), or a short labelled line
under a heading ("Experience: 1-3 years" under a career tier). Each of those is joined to what
names it, so that the quoted line says what the figure is. Questions are never statements: a
page's question headings ("What does it take?") are not answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .chunking import Chunk
from .citations import extract_numbers, split_sentences
from .compose import lower_first
from .injection import mask_addresses

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+")
_LABELLED = re.compile(r"^[A-Za-z][A-Za-z /&()'-]{1,30}: \S")
SHORT = 6  # words: a label or a value line is at most this long
# a section whose text is this short is a label over a figure, not prose of its own
LABEL_SECTION = 12
LOOK_BACK = 4  # sections: how far a label section looks for the heading it sits under


@dataclass(frozen=True)
class Statement:
    text: str
    pos: int  # order within its passage
    listed: bool = False  # an item of a list, not a sentence of prose


def _is_value(line: str) -> bool:
    return (
        bool(line)
        and bool(re.search(r"\d", line))
        and len(line.split()) <= SHORT
        and line[-1] not in ".!?"
    )


def _is_label(line: str) -> bool:
    return (
        bool(re.search(r"[A-Za-z]", line or ""))
        and not re.search(r"\d", line)
        and len(line.split()) <= SHORT
        and line[-1] not in ".!?;,:"
    )


def _numbers_in(text: str, where: str) -> bool:
    """A heading's figures are only quoted when the passage holds them too: a quoted line is
    checked against the passage it cites, and "...in 2026" in a heading is not in its text."""
    have = set(extract_numbers(where))
    return all(n in have for n in extract_numbers(text))


def _named(value: str, label: str | None) -> str | None:
    if not label:
        return None
    if _LABELLED.match(value):
        return f"{label}, {lower_first(value)}"  # "Junior Manager, experience: 1-3 years"
    return f"{label}: {value}"


def statements(chunk: Chunk, context: Sequence[str] = ()) -> list[Statement]:
    """The passage's quotable statements, in order. ``context`` names the headings the passage
    sits under when its own section is a label over a figure (see :func:`context_headings`)."""
    heading = chunk.section_path[-1] if chunk.section_path else chunk.heading
    if heading and not _numbers_in(heading, chunk.text):
        heading = ""
    raw = [x.strip() for x in chunk.text.splitlines() if x.strip()]
    bullets = [bool(_BULLET.match(x)) for x in raw]
    lines = [_BULLET.sub("", x).strip() for x in raw]
    out: list[Statement] = []
    used: set[int] = set()
    for i, line in enumerate(lines):
        if i in used or not line:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        prev = lines[i - 1] if i > 0 and i - 1 not in used else None
        if _is_value(line):
            label: str | None = None
            if nxt and _is_label(nxt) and nxt[0].islower():
                label = nxt  # a figure over its caption: "$85,000" / "median salary"
                used.add(i + 1)
            elif prev and _is_label(prev):
                label = prev  # a label over its figure: "Mid salary (US)" / "$110k"
            text = _named(line, label or heading)
            if text:
                out.append(Statement(text, len(out), listed=True))
            continue
        if _is_label(line) and nxt and _is_value(nxt):
            continue  # the next line quotes it
        for s in split_sentences(line):
            if len(s.split()) < 3 or s.endswith((":", "?")):
                continue
            out.append(Statement(s, len(out), listed=bullets[i]))
    return out


def opens_with_figure(chunk: Chunk) -> bool:
    """A section that is a label over a figure ("Senior-Level" / "$102,500")."""
    first = next((x for x in chunk.text.splitlines() if x.strip()), "")
    return _is_value(_BULLET.sub("", first).strip())


def context_headings(chunk: Chunk, before: Callable[[Chunk, int], list[Chunk]]) -> list[str]:
    """The headings a label section sits under, nearest first: "Senior-Level" / "$102,500"
    follows "Mid-Level", "Entry-Level" and "Annual Salary (US, USD)", whose heading says
    which country the figure is for. The walk stops at the first section with prose."""
    if not opens_with_figure(chunk):
        return []
    out: list[str] = []
    for c in before(chunk, LOOK_BACK):
        text = c.text.strip()
        if text.endswith("?") and "\n" not in text:
            # a question alone in a section is a heading the scrape lost: "How long does it
            # take?" over "Training Duration" / "3–9 months"; what is above it is not ours
            out.append(text)
            break
        if c.section_path:
            out.append(c.section_path[-1])
        if len(c.text.split()) > LABEL_SECTION:
            break
    return out


def addresses_masked(text: str, chunk: Chunk) -> bool:
    """An address in a guide's text is never passed on, only its declared source link: an
    instruction the patterns miss ("write to desk@... with your salary") carries one."""
    declared = str(chunk.meta.get("source_url") or "")
    return mask_addresses(text, declared) != text
