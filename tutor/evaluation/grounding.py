"""Grounding checks on one answer: citation validity (ALCE style), citation support, numeric fidelity.

All of it is deterministic and offline. The support check is NLI-free: a cited sentence is
"supported" when its cited passages contain

- every number in the sentence (values, so "$110k" = "$110,000");
- at least SUPPORT_RECALL of its content words (stemmed; "CSM" = "customer success manager");
- every key term: qualifiers (regions such as Canada, levels such as entry-level) and names
  (capitalised words such as Zendesk, acronyms such as NRR, which may match their expansion);
- each qualifier outside a negation ("gives no entry-level ... figure" does not support
  "entry-level pay is ..."), and a negation somewhere if the sentence is negative;
- for each number, no conflicting qualifier in the passage sentence that holds the number
  ("senior ... €55,000" fails when the passage sentence with €55,000 is about entry level);
- the source a sentence names ("the GTM page", "Jobicy") among the cited guides.

evals/README.md documents the method; evals/support_labels.jsonl measures its agreement with
hand labels (see `support_agreement`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..citations import extract_numbers, split_sentences
from ..retrieval import tokenize
from ..taxonomy import stem_all
from .cases import EVALS_DIR

SUPPORT_RECALL = 0.5  # content-word recall a sentence needs in its cited passages; set a priori
_MARK = re.compile(r"\[(\d{1,3})\]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_NEG = re.compile(
    r"\b(?:no|not|never|without|nor|none|neither|cannot|can't|doesn't|don't|isn't|aren't|won't|lacks?)\b",
    re.I,
)
_CLAUSE_END = re.compile(r"[.;:!?]")

# Words that frame a claim rather than carry it ("according to the guide, ...").
_META = set(
    tokenize(
        """according guide guides page pages says said say state states stated source sources note
        notes noted list lists listed mention mentions mentioned describe describes described give
        gives given per also both while whereas however roughly around about typically usually
        closest here there one two figure figures put puts cite cites cited report reports reported
        call calls called name names named tell tells add adds separate suggest suggests recommend
        recommends expect expects estimate estimates plan plans like such example including include
        includes well just only other another each every more most less up down way ways"""
    )
)
_ALIASES: dict[str, set[str]] = {
    "csm": {"customer", "success", "manager"},
    "cs": {"customer", "success"},
}
_GROUPS = [
    {"pay", "salary", "earn", "earning", "paid", "make", "compensation", "income", "wage"},
    {"month", "year", "week", "time", "long"},
    {"job", "role", "position", "career"},
    {"learn", "study", "training", "train", "practise", "practice"},
    {"qbr", "quarterly", "review"},
    {"nrr", "net", "revenue", "retention"},
]
_GROUP_OF = {w: i for i, g in enumerate(_GROUPS) for w in g}

# Qualifiers: a claim about one region or level is not supported by a passage about another.
QUALIFIERS: dict[str, dict[str, re.Pattern[str]]] = {
    "region": {
        "US": re.compile(r"(?<![\w.])(?:US|U\.S\.?|USA|United States|America|American)(?![\w])"),
        "India": re.compile(r"\bIndia(?:n)?\b"),
        "Germany": re.compile(r"\bGerman(?:y)?\b"),
        "Europe": re.compile(r"\b(?:Europe(?:an)?|EU)\b"),
        "Canada": re.compile(r"\bCanad(?:a|ian)\b"),
        "UK": re.compile(r"\b(?:UK|United Kingdom|Britain|British)\b"),
        "France": re.compile(r"\b(?:France|French)\b"),
        "Australia": re.compile(r"\bAustralia(?:n)?\b"),
        "Brazil": re.compile(r"\bBrazil(?:ian)?\b"),
    },
    "level": {
        "entry": re.compile(r"\bentry[- ]level\b|\bentry\b", re.I),
        "junior": re.compile(r"\bjunior\b", re.I),
        "mid": re.compile(r"\bmid[- ]?(?:level|tier)\b|\bmedian\b|\baverage\b", re.I),
        "top": re.compile(r"\btop (?:10|ten)\b|\btop earners\b", re.I),
        "senior": re.compile(r"\bsenior\b", re.I),
        "head": re.compile(r"\bhead of\b", re.I),
        "director": re.compile(r"\bdirector\b", re.I),
    },
}
# Capitalised words that are not names worth checking.
_COMMON_CAPS = {
    "i",
    "the",
    "a",
    "an",
    "at",
    "in",
    "on",
    "for",
    "and",
    "or",
    "but",
    "if",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "they",
    "you",
    "your",
    "my",
    "we",
    "our",
    "he",
    "she",
    "his",
    "her",
    "customer",
    "customers",
    "success",
    "support",
    "manager",
    "managers",
    "phase",
    "step",
    "steps",
    "month",
    "months",
    "year",
    "years",
    "week",
    "weeks",
    "key",
    "pay",
    "time",
    "next",
    "according",
    "both",
    "each",
    "every",
    "one",
    "two",
    "three",
    "four",
    "five",
    "many",
    "most",
    "some",
    "all",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "how",
    "also",
    "so",
    "then",
    "there",
    "here",
    "morning",
    "afternoon",
    "late",
    "myth",
    "case",
    "study",
    "pros",
    "cons",
    "faq",
    "note",
    "set",
    "milestone",
    "milestones",
    "roadmap",
    "current",
    "pace",
    "estimate",
    "career",
    "tutor",
    "ask",
    "am",
    "pm",
}
# The source a sentence names, as the guide id it must cite.
SOURCES: dict[str, re.Pattern[str]] = {
    "csm-gtm-career-path": re.compile(r"\bGTM\b|csm-gtm-career-path"),
    "csm-career-guide-2026": re.compile(
        r"\bunnamed career[- ]guide\b|\b2026 (?:career )?guide\b|csm-career-guide-2026", re.I
    ),
    "customer-support-manager-jobicy": re.compile(r"\bJobicy\b|customer-support-manager-jobicy"),
}


def strip_markers(text: str) -> str:
    text = _MARK.sub("", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def normalize(text: str) -> str:
    """For fact and forbidden-claim matching: case, dashes, spaces and markdown emphasis."""
    text = text.replace("\u00a0", " ").replace("**", "").replace("__", "")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"\s*-\s*(?=\d)", "-", text)  # "3 - 9" and "3–9" both become "3-9"
    text = text.replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip().lower()


def contains(haystack_norm: str, needle: str) -> bool:
    """`needle` in normalised text, on word boundaries where the needle starts or ends a word."""
    n = normalize(needle)
    if not n:
        return False
    left = r"(?<![\w])" if n[0].isalnum() else ""
    right = r"(?:e?s)?(?![\w])" if n[-1].isalpha() else r"(?![\w])" if n[-1].isalnum() else ""
    return re.search(left + re.escape(n) + right, haystack_norm) is not None


# --- sentences --------------------------------------------------------------------------------


@dataclass
class Sentence:
    text: str  # as written, markers included
    markers: list[int]
    claim: bool  # does it need a citation?

    @property
    def plain(self) -> str:
        return strip_markers(self.text).replace("**", "").strip()


def sentences(answer: str, abstained: bool = False) -> list[Sentence]:
    """The answer's sentences, with the markers each one carries.

    A sentence is a claim (it must cite) unless it is a heading, a question, an intro that ends
    in a colon, or fewer than three words. In an abstention, sentences without a number or a
    marker are framing ("My guides don't cover that") and need no citation.
    """
    out: list[Sentence] = []
    for line in answer.split("\n"):
        line = _BULLET.sub("", line).strip()
        if not line or line.startswith("#"):
            continue
        for s in split_sentences(line):
            marks = [int(x) for x in _MARK.findall(s)]
            plain = strip_markers(s).strip("*_ ")
            words = re.findall(r"[\w$€£₹%+-]+", plain)
            has_num = bool(extract_numbers(plain))
            claim = (
                len(words) >= 3
                and not plain.endswith("?")
                and not (plain.endswith(":") and not has_num and not marks)
            )
            if not marks and not has_num and (abstained or _is_hint(plain)):
                claim = False
            out.append(Sentence(s, marks, claim))
    return out


# An instruction to the learner ("Set your own weekly hours...") states no fact about the guides.
_HINT_VERBS = {
    "ask",
    "set",
    "try",
    "tell",
    "pick",
    "choose",
    "use",
    "add",
    "mark",
    "update",
    "type",
    "see",
    "consider",
    "check",
    "open",
    "record",
    "let",
}


def _is_hint(plain: str) -> bool:
    first = re.match(r"[A-Z][a-z]*", plain)
    return first is not None and first.group(0).lower() in _HINT_VERBS


# --- support ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A passage a sentence cites: its text and, when known, its guide id."""

    text: str
    guide: str | None = None
    heading: str = ""
    kind: str = "guide"
    source: str = ""  # the guide's publisher as its front matter names it ("Jobicy")


