"""The offline engine's word matching: stop words, plural folding and hand-written synonyms.

Retrieval no longer uses the synonym and acronym tables: lexical search is SQLite FTS5 with
the Porter stemmer (tutor/index.py), and dense search embeds the question as asked. The
tables below hold strings of the shipped corpus ("csm", "qbr", "germany"); only
``tutor/offline.py`` still reads them, through ``tokenize``, until role aliases come from the
corpus files. Do not add to them.
"""

from __future__ import annotations

import re

STOPWORDS = set(
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
        if w in STOPWORDS:
            continue
        out.append(_stem(w))
        if expand and w in _SYNONYMS:
            out.extend(_stem(s) for s in _SYNONYMS[w])
    return out
