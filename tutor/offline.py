"""The offline answer engine: deterministic, and grounded by construction.

It never writes a fact of its own. An answer is a handful of sentences taken from the retrieved
passages, each cited; the only sentences it composes are framing without figures ("the two
guides disagree") and abstentions, plus the learner's own progress and pace arithmetic, which
are cited to a "progress" source that shows the calculation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .chunking import Chunk
from .citations import Answer, Citation, check_answer, extract_numbers, split_sentences
from .regions import PARENT as _PARENT
from .regions import REGIONS, detect_region
from .regions import region_hit as _region_hit
from .retrieval import Hit, tokenize

# --- slots: regions, levels, roles, intents ---------------------------------------------------

LEVELS: dict[str, list[str]] = {
    "entry": [
        "entry",
        "entry-level",
        "junior",
        "beginner",
        "starting",
        "first job",
        "graduate",
        "new grad",
    ],
    "mid": ["mid", "mid-level", "median", "average", "typical", "midlevel"],
    "senior": ["senior", "experienced"],
    "head": ["head of", "director", "vp", "chief", "executive"],
    "top": ["top 10", "top earners", "highest", "top-paid", "top paid"],
}
_LEVEL_IN_TEXT: dict[str, list[str]] = {
    "entry": ["entry", "junior", "entry-level", "career-path span", "roughly $88,153"],
    "mid": ["mid", "median", "average", "typical", "typically earns"],
    "senior": ["senior"],
    "head": ["head of", "director"],
    "top": ["top 10", "top of", "top-paying", "top end", "and above", "$110,000+"],
}

ROLE_ALIASES: dict[str, list[str]] = {
    "customer-success-manager": [
        "customer success manager",
        "customer success",
        "csm",
        "csms",
        "cs manager",
        "success manager",
    ],
    "customer-support-manager": [
        "customer support manager",
        "support manager",
        "customer support",
        "customer service manager",
        "support team manager",
        "head of support",
        "support lead",
    ],
}
_ROLE_NOUN = (
    r"manager|engineer|developer|analyst|designer|scientist|nurse|teacher|accountant|lawyer|doctor|"
    r"marketer|representative|specialist|consultant|architect|administrator|officer|pilot|chef|writer|"
    r"recruiter|programmer|electrician|plumber|dentist|pharmacist|therapist|economist|actuary|"
    r"technician|mechanic|agent|owner|coordinator|strategist|researcher|editor|photographer"
)
_ROLE_PHRASE = re.compile(rf"\b((?:[a-z]+[ -]){{0,3}}(?:{_ROLE_NOUN}))s?\b")
_ROLE_FILLER = {
    "a",
    "an",
    "the",
    "be",
    "become",
    "becoming",
    "as",
    "for",
    "to",
    "of",
    "and",
    "or",
    "my",
    "good",
    "how",
    "what",
    "does",
    "do",
    "is",
    "i",
    "want",
    "get",
    "into",
    "much",
    "can",
    "will",
    "should",
    "in",
    "vs",
    "versus",
    "than",
    "with",
    "from",
    "between",
    "compare",
    "about",
    "make",
    "earn",
}

INTENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "next",
        re.compile(
            r"\b(what (should|do) i do next|next steps?|what('?s| is) next|where should i (start|begin)|what now)\b"
        ),
    ),
    (
        "compare",
        re.compile(
            r"\b(vs\.?|versus|compare[ds]?|comparison|difference between|differ(?:ent)? from|or a)\b"
        ),
    ),
    # "which sources does the guide credit for Europe?" is about sources, not a pay figure
    (
        "sources",
        re.compile(
            r"\b(which|what) (salary |pay )?(sources?|surveys?)\b|\b(cites?|cited|credits?|credited)\b"
        ),
    ),
    (
        "pay",
        re.compile(
            r"\b(salar(y|ies)|pay|paid|earn\w*|compensation|money|wages?|income|ctc|package)\b|how much .{0,40}\bmakes?\b|[$€£₹]"
        ),
    ),
    # "months 3 to 5 of the learning path" is about the roadmap, not the time to ready
    (
        "roadmap",
        re.compile(
            r"\b(roadmap|phases?|milestones?|learning path|months? \d+\s*(?:–|-|to)\s*\d+|months? \d+\+?)\b"
        ),
    ),
    (
        "time",
        re.compile(
            r"\b(how long|how many (months|weeks|years|hours)|time to|timeline|months?|job[- ]ready|ready|duration|hours? (a|per) week|how fast|how quickly|how soon)\b"
        ),
    ),
    ("roadmap", re.compile(r"\b(steps?|plan|path|stages?|tiers?|levels?)\b")),
    (
        "skills",
        re.compile(
            r"\b(skills?|tools?|software|platforms?|stack|learn|know|certif\w*|degree|education|english|crm|sql|courses?|helpdesk|chatbots?)\b"
        ),
    ),
    ("outlook", re.compile(r"\b(demand|outlook|growth|openings|jobs? market|future|replace|ai)\b")),
]


def detect_level(question: str) -> str | None:
    q = question.lower()
    for level, words in LEVELS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", q) for w in words):
            return level
    return None


def detect_roles(question: str) -> list[str]:
    """Known roles the question names, in order of mention."""
    q = question.lower()
    found: list[tuple[int, str]] = []
    for role, aliases in ROLE_ALIASES.items():
        # "support managers" names the role as surely as "support manager"
        pos = [m.start() for a in aliases for m in re.finditer(rf"\b{re.escape(a)}s?\b", q)]
        if pos:
            found.append((min(pos), role))
    return [r for _, r in sorted(found)]


def detect_intent(question: str) -> str:
    q = question.lower()
    for name, rx in INTENTS:
        if rx.search(q):
            if (
                name == "compare"
                and len(detect_roles(q)) < 2
                and not re.search(r"\b(vs\.?|versus|compare|difference)\b", q)
            ):
                continue
            return name
    return "general"


def unknown_role_phrases(question: str, corpus_text: str) -> list[str]:
    """Job titles the learner names that no guide mentions at all (e.g. "data scientist")."""
    q = question.lower()
    out = []
    for m in _ROLE_PHRASE.finditer(q):
        words = [w for w in re.split(r"[ -]", m.group(1)) if w and w not in _ROLE_FILLER]
        if not words:
            continue
        phrase = " ".join(words)
        if any(phrase in a or a in phrase for aliases in ROLE_ALIASES.values() for a in aliases):
            continue
        if len(words) == 1 and words[0] in (
            "manager",
            "agent",
            "owner",
            "representative",
            "specialist",
        ):
            continue
        if phrase in corpus_text:
            continue
        out.append(phrase)
    return out


# --- follow-up rewriting --------------------------------------------------------------------

_FOLLOWUP = re.compile(
    r"^\s*(and|what about|how about|also|same|ok(ay)?|so|then|in|for|at)\b|^\s*\w+(\s+\w+){0,2}\s*\?\s*$",
    re.I,
)


_PRONOUN = re.compile(
    r"\b(them|they|their|this role|that role|the role|one to the other|the other one|either one)\b",
    re.I,
)


_QUESTION_START = re.compile(
    r"^\s*(how|what|which|why|when|where|who|is|are|can|could|do|does|should|will|would)\b(?!\s+about\b)",
    re.I,
)


def rewrite_followup(question: str, previous: Sequence[str]) -> str:
    """Turn "and in Germany?" into a standalone question using the previous standalone question."""
    q = question.strip()
    if not previous:
        return q
    prev = previous[-1]
    if not detect_roles(q) and _PRONOUN.search(q):
        prev_roles = detect_roles(prev)
        if len(prev_roles) == 1 and re.search(r"\b(them|they|their)\b", q, re.I):
            plural = ROLE_ALIASES[prev_roles[0]][0] + "s"
            return re.sub(
                r"\b(them|they|their)\b",
                lambda m: plural if m.group(1).lower() != "their" else plural + "'",
                q,
                count=1,
                flags=re.I,
            )
        return f"{q.rstrip(' ?')} (following up on: {prev.rstrip(' ?')})?"
    # "How do I bake bread?" after "What should I do next?" is a new question: a full
    # question with its own verb and object, and no follow-up marker, stands alone.
    if _QUESTION_START.match(q) and len(q.split()) >= 4 and not _FOLLOWUP.match(q):
        return q
    if detect_intent(prev) == "next":
        return q  # nothing to carry over from a request for advice
    short = len(q.split()) <= 7
    has_subject = bool(detect_roles(q)) or (detect_intent(q) != "general" and len(q.split()) > 4)
    if not short or (has_subject and not _FOLLOWUP.match(q)):
        return q
    if not _FOLLOWUP.match(q) and has_subject:
        return q
    new = prev.rstrip(" ?.")
    region, level = detect_region(q), detect_level(q)
    roles = detect_roles(q)
    changed = False
    if region:
        old = detect_region(new)
        if old:
            for a in [*REGIONS[old], "US", "U.S.", "USA"]:
                new = re.sub(rf"\s*\b(in|for)\s+(the\s+)?{re.escape(a)}\b", "", new, flags=re.I)
                new = re.sub(rf"\b{re.escape(a)}\b\s*", "", new, flags=re.I)
        new = f"{new} in {region}"
        changed = True
    if level:
        for words in LEVELS.values():
            for w in words:
                new = re.sub(rf"\b{re.escape(w)}\b\s*", "", new, flags=re.I)
        label = {
            "entry": "entry-level",
            "mid": "mid-level",
            "senior": "senior",
            "head": "head-of",
            "top": "top-paid",
        }[level]
        new = f"{new} for {label} roles"
        changed = True
    if roles:
        for aliases in ROLE_ALIASES.values():
            for a in sorted(aliases, key=len, reverse=True):
                new = re.sub(rf"\b{re.escape(a)}s?\b", "{ROLE}", new, flags=re.I)
        title = roles[0].replace("-", " ")
        new = new.replace("{ROLE}", title, 1).replace("{ROLE}", "")
        if title not in new.lower():
            new = f"{new} for a {title}"
        changed = True
    if not changed:
        rest = re.sub(
            r"^\s*(and|what about|how about|also|so|then)\b\s*", "", q, flags=re.I
        ).rstrip("?")
        new = f"{new}, {rest}" if rest else new
    return re.sub(r"\s{2,}", " ", new).strip() + "?"


# --- sentence selection -----------------------------------------------------------------------

# a pay figure, not just a year next to the word "salary"
_MONEY = re.compile(r"[$€£₹]\s?\d|\d\s?(k|L)\b")
_DURATION = re.compile(r"\d+\s?(?:–|-|to)?\s?\d*\+?\s*(months?|weeks?|years?|hours?)\b", re.I)
_META = re.compile(r"\b(restates|in new wording|this corpus|scraped|breadcrumb)\b", re.I)


_INTENT_HEADING = {
    "sources": r"\b(sources?|about)\b",
    "pay": r"\b(pay|salar)",
    "time": r"\b(time|ready|duration|hours|pace)\b",
    "skills": r"\b(skills?|tools?|platforms?|stack|certification|education)\b",
    "roadmap": r"\b(roadmap|phase|step|months)\b",
    "outlook": r"\b(outlook|demand|trend|market)\b",
}
_LIST_QUESTION = re.compile(
    r"^\s*(which|what)\s+(\w+\s+){0,2}\w+s\b(?!\s+(is|does)\b)|\b(list|name|examples? of|kinds? of|types? of)\b",
    re.I,
)
_OVERVIEW = re.compile(
    r"\b(lists?|names?|describes?|groups?|lays out|sets out|covers?|structures?|tells?)\b.{0,60}"
    r"\b(two|three|four|five|six|seven|eight|nine|ten|twenty|several|\d+)\b",
    re.I,
)
_NEGATIVE = re.compile(r"\b(does not|doesn't|do not|gives no|no separate)\b", re.I)
_ASKS_SOURCE = re.compile(r"\b(source|survey|where|which|cite|date)\b")


@dataclass
class Candidate:
    text: str
    hit_index: int
    score: float
    tokens: set[str] = field(default_factory=set)
    role: str = ""
    coverage: float = 0.0  # idf-weighted share of the question's words the sentence has
    pos: int = 0  # sentence index within its passage
    named_section: bool = False  # its section is the one the question names by number


def region_words_of(tokens: set[str], region: str | None) -> set[str]:
    return {t for t in tokens if region and _region_hit(t, region)}


def _other_region(sentence: str, region: str) -> bool:
    related = {region, _PARENT.get(region, "")} | {c for c, p in _PARENT.items() if p == region}
    return any(
        _region_hit(sentence, r)
        for r in ("the United States", "Germany", "India", "Europe")
        if r not in related
    )


def _level_hit(sentence: str, level: str) -> bool:
    s = sentence.lower()
    return any(w.lower() in s for w in _LEVEL_IN_TEXT[level])


def _sentences_of(hit: Hit) -> list[str]:
    out = []
    for s in split_sentences(hit.chunk.text):
        s = re.sub(r"^\s*(?:[-*•]|\d+\.)\s+", "", s).strip()
        if len(s.split()) < 6 or s.endswith(":") or _META.search(s):
            continue
        out.append(s)
    return out


def _cite(sentence: str, n: int | list[int]) -> str:
    ns = [n] if isinstance(n, int) else n
    mark = "".join(f"[{i}]" for i in ns)
    m = re.match(r"^(.*?)([.!?]?)$", sentence.strip(), re.S)
    body, end = (m.group(1), m.group(2)) if m else (sentence, "")
    return f"{body} {mark}{end or '.'}"


# Learners say "make", guides say "earns": both sides map to one token before matching.
_CANON = {
    "salary": "pay",
    "salarie": "pay",
    "paid": "pay",
    "earn": "pay",
    "earning": "pay",
    "compensation": "pay",
    "wage": "pay",
    "income": "pay",
    "money": "pay",
    "tool": "tool",
    "platform": "tool",
    "software": "tool",
    "stack": "tool",
    "ready": "ready",
    "readines": "ready",
    "job-ready": "ready",
}


_US_TEXT = re.compile(r"\b(united states|u\.s\.|usa|america)\b", re.I)


_GLUE = {"between", "among", "whats", "don", "doesn", "isn", "ve", "ll", "re"}
_ORDINAL = {"first": "1", "second": "2", "third": "3", "fourth": "4"}
_ORDINAL_PHASE = re.compile(r"\b(first|second|third|fourth) (phase|step|stage|block)\b", re.I)


def canon_tokens(text: str, query: bool = False) -> set[str]:
    text = _US_TEXT.sub(" us ", text)
    if query:  # "the second phase" is "phase 2" in the guides
        text = _ORDINAL_PHASE.sub(lambda m: f"{m.group(2)} {_ORDINAL[m.group(1).lower()]}", text)
    toks = set(tokenize(text, expand=query))
    # "demoing" and "demo", "switching" and "switch" are one word here
    toks = {
        t[:-3] if len(t) > 6 and t.endswith("ing") else t
        for t in toks
        if (len(t) > 1 or t.isdigit()) and t not in _GLUE
    }
    out = {_CANON.get(t, t) for t in toks}
    if query and "make" in toks:
        out.add("pay")
    return out


# Everyday words a question may use that no guide needs to contain.
_HARMLESS = set(
    [
        "want",
        "need",
        "like",
        "look",
        "looks",
        "tell",
        "really",
        "would",
        "could",
        "please",
        "thanks",
        "thank",
        "hello",
        "question",
        "answer",
        "give",
        "good",
        "best",
        "know",
        "become",
        "becoming",
        "start",
        "started",
        "getting",
        "something",
        "anything",
        "thing",
        "things",
        "currently",
        "right",
        "okay",
        "sure",
        "maybe",
        "think",
        "help",
        "explain",
        "describe",
        "mean",
        "means",
        "meaning",
        "detail",
        "details",
        "example",
        "examples",
        "kind",
        "sort",
        "lot",
        "lots",
        "ways",
        "also",
        "exactly",
        "actually",
        "generally",
        "usually",
    ]
)

_PAY_EXTRAS = {
    "bonus",
    "bonu",
    "bonuse",
    "commission",
    "equity",
    "stock",
    "option",
    "benefit",
    "pension",
    "overtime",
    "hourly",
    "raise",
    "tip",
    "perk",
    "allowance",
    "401k",
    "rsu",
}

_CONTENT_STOP = {
    "customer",
    "success",
    "support",
    "manager",
    "csm",
    "role",
    "job",
    "career",
    "become",
    "guide",
}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


@dataclass
class Plan:
    intent: str
    region: str | None
    level: str | None
    roles: list[str]
    wants_list: bool = False  # "which portfolio projects ...": the answer is several items


class OfflineEngine:
    name = "offline"

    def __init__(self, chunks: Sequence[Chunk] = ()) -> None:
        self.corpus_text = " ".join(c.text for c in chunks).lower()
        # Sentence-level document frequencies: "page" and "customer" are in every sentence,
        # "helpdesk" in three; a question's rare words are what it is about.
        df: dict[str, int] = {}
        n = 0
        for c in chunks:
            for sent in [*split_sentences(c.text), " ".join(c.section_path)]:
                n += 1
                for t in canon_tokens(sent):
                    df[t] = df.get(t, 0) + 1
        self._n = max(1, n)
        self._df = df
        # which regions each role's guides give pay for, to say what they do cover
        self.pay_regions: dict[str, list[str]] = {}
        for c in chunks:
            for sent in split_sentences(c.text):
                if _MONEY.search(sent) and extract_numbers(sent):
                    for r in REGIONS:
                        if _region_hit(sent, r) and r not in self.pay_regions.setdefault(
                            c.role, []
                        ):
                            self.pay_regions[c.role].append(r)

    def idf(self, token: str) -> float:
        return math.log((self._n + 1) / (self._df.get(token, 0) + 0.5))

    def unknown_words(self, tokens: set[str]) -> list[str]:
        """Query words no guide uses and that are not a typo of a word they use."""
        import difflib

        out = []
        for t in sorted(tokens):
            if t in self._df or len(t) < 4 or not t.isalpha() or t in _HARMLESS:
                continue
            if difflib.get_close_matches(t, self._df.keys(), n=1, cutoff=0.84):
                continue
            out.append(t)
        return out

    # --- public ------------------------------------------------------------------------------

    def plan(self, question: str, role: str | None) -> Plan:
        roles = detect_roles(question)
        if role and role not in roles:
            roles = [role, *roles]
        wants_list = bool(_LIST_QUESTION.search(question))
        return Plan(
            detect_intent(question),
            detect_region(question),
            detect_level(question),
            roles,
            wants_list,
        )

    def answer(
        self,
        question: str,
        hits: list[Hit],
        role: str | None,
        role_titles: dict[str, str],
        extra: list[Hit] | None = None,
    ) -> Answer:
        """`hits` were retrieved for the question; `extra` holds per-role hits for comparisons."""
        plan = self.plan(question, role)
        covered = ", ".join(role_titles.values()) or "the roles in the corpus"
        unknown = unknown_role_phrases(question, self.corpus_text)
        if unknown and not plan.roles:
            return self._abstain(
                question,
                plan,
                f"My guides don't cover the role of {unknown[0]}. They cover {covered}: pay, time to "
                "get job-ready, skills and tools, and the roadmap with its milestones.",
            )
        pool = list(hits) + [
            h for h in (extra or []) if h.chunk.id not in {x.chunk.id for x in hits}
        ]
        if not pool:
            return self._abstain(
                question, plan, f"I found nothing on that in my guides. They cover {covered}."
            )

        qtokens = canon_tokens(question, query=True)
        content = {t for t in qtokens if t not in _CONTENT_STOP}
        if len(content) <= 1 or plan.intent == "compare":
            # "is customer success just support?": the role words are the topic
            content = qtokens
        base = {t for t in canon_tokens(question) if t in content} or content
        # the intent names what an answer must contain, whatever words the question used
        base |= {"time": {"month", "ready"}, "pay": {"pay"}}.get(plan.intent, set())
        cands = self._candidates(pool, plan, base, content)
        region_missing = plan.region is not None and not any(
            _region_hit(c.text, plan.region) for c in cands
        )
        unknown_words = self.unknown_words(content)
        unknown_mass = sum(self.idf(w) for w in unknown_words)
        best = max(cands, key=lambda c: c.coverage, default=None)
        best_cov = best.coverage if best else 0.0
        best_mass = best_cov * (sum(self.idf(t) for t in base if t in self._df) or 1.0)
        if plan.intent == "pay":  # a region or level the guides lack has its own answer
            missing = self._missing_pay(plan, cands, pool)
            if missing:
                return missing
        if plan.intent == "general":
            # "a recipe for sourdough bread": what the guides lack outweighs what they match
            only_region = best is not None and not (
                (best.tokens & base) - region_words_of(base, plan.region)
            )
            off_topic = (
                best_cov < 0.3
                or region_missing
                or (bool(unknown_words) and (unknown_mass >= best_mass or only_region))
            )
        else:
            off_topic = best_cov < 0.2
        if plan.intent == "pay" and any(w in _PAY_EXTRAS for w in unknown_words):
            off_topic = True  # "what bonus do CSMs get?": base pay is not an answer
        if off_topic and plan.intent != "compare":
            what = f" {_and_list([repr(w) for w in unknown_words])}" if unknown_words else " that"
            return self._abstain(
                question,
                plan,
                f"My guides don't cover{what}. They cover {covered}: pay, time to get job-ready, "
                "skills and tools, and the roadmap with its milestones.",
            )
        if plan.intent == "time":
            missing_unit = self._missing_unit(question, plan, cands, pool)
            if missing_unit:
                return missing_unit

        chosen = self._choose(cands, plan)
        sources = {i + 1: Citation.from_hit(i + 1, h) for i, h in enumerate(pool)}
        lines: list[str] = []
        # sources disagree when two guides of one role give a figure for the same thing
        by_key: dict[tuple[str, str], set[int]] = {}
        for c in chosen:
            if extract_numbers(c.text) and plan.intent in ("pay", "time"):
                region = (
                    next((r for r in REGIONS if _region_hit(c.text, r)), "the United States")
                    if plan.intent == "pay"
                    else ""
                )
                by_key.setdefault((c.role, region), set()).add(c.hit_index)
        split = [ix for ix in by_key.values() if len({pool[i].chunk.guide for i in ix}) > 1]
        if split:
            ns = sorted(i + 1 for i in split[0])
            lines.append(
                _cite(
                    "My two guides for this role disagree on the figures, so here is each one with its source",
                    ns,
                )
            )
        lines += [_cite(c.text, c.hit_index + 1) for c in chosen]
        bullets = (plan.intent in ("skills", "roadmap", "compare") or plan.wants_list) and len(
            chosen
        ) > 2
        text = "\n".join(f"- {x}" for x in lines) if bullets else " ".join(lines)
        body, cites, removed = check_answer(text, sources)
        return Answer(
            answer=body,
            citations=cites,
            abstained=False,
            engine=self.name,
            question=question,
            standalone_question=question,
            role=role,
            intent=plan.intent,
            passages=[h.to_dict() for h in pool],
            removed_sentences=removed,
        )

    # --- internals -----------------------------------------------------------------------------

    def _candidates(
        self, pool: list[Hit], plan: Plan, base: set[str], content: set[str]
    ) -> list[Candidate]:
        """Score every sentence; `base` are the question's own words, `content` adds synonyms."""
        cands: list[Candidate] = []
        # words no guide contains cannot be matched; they count against relevance in answer()
        q_weight = sum(self.idf(t) for t in base if t in self._df) or 1.0
        region_words = region_words_of(base, plan.region)
        # "months 6 to 8", "phase 2": numbers that name a section of the guides
        q_nums = {t for t in base if t.isdigit() and len(t) <= 2}
        for i, hit in enumerate(pool):
            heading = " ".join(hit.chunk.section_path)
            heading_tokens = canon_tokens(heading)
            # the section the question names by its numbers
            heading_bonus_num = 2.5 if q_nums and q_nums <= heading_tokens else 0.0
            heading_bonus = (
                1.0
                if _INTENT_HEADING.get(plan.intent)
                and re.search(_INTENT_HEADING[plan.intent], heading, re.I)
                else 0.0
            )
            for pos, s in enumerate(_sentences_of(hit)):
                toks = canon_tokens(s)
                matched = sum(self.idf(t) for t in content & toks)
                matched += 0.5 * sum(self.idf(t) for t in (content & heading_tokens) - toks)
                if region_words and _region_hit(
                    s, plan.region or ""
                ):  # "Berlin" answers "European"
                    matched += sum(self.idf(t) for t in region_words - toks)
                coverage = min(1.0, matched / q_weight)
                score = 5.0 * coverage + 0.6 / (1 + i) + heading_bonus + heading_bonus_num
                if _NEGATIVE.search(s) and not _ASKS_SOURCE.search(" ".join(content)):
                    score -= 1.5  # "the page does not say..." is for questions about sources
                if plan.intent == "time" and re.search(
                    r"\b(ready|readiness|zero|first .{0,40}role|training)\b", s, re.I
                ):
                    score += 1.0
                if plan.roles and hit.chunk.role in plan.roles:
                    score += 0.3
                if plan.intent == "compare" and len(plan.roles) > 1 and len(detect_roles(s)) > 1:
                    score += 2.0  # one sentence that sets the two roles side by side
                if plan.intent == "pay":
                    score += 2.0 if (_MONEY.search(s) and extract_numbers(s)) else -1.0
                elif plan.intent == "time":
                    score += 2.0 if _DURATION.search(s) else -0.5
                elif plan.intent in ("skills",) and re.search(
                    r"\b(tools?|skills?|platforms?|such as|like)\b", s, re.I
                ):
                    score += 0.8
                if plan.region:
                    if _region_hit(s, plan.region):
                        score += 2.5
                    elif _other_region(s, plan.region):
                        score -= 2.0
                elif (
                    plan.intent == "pay"
                    and _other_region(s, "the United States")
                    and not _region_hit(s, "the United States")
                ):
                    score -= 1.5  # an unqualified pay question means the US first
                if plan.level:
                    score += 1.5 if _level_hit(s, plan.level) else -0.3
                cands.append(
                    Candidate(
                        s, i, score, toks, hit.chunk.role, coverage, pos, heading_bonus_num > 0
                    )
                )
        cands.sort(key=lambda c: (-c.score, c.hit_index))
        return cands

    def _choose(self, cands: list[Candidate], plan: Plan) -> list[Candidate]:
        limit = {"pay": 3, "time": 3, "skills": 4, "roadmap": 4, "compare": 4}.get(plan.intent, 3)
        if plan.wants_list:
            limit += 2
        floor = cands[0].score * 0.45
        chosen: list[Candidate] = []
        per_hit: dict[int, int] = {}
        roles_needed = plan.roles if plan.intent == "compare" and len(plan.roles) > 1 else []
        # a comparison takes the best sentence for each role first
        for r in roles_needed:
            for c in cands:
                if c.hit_index not in per_hit and c.role == r:
                    chosen.append(c)
                    per_hit[c.hit_index] = 1
                    break
        for c in cands:
            if len(chosen) >= limit:
                break
            if c.score < floor or c in chosen:
                continue
            cap = 4 if plan.wants_list else 3 if plan.intent in ("skills", "roadmap") else 2
            if c.named_section:
                cap = 5  # "months 3 to 5": the learner asked for that section, so give it
            if per_hit.get(c.hit_index, 0) >= cap:
                continue
            if any(_jaccard(c.tokens, o.tokens) > 0.55 for o in chosen):
                continue
            chosen.append(c)
            per_hit[c.hit_index] = per_hit.get(c.hit_index, 0) + 1
        # "The page lists ten soft skills." says there is a list; the list is what comes next
        by_place = {(c.hit_index, c.pos): c for c in cands}
        for c in list(chosen):
            if _OVERVIEW.search(c.text):
                for nxt_pos in (c.pos + 1, c.pos + 2):
                    n = by_place.get((c.hit_index, nxt_pos))
                    if n and n not in chosen:
                        chosen.append(n)
        # read in passage order: the best source first, each passage's sentences in order
        first: dict[int, int] = {}
        for c in sorted(chosen, key=lambda c: -c.score):
            first.setdefault(c.hit_index, len(first))
        return sorted(chosen, key=lambda c: (first[c.hit_index], c.pos))

    def _missing_pay(self, plan: Plan, cands: list[Candidate], pool: list[Hit]) -> Answer | None:
        """Pay for a region or level the guides do not give: say so, and what they do give."""
        money = [c for c in cands if _MONEY.search(c.text) and extract_numbers(c.text)]
        if plan.roles:
            money = [c for c in money if pool[c.hit_index].chunk.role in plan.roles] or money
        if plan.region:
            in_region = [c for c in money if _region_hit(c.text, plan.region)]
            if plan.region == "Europe":  # Germany is the European country the guides give
                in_region = in_region or [c for c in money if _region_hit(c.text, "Germany")]
            if not in_region:
                roles = plan.roles or sorted(self.pay_regions)
                have = [r for role in roles for r in self.pay_regions.get(role, [])]
                have = list(dict.fromkeys(have))
                role_name = self._role_name(plan, pool)
                listed = _and_list(have) if have else "other regions"
                return self._abstain(
                    "",
                    plan,
                    f"My guides give no {role_name} pay figure for {plan.region}. "
                    f"They give pay only for {listed}; ask about one of those instead.",
                )
            money = in_region
        if plan.level and plan.level not in ("mid",):
            at_level = [c for c in money if _level_hit(c.text, plan.level)]
            if not at_level and money:
                # the closest figure is one that names its own level ("mid-level ... ₹22L")
                best = next(
                    (c for c in money if any(_level_hit(c.text, lv) for lv in LEVELS)), money[0]
                )
                where = f" in {plan.region}" if plan.region else ""
                lead = f"My guides give no {plan.level}-level figure{where}."
                return self._closest(lead, best, pool, plan, "pay")
        return None

    def _missing_unit(
        self, question: str, plan: Plan, cands: list[Candidate], pool: list[Hit]
    ) -> Answer | None:
        """ "How many months/hours..." for a role whose guides give only years (or nothing)."""
        m = re.search(r"\b(months?|weeks?|hours?)\b", question, re.I)
        if not m or not re.search(r"\bhow (many|long|much time)\b", question, re.I):
            return None
        unit = m.group(1).lower().rstrip("s")
        mine = [c for c in cands if not plan.roles or c.role == plan.roles[0]]
        has_unit = re.compile(rf"\d[\d–+\- ]*\s*{unit}s?\b", re.I)
        about_path = re.compile(
            r"\b(become|becoming|ready|training|path|experience|first|zero|job|learn)\b", re.I
        )
        if any(has_unit.search(c.text) and about_path.search(c.text) for c in mine):
            return None
        role_name = self._role_name(plan, pool)
        closest = next((c for c in mine if _DURATION.search(c.text)), None)
        lead = f"My guides give no figure in {unit}s for becoming a {role_name}."
        if closest is None:
            return self._abstain(question, plan, lead)
        return self._closest(lead, closest, pool, plan, "time")

    def _closest(
        self, lead: str, best: Candidate, pool: list[Hit], plan: Plan, intent: str
    ) -> Answer:
        """An abstention that still shows, cited, the nearest thing the guides do give."""
        n = best.hit_index + 1
        sources = {n: Citation.from_hit(n, pool[best.hit_index])}
        text = f"{lead} The closest they give is this: {_cite(best.text, n)}"
        body, cites, removed = check_answer(text, sources)
        return Answer(
            answer=body,
            citations=cites,
            abstained=True,
            engine=self.name,
            role=plan.roles[0] if plan.roles else None,
            intent=intent,
            passages=[h.to_dict() for h in pool],
            removed_sentences=removed,
        )

    def _role_name(self, plan: Plan, pool: list[Hit]) -> str:
        if plan.roles:
            for h in pool:
                if h.chunk.role == plan.roles[0]:
                    return str(h.chunk.meta.get("role_title", plan.roles[0]))
            return plan.roles[0].replace("-", " ").title()
        return "role"

    def _abstain(self, question: str, plan: Plan, text: str) -> Answer:
        return Answer(
            answer=text,
            citations=[],
            abstained=True,
            engine=self.name,
            question=question,
            standalone_question=question,
            role=plan.roles[0] if plan.roles else None,
            intent=plan.intent,
        )


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def pace_months(
    expected_months: float, guide_hours: float, learner_hours: float, remaining_fraction: float
) -> float:
    """Months left at the learner's pace: the guide's plan scaled by hours and by what is left."""
    return expected_months * remaining_fraction * guide_hours / learner_hours


def fmt_num(x: float) -> str:
    if math.isclose(x, round(x)):
        return str(int(round(x)))
    return f"{x:.1f}"