@dataclass
class Verdict:
    supported: bool
    failed: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def _content_tokens(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in _META and not any(ch.isdigit() for ch in t)]


def _token_matched(tok: str, ptoks: set[str], pstems: set[str]) -> bool:
    # Snowball stems: "leading", "clear" and "negotiation" are in a passage that says "you lead",
    # "clearly" and "negotiate" (the Jobicy soft-skills list, restated as a list of nouns)
    if tok in ptoks or stem_all([tok])[0] in pstems:
        return True
    if tok in _ALIASES and _ALIASES[tok] <= ptoks:
        return True
    g = _GROUP_OF.get(tok)
    return g is not None and bool(_GROUPS[g] & ptoks)


def _acronym_in(acr: str, text: str) -> bool:
    """ "NRR" in a passage that spells out "net revenue retention"."""
    letters = acr.lower()
    words = re.findall(r"[A-Za-z]+", text)
    n = len(letters)
    for i in range(len(words) - n + 1):
        if "".join(w[0].lower() for w in words[i : i + n]) == letters:
            return True
    return False


def _names(sentence: str) -> list[str]:
    """Capitalised words and acronyms after the first word: names the passage must contain."""
    # qualifiers ("United States") have their own check; their words are not names here
    for kinds in QUALIFIERS.values():
        for rx in kinds.values():
            sentence = rx.sub(lambda m: m.group(0).lower(), sentence)
    words = re.findall(r"[A-Za-z][A-Za-z0-9&+'.-]*[A-Za-z0-9+]|[A-Z]", sentence)
    out = []
    for i, w in enumerate(words):
        w = w.rstrip(".'")
        if i == 0 or not w[:1].isupper() or w.lower() in _COMMON_CAPS:
            continue
        if any(rx.fullmatch(w) for kinds in QUALIFIERS.values() for rx in kinds.values()):
            continue  # qualifiers have their own check
        out.append(w)
    return out


