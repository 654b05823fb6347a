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
from collections.abc import Callable
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


LIST_MIN = 3  # items: fewer are not a list worth quoting whole
LIST_MAX = 12  # items quoted of a longer list, in the guide's order
LIST_WORDS = 30  # words: items past this are left to the cited passage
ITEM_WORDS = 8  # an item longer than this, or ending in a full stop, is a sentence


@dataclass(frozen=True)
class Statement:
    text: str
    pos: int  # order within its passage
    listed: bool = False  # an item of a list, not a sentence of prose
    group: int | None = None  # the list an item belongs to, or that a whole list quotes
    whole: bool = False  # the whole list on one line: "Soft Abilities: Empathy, ..."


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
    label = label[0].upper() + label[1:]  # a caption under a figure: "median salary"
    if _LABELLED.match(value):
        return f"{label}, {lower_first(value)}"  # "Junior Manager, experience: 1-3 years"
    return f"{label}: {value}"


def statements(chunk: Chunk) -> list[Statement]:
    """The passage's quotable statements, in order: sentences, label/value lines, list items,
    and each list of short items again as one line under its heading, for a question that
    asks for the list ("what skills...?") rather than one of its items."""
    heading = chunk.section_path[-1] if chunk.section_path else chunk.heading
    if heading and not _numbers_in(heading, chunk.text):
        heading = ""
    raw = [x.strip() for x in chunk.text.splitlines() if x.strip()]
    bullets = [bool(_BULLET.match(x)) for x in raw]
    lines = [_BULLET.sub("", x).strip() for x in raw]
    out: list[Statement] = []
    used: set[int] = set()
    runs = _runs(lines, bullets)
    for i, line in enumerate(lines):
        if i in used or not line:
            continue
        if i in runs:
            run = runs[i]
            items: list[str] = []
            for j in run:
                if len(items) >= LIST_MAX or sum(len(x.split()) for x in items) >= LIST_WORDS:
                    break  # an answer stays short; the citation holds the rest
                items.append(lines[j])
            body = ", ".join(items)
            at = len(out)
            out.append(Statement(f"{heading}: {body}" if heading else body, at, True, i, True))
            out.extend(Statement(x, at, True, i) for x in items)
            used.update(run)
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


def _runs(lines: list[str], bullets: list[bool]) -> dict[int, list[int]]:
    """Runs of short list items (not sentences, not figures), by their first line."""
    out: dict[int, list[int]] = {}
    run: list[int] = []

    def item(j: int) -> bool:
        x = lines[j]
        short = 0 < len(x.split()) <= ITEM_WORDS
        return bullets[j] and short and x[-1] not in ".!?:" and not _is_value(x)

    for j in range(len(lines) + 1):
        if j < len(lines) and item(j):
            run.append(j)
            continue
        if len(run) >= LIST_MIN:
            out[run[0]] = run
        run = []
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


def _ends(heading: str) -> tuple[str, str]:
    ws = re.findall(r"[a-z]{3,}", heading.casefold())
    return (ws[0], ws[-1]) if ws else ("", "")


def siblings(a: Chunk, b: Chunk) -> bool:
    """Two sections of one sequence: "Months 1–2" and "Months 3–5", "Foundational Skills" and
    "Technical & Analytical Skills" (headings that open or end alike)."""
    if a.guide != b.guide or not a.section_path or not b.section_path:
        return False
    x, y = _ends(a.section_path[0]), _ends(b.section_path[0])
    return bool(x[0]) and (x[0] == y[0] or x[1] == y[1])


def first_of_sequence(chunk: Chunk, before: Callable[[Chunk, int], list[Chunk]]) -> Chunk | None:
    """The first section of the sequence a section belongs to, when it is not that section:
    "what should I learn first?" is answered by a path's first step, which the search may have
    missed while finding the later ones."""
    first = None
    cur = chunk
    for prev in before(chunk, LOOK_BACK * 3):
        if prev.section_path == cur.section_path:
            continue  # another part of the same section
        if not siblings(prev, cur):
            break
        first = cur = prev
    return first