def _name_in(name: str, passage: str) -> bool:
    base = re.sub(r"(?<=[A-Za-z])'?s$", "", name)
    for cand in {name, base}:
        if re.search(rf"(?<![\w]){re.escape(cand)}", passage, re.I):
            return True
    return base.isupper() and len(base) >= 2 and _acronym_in(base, passage)


def _qualifiers(text: str) -> dict[str, set[str]]:
    return {
        kind: {k for k, rx in rxs.items() if rx.search(text)} for kind, rxs in QUALIFIERS.items()
    }


def _negated_everywhere(rx: re.Pattern[str], passage: str) -> bool:
    """True when every mention of the qualifier sits after a negation in its clause."""
    found = list(rx.finditer(passage))
    if not found:
        return False
    for m in found:
        before = passage[max(0, m.start() - 60) : m.start()]
        clause = _CLAUSE_END.split(before)[-1]
        window = " ".join(clause.split()[-6:])
        if not _NEG.search(window):
            return False
    return True


def _passage_sentences(passages: Iterable[Evidence]) -> list[str]:
    out: list[str] = []
    for p in passages:
        for line in p.text.split("\n"):
            out.extend(split_sentences(_BULLET.sub("", line)))
    return out


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _source_patterns(known: dict[str, str]) -> dict[str, re.Pattern[str]]:
    """Each guide's publisher name as the answer's citations give it, plus the built-in ones."""
    out = dict(SOURCES)
    for guide, name in known.items():
        core = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()
        if guide and len(core) >= 3:
            rx = re.compile(rf"\b{re.escape(core)}\b", re.I)
            out[guide] = (
                re.compile(f"{out[guide].pattern}|{rx.pattern}", re.I) if guide in out else rx
            )
    return out


def support(
    sentence: str, passages: list[Evidence], sources: dict[str, str] | None = None
) -> Verdict:
    """Does the text of `passages` support `sentence`? (See the module docstring for the checks.)

    ``sources`` maps guide ids to publisher names (from the answer's citations): naming a source
    is attribution, checked on its own, not a term the passage must contain.
    """
    patterns = _source_patterns({**{p.guide or "": p.source for p in passages}, **(sources or {})})
    s = strip_markers(sentence)
    named = [g for g, rx in patterns.items() if rx.search(s)]
    s_terms = s
    for g in named:
        s_terms = patterns[g].sub(" ", s_terms)
    if not passages:
        return Verdict(False, ["no_citation"])
    ptext = "\n".join(p.text for p in passages)
    failed: list[str] = []
    detail: dict[str, Any] = {}

    pvals = extract_numbers(ptext)
    snums = extract_numbers(s)
    missing_nums = [v for v in snums if not any(_same(v, p) for p in pvals)]
    if missing_nums:
        failed.append("numbers")
        detail["missing_numbers"] = missing_nums

    stoks = _content_tokens(s_terms)  # a named source is attribution (checked below), not content
    ptoks = set(tokenize(ptext))
    if stoks:
        pstems = set(stem_all(sorted(ptoks)))
        matched = [t for t in stoks if _token_matched(t, ptoks, pstems)]
        recall = len(matched) / len(stoks)
        detail["content_recall"] = round(recall, 3)
        if recall < SUPPORT_RECALL:
            failed.append("content")
            detail["unmatched_words"] = sorted({t for t in stoks if t not in matched})

    missing_names = [n for n in _names(s_terms) if not _name_in(n, ptext)]
    quals = _qualifiers(s)
    for kind, keys in quals.items():
        for k in sorted(keys):
            if not QUALIFIERS[kind][k].search(ptext):
                missing_names.append(k)
    if missing_names:
        failed.append("terms")
        detail["missing_terms"] = missing_names

    s_negative = bool(_NEG.search(s))
    if not s_negative:
        negated = [
            k
            for kind, keys in quals.items()
            for k in sorted(keys)
            if QUALIFIERS[kind][k].search(ptext) and _negated_everywhere(QUALIFIERS[kind][k], ptext)
        ]
        # a content word the passage only ever uses negated ("does not yet track")
        negated += sorted(
            {
                t
                for t in stoks
                if len(t) > 3
                and _negated_everywhere(re.compile(rf"\b{re.escape(t)}\w*", re.I), ptext)
            }
        )
        if negated:
            failed.append("negation")
            detail["negated_terms"] = negated
    elif not _NEG.search(ptext):
        failed.append("polarity")

    if snums and any(quals.values()):
        psents = _passage_sentences(passages)
        conflicts = []
        for v in snums:
            holders = [ps for ps in psents if any(_same(v, x) for x in extract_numbers(ps))]
            if not holders:
                continue
            ok = False
            for ps in holders:
                pq = _qualifiers(ps)
                clash = any(
                    quals[kind] and pq[kind] and not (quals[kind] & pq[kind]) for kind in quals
                )
                if not clash:
                    ok = True
                    break
            if not ok:
                conflicts.append(v)
        if conflicts:
            failed.append("qualifier_conflict")
            detail["conflicting_numbers"] = conflicts

    guides = {p.guide for p in passages if p.guide}
    if guides:
        # a passage that itself talks about the other guide may be cited for what it says of it
        unbacked = [g for g in named if g not in guides and not patterns[g].search(ptext)]
        if named and unbacked and not (set(named) & guides):
            failed.append("attribution")
            detail["named_sources"] = named
    return Verdict(not failed, failed, detail)


# --- one answer -------------------------------------------------------------------------------


@dataclass
class SentenceCheck:
    text: str
    markers: list[int]
    claim: bool
    cited: bool
    invalid_markers: list[int]
    supported: bool | None
    failed: list[str]
    numbers: list[float]
    unfaithful_numbers: list[float]
    evidence: list[dict[str, Any]]
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "markers": self.markers,
            "claim": self.claim,
            "supported": self.supported,
            "failed": self.failed,
            "invalid_markers": self.invalid_markers,
            "numbers": self.numbers,
            "unfaithful_numbers": self.unfaithful_numbers,
            "evidence": self.evidence,
            "detail": self.detail,
        }


@dataclass
class Grounding:
    sentences: list[SentenceCheck]
    claims: int
    cited_claims: int
    markers: int
    valid_markers: int
    supported: int
    checked: int
    numbers: int
    faithful_numbers: int

    @property
    def coverage(self) -> float | None:
        return self.cited_claims / self.claims if self.claims else None

    @property
    def validity(self) -> float | None:
        return self.valid_markers / self.markers if self.markers else None

    @property
    def support_rate(self) -> float | None:
        return self.supported / self.checked if self.checked else None

    @property
    def fidelity(self) -> float | None:
        return self.faithful_numbers / self.numbers if self.numbers else None


def _evidence_for(
    n: int, cites: dict[int, dict[str, Any]], passages: dict[str, dict[str, Any]]
) -> Evidence | None:
    c = cites.get(n)
    if c is None:
        return None
    if c.get("kind") == "progress":
        return Evidence(str(c.get("text") or ""), None, str(c.get("heading") or ""), "progress")
    p = passages.get(str(c.get("chunk_id")))
    if p is None:
        return None  # a citation that points at nothing retrieved
    # A composed answer cites a whole section: the citation shows every chunk of it, and the
    # learner reads them all ("Certifications and training" spans two chunks, and its second
    # one states what is learned in workshops). Those chunks are evidence too, but only the
    # retrieved ones the citation itself shows.
    shown = str(c.get("text") or "")
    parts = [
        q
        for q in passages.values()
        if q is not p
        and q.get("guide") == p.get("guide")
        and q.get("section_path") == p.get("section_path")
        and str(q.get("text") or "")
        and str(q.get("text")) in shown
    ]
    return Evidence(
        "\n\n".join(str(x.get("text") or "") for x in [p, *parts]),
        str(p.get("guide") or ""),
        str(p.get("heading") or ""),
        source=str(c.get("source") or ""),
    )


def check_grounding(answer: dict[str, Any]) -> Grounding:
    """Citation validity, support and numeric fidelity for one Answer dict."""
    cites = {int(c["n"]): c for c in answer.get("citations") or [] if "n" in c}
    passages = {str(p.get("id")): p for p in answer.get("passages") or []}
    # every publisher the answer cites, so a sentence naming one is checked for attribution
    known = {
        str(c.get("guide")): str(c.get("source") or "")
        for c in cites.values()
        if c.get("kind") != "progress"
    }
    out: list[SentenceCheck] = []
    claims = cited = n_marks = valid = supported = checked = n_nums = faithful = 0
    for s in sentences(str(answer.get("answer") or ""), bool(answer.get("abstained"))):
        ev: list[Evidence] = []
        invalid: list[int] = []
        for n in s.markers:
            e = _evidence_for(n, cites, passages)
            if e is None:
                invalid.append(n)
            else:
                ev.append(e)
        n_marks += len(s.markers)
        valid += len(s.markers) - len(invalid)
        nums = extract_numbers(s.plain)
        pvals = [v for e in ev for v in extract_numbers(e.text)]
        unfaithful = [v for v in nums if not any(_same(v, p) for p in pvals)]
        failed: list[str] = []
        sup: bool | None = None
        detail: dict[str, Any] = {}
        if s.claim:
            claims += 1
            if s.markers:
                cited += 1
            else:
                failed.append("no_citation")
        if invalid:
            failed.append("invalid_citation")
        if ev and (s.claim or len(s.plain.split()) >= 3):  # whatever cites must be supported
            verdict = support(s.text, ev, known)
            sup = verdict.supported
            checked += 1
            supported += int(sup)
            failed += [f"support:{f}" for f in verdict.failed]
            detail = verdict.detail
        if s.claim or nums:
            n_nums += len(nums)
            faithful += len(nums) - len(unfaithful)
            if unfaithful:
                failed.append("numeric")
        else:
            unfaithful = []
        out.append(
            SentenceCheck(
                text=s.plain,
                markers=s.markers,
                claim=s.claim,
                cited=bool(s.markers),
                invalid_markers=invalid,
                supported=sup,
                failed=failed,
                numbers=nums,
                unfaithful_numbers=unfaithful,
                evidence=[
                    {"n": n, "kind": e.kind, "guide": e.guide, "heading": e.heading, "text": e.text}
                    for n, e in zip([m for m in s.markers if m not in invalid], ev, strict=True)
                ],
                detail=detail,
            )
        )
    return Grounding(out, claims, cited, n_marks, valid, supported, checked, n_nums, faithful)


# --- agreement with hand labels -----------------------------------------------------------------

LABELS_PATH = EVALS_DIR / "support_labels.jsonl"


def cohen_kappa(y_true: list[bool], y_pred: list[bool]) -> float | None:
    n = len(y_true)
    if n == 0:
        return None
    po = sum(a == b for a, b in zip(y_true, y_pred, strict=True)) / n
    pt = sum(y_true) / n
    pp = sum(y_pred) / n
    pe = pt * pp + (1 - pt) * (1 - pp)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def support_agreement(path: Path = LABELS_PATH) -> dict[str, Any]:
    """Accuracy and Cohen's kappa of `support` against the hand-labelled pairs."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []  # an installed package without evals/: nothing to measure against
    rows = [json.loads(line) for line in lines if line.strip()]
    truth: list[bool] = []
    pred: list[bool] = []
    disagreements = []
    for r in rows:
        ev = [Evidence(p["text"], p.get("guide")) for p in r["passages"]]
        v = support(r["sentence"], ev)
        truth.append(bool(r["supported"]))
        pred.append(v.supported)
        if v.supported != bool(r["supported"]):
            disagreements.append({"id": r["id"], "label": r["supported"], "failed": v.failed})
    n = len(rows)
    tp = sum(t and p for t, p in zip(truth, pred, strict=True))
    fp = sum((not t) and p for t, p in zip(truth, pred, strict=True))
    fn = sum(t and not p for t, p in zip(truth, pred, strict=True))
    kappa = cohen_kappa(truth, pred)
    return {
        "n": n,
        "positives": sum(truth),
        "accuracy": round(sum(t == p for t, p in zip(truth, pred, strict=True)) / n, 4)
        if n
        else None,
        "kappa": round(kappa, 4) if kappa is not None else None,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "disagreements": disagreements,
    }
