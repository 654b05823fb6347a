"""Understanding a learner's message: what they ask (intents) and about what (slots).

Intents are learned from the labelled examples in ``corpus/understanding/intents.yaml`` with
the embedder the tutor already loads: a message is split into its questions, each question is
embedded, and its intent is the one whose nearest examples are closest. Slots (role, region,
level, background, hours a week) come from the corpus's own vocabularies: role aliases from the
profiles and guides, regions and levels from ``corpus/taxonomy``, backgrounds from the profiles'
transitions, and job titles the guides don't cover from the BLS occupation list.

Before either step, slot values are replaced by neutral stand-ins ("how much does a csm make in
india" is classified as "how much does a manager make in germany"), the same stand-ins the
examples' placeholders are filled with: the classifier learns how learners ask, not which role
or country they ask about, so it carries to a role added tomorrow.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .intent_model import FILL, FOLLOWUP, MIN_SCORE, IntentModel
from .knowledge import Knowledge
from .taxonomy import Gazetteer, Match, fold, words

log = logging.getLogger(__name__)

OUT_OF_SCOPE = ("legal", "visa", "medical", "off_topic")
# after these, the next words name a field of work: "i work in retail sales"
_DOMAIN_CUE = re.compile(
    r"\b(?:i'm in|i am in|i work(?: in)?|i've been(?: in)?|i worked in|background in|coming from|come from|"
    r"(?:switching|moving|transitioning) from|i'm a|i am a|i was a|former|ex)\b"
)
# what a learner who has just said what they do means by "is it right for me?"
_SWITCH_LIKE = {"fit", "overview", "career_path"}
# A comparison's dimension (pay, a day, skills) is the clause's next intent when it holds at
# least half of the probability "compare" leaves, and is not negligible itself.
DIMENSION = 0.5
# How much a follow-up's next reading needs to be asked instead (_reading): with no slot
# changed, "and how long would that take?" (time 0.07-0.08) and "and after that?" (next 0.066,
# better than the last answer again) are, "ok and then?" (next 0.006) keeps the last topic;
# with a slot changed, "what about the tools?" (tools 0.31) names its topic and "and in
# germany?" (0.006) names none.
FOLLOWUP_NEXT_MIN = 0.03
FOLLOWUP_TOPIC_MIN = 0.25
OFF_TOPIC_MARGIN = 0.1
DIMENSION_MIN = 0.02
REFERS_BACK_WORDS = 10
# Read from the clause without its two sides, a dimension needs this share of what is left.
DIMENSION_SHARE = 0.3
DIMENSION_FLOOR = 0.15  # of everything "compare" leaves ("which pays better": pay 0.24)
# A clause is read without the statement it opens with when that reading is this sure and the
# whole clause's is below the second figure.
ASKED_PART_SURE = 0.5
ASKED_PART_UNSURE = 0.35
# Readings that are not something to compare on ("what's the difference?" reads as glossary).
_NO_DIMENSION = ("glossary", "off_topic", "sources", "overview")
_HOURS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:-|to)?\s*(\d+(?:\.\d+)?)?\s*(?:h|hrs?|hours?)\b\s*"
    r"(?:(?:a|an|per|/|each|every)\s*)?(week|wk|day|night|evening)?",
)
# After these words, the next few describe the learner: "i'm a teacher", "coming from sales".
# "can i work remotely as a csm" asks about the role; it says nothing of the learner's job
_MODAL = "".join(
    rf"(?<!\b{m} )"
    for m in ("can", "could", "should", "would", "will", "do", "might", "may", "must")
)
_FIRST_PERSON = re.compile(
    _MODAL
    + r"\b(?:(?:i'm |i am )?(?:switching|moving|transitioning|changing careers?|coming) from|"
    r"i'm(?: currently| now| still)?(?: working)?(?: as| in)?|i am(?: a| an)?|i work(?: as| in| at)?|"
    r"i've been(?: working)?(?: as| in)?|i was(?: a| an)?|i do|currently|coming from|come from|"
    r"(?:switching|moving|transitioning|changing careers?) from|background in|"
    r"former|ex|after \d+ years? (?:as|in)|i(?:'ve)? (?:answer(?:ed)?|run|manage|lead|look after|"
    r"handle|deal with|sell|teach|serve|work with|spent \d+ years?(?: as| in)?))\b"
    # "would my sales exp even count?": the learner's own field, not a role asked about
    r"|\bmy(?=(?:\s+[\w-]+){1,3}\s+(?:exp|experience|background)\b)"
)
_QUESTION = re.compile(
    r"\?|^\s*(?:(?:and|so|but|also|or|plus)\s+)?"
    # "whats csm pay in india and would my sales exp even count?": chat spellings ask too
    r"(how|hows|what|whats|wat|wats|which|who|why|when|where|is|are|am|can|could|should|"
    r"would|will|do|does|"
    r"did|tell|give|show|list|explain|any|need)\b"
    # "im kinda stuck, whats my next step": the question after the comma
    r"|[,;:]\s*(?:how|what|what's|whats|which|where|when|why|should|can|could|do|does)\b"
)
_QWORDS = r"(?:how|what|which|where|when|why|is|are|can|could|do|does|should|would|will|any|tell|give|also)"
_SPLIT = re.compile(rf"(?<=[?!.;])\s+|\s+(?:and|also|plus|but)\s+(?={_QWORDS}\b)", re.I)
_ASKS = re.compile(rf"^\s*{_QWORDS}\b", re.I)


@dataclass
class Understanding:
    text: str
    clean: str
    intents: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)  # role slugs the guides cover, as named
    related: list[str] = field(default_factory=list)  # related-role titles a profile describes
    other_roles: list[str] = field(default_factory=list)  # job titles no guide covers
    region: str | None = None
    regions: list[str] = field(default_factory=list)
    level: str | None = None
    background: str | None = None
    about_me: str | None = None  # the learner's own words about themselves
    statements: list[str] = field(default_factory=list)  # the parts that ask nothing
    hours: float | None = None
    followup: bool = False
    refers_back: bool = False  # "which of those", "that one": about the last answer's list
    clauses: list[tuple[str, str, float]] = field(default_factory=list)
    # the classifier's probability for its best reading: low when the question is like no
    # labelled example ("by how much did the telecom manager cut inbound tickets?", 0.22)
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Lexicon:
    """The corpus's vocabularies, compiled for matching."""

    roles: Gazetteer
    related: Gazetteer
    backgrounds: Gazetteer
    occupations: Gazetteer
    heads: set[str]
    generic: set[str]
    function_words: set[str]
    breaks: set[str]
    comparison_words: set[str]
    anaphora: Gazetteer
    spellings: dict[str, str]
    vocab: list[str]
    knowledge: Knowledge

    @classmethod
    def build(cls, k: Knowledge, role_aliases: dict[str, list[str]]) -> Lexicon:
        related: dict[str, list[str]] = {}
        backgrounds: dict[str, list[str]] = {}
        role_aliases = {slug: list(names) for slug, names in role_aliases.items()}
        for p in k.profiles.values():
            for r in p.related:
                if r.slug not in role_aliases:
                    related.setdefault(r.title, []).extend(r.aliases)
                else:
                    # a profile's names for another covered role name that role ("the
                    # difference between customer success and customer support"); one word
                    # ("support") is too common to name a role on its own
                    role_aliases[r.slug] += [a for a in r.aliases if len(a.split()) > 1]
            for t in p.transitions:
                backgrounds.setdefault(t.background, []).extend(t.aliases)
        tax = k.taxonomy
        vocab: set[str] = set()
        for table in (
            role_aliases,
            related,
            backgrounds,
            {r.name: r.aliases for r in tax.regions.values()},
        ):
            for value, aliases in table.items():
                for a in [value, *aliases]:
                    vocab.update(w for w in words(a) if w.isalpha() and len(w) >= 4)
        for lv in tax.levels.values():
            vocab.update(w for a in lv.words for w in words(a) if w.isalpha() and len(w) >= 4)
        # only the words slots are made of: correcting toward every word the examples use
        # turned "sourdough bread" into "sourdough break"
        vocab.update(w for v in tax.spellings.values() for w in words(v) if len(w) >= 4)
        return cls(
            roles=Gazetteer(role_aliases),
            related=Gazetteer(related),
            backgrounds=Gazetteer(backgrounds),
            occupations=Gazetteer({t: [] for t in tax.occupations}),
            heads=tax.heads,
            generic=tax.generic_heads,
            function_words=tax.function_words,
            breaks=tax.clause_breaks,
            comparison_words=tax.comparison_words,
            anaphora=Gazetteer({"back": sorted(tax.anaphora)}),
            spellings=tax.spellings,
            vocab=sorted(vocab),
            knowledge=k,
        )

    # --- normalising ---------------------------------------------------------------------------

    def normalise(self, text: str) -> list[str]:
        """Folded words with chat spellings expanded and typos of corpus words corrected."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        out: list[str] = []
        known = set(self.vocab)
        for w in words(text):
            if w in self.spellings:
                out.extend(self.spellings[w].split())
                continue
            if w.isalpha() and len(w) >= 5 and w not in known and w not in self.function_words:
                limit = 1 if len(w) < 8 else 2
                best = process.extractOne(
                    w, self.vocab, scorer=Levenshtein.distance, score_cutoff=limit
                )
                # same first letter: "sucess" -> "success", but never "nurse" -> "course"
                if best and best[0][0] == w[0] and not best[0].startswith(w):
                    out.append(best[0])
                    continue
            out.append(w)
        return out


def _spans(matches: Sequence[Match]) -> set[int]:
    return {i for m in matches for i in range(m.start, m.end)}


class Understander:
    """Slots by vocabulary, intents by a classifier over the labelled examples."""

    def __init__(self, lexicon: Lexicon, model: IntentModel) -> None:
        self.lex = lexicon
        self.model = model

    def understand(self, text: str) -> Understanding:
        toks = self.lex.normalise(text)
        u = Understanding(text=text, clean=" ".join(toks))
        found = self._slots(text, toks, u)
        # each question of a run-on is classified on its own, slot values replaced
        clauses = _clauses(text)
        delexed = [" ".join(self._delex(c)) for c in clauses] or [" ".join(self._delex(text))]
        results = self.model.classify_many(delexed)
        # what a clause asks, without the statement it opens with, when that reads far surer:
        # "i'm stressed about money, is csm better paid than support manager?" is fit, pay and
        # compare at 0.27 each, and compare at 0.59 without the feeling; "im not techy at all,
        # is csm still an option" needs its statement (0.29 without it)
        asked = [_asked_part(c, u.statements) for c in clauses]
        redo = [i for i, (c, a) in enumerate(zip(clauses, asked, strict=True)) if a != c]
        if redo and results:
            alt_texts = [" ".join(self._delex(asked[i])) for i in redo]
            for i, t, alt in zip(redo, alt_texts, self.model.classify_many(alt_texts), strict=True):
                whole = results[i][0][2] if results[i] else 0.0
                if alt and alt[0][2] >= ASKED_PART_SURE and whole < ASKED_PART_UNSURE:
                    delexed[i], results[i] = t, alt
        many = len(results) > 1
        picked = [
            (c, *_reading(r, bool(found), many)) for c, r in zip(delexed, results, strict=True)
        ]
        u.clauses = picked
        u.confidence = max((r[0][2] for r in results if r), default=0.0)
        u.scores = _merge(results)
        mine = [c for c in clauses if _FIRST_PERSON.search(" ".join(self.lex.normalise(c)))]
        u.about_me = mine[0] if mine else None
        if u.about_me is None and u.background:
            # "been a call centre agent 3 yrs, ...": the statement that names their job
            u.about_me = next((x for x in u.statements if u.background in fold(x)), None)
        # a clause that only tells us about the learner ("im in retail sales") is context when
        # another clause asks something
        asking = [
            p
            for p, raw in zip(picked, clauses or [text], strict=False)
            if p[2] >= MIN_SCORE and (_QUESTION.search(raw.lower()) or len(picked) == 1)
        ]
        chosen = asking or [p for p in picked if p[2] >= MIN_SCORE]
        intents: list[str] = []
        for _, intent, _ in chosen:
            if intent not in intents:
                intents.append(intent)
        # "compare their pay", "how does a day differ": a comparison is made on some dimension,
        # the clause's next most likely intent
        for p, ranked in zip(picked, results, strict=False):
            if p[1] == "compare" and p in chosen and len(ranked) > 1:
                second, _, prob = ranked[1]
                rest = 1.0 - ranked[0][2]
                skip = (*OUT_OF_SCOPE, FOLLOWUP, "greeting", *intents)
                # most of what is not "compare" ("compare their pay": pay 0.058 of 0.091);
                # "what's the difference?" spreads its 0.006 over many intents
                if prob >= DIMENSION_MIN and prob >= DIMENSION * rest and second not in skip:
                    intents.append(second)
                else:
                    # what the learner says of themselves is not the comparison's dimension:
                    # "i'm stressed about money, is csm better paid..." compares pay, not stress
                    told = {w for st in u.statements for w in self._delex(st)}
                    dim = self._dimension(p[0], skip, told)
                    if dim:
                        intents.append(dim)
        if FOLLOWUP in intents and len(intents) > 1:
            intents.remove(FOLLOWUP)
        # "I'm a teacher. Is customer success realistic for me?" asks about switching, whatever
        # else it sounds like, when the classifier has switching among its close readings
        # ...but a comparison keeps its dimension: "i'm stressed about money, is csm better
        # paid than support manager?" lost its pay to "switch" ("which suits me better?" is
        # still a switch)
        if u.background or u.about_me:
            comparing = "compare" in intents
            for k, intent in enumerate(intents):
                near = [x[0] for x in results[min(k, len(results) - 1)][:3]]
                like = "switch" in near and intent in _SWITCH_LIKE and not comparing
                close = intent == "fit" or like
                if close and "switch" not in intents:
                    intents[k] = "switch"
        u.followup = intents == [FOLLOWUP] or (not intents and found)
        # a short message that points back ("which one first?") and names nothing new
        u.refers_back = (
            len(toks) <= REFERS_BACK_WORDS
            and bool(self.lex.anaphora.find(toks))
            and not (u.roles or u.other_roles or u.related or u.region or u.level)
        )
        u.intents = [i for i in intents if i != FOLLOWUP]
        return u

    def _dimension(
        self, clause: str, skip: tuple[str, ...], told: set[str] | None = None
    ) -> str | None:
        """What a comparison is about, read from the clause without its two sides: "which has
        better job growth, CSM or support manager?" -> "which has better job growth" ->
        outlook. None when nothing is left to say ("what's the difference?")."""
        drop = {FILL["role"], FILL["other_role"], *self.lex.comparison_words, *(told or ())}
        rest = " ".join(w for w in clause.split() if w not in drop)
        if not rest:
            return None
        # the share among the readings that could be a dimension: "which one pays more tho"
        # gives "followup" 0.22 of what "compare" leaves, and pay 0.13
        readings = self.model.classify_many([rest])[0]
        left = sum(x[2] for x in readings if x[0] != "compare") or 1.0
        ranked = [x for x in readings if x[0] != "compare" and x[0] not in (*skip, *_NO_DIMENSION)]
        total = sum(x[2] for x in ranked) or 1.0
        for intent, _, prob in ranked[:1]:
            # ...and no sliver of it: "what's the actual difference" leaves a day reading
            # that is most of very little
            sure = prob / total >= DIMENSION_SHARE and prob / left >= DIMENSION_FLOOR
            return intent if sure else None
        return None

    # --- slots --------------------------------------------------------------------------------

    def _self_window(self, toks: list[str]) -> set[int]:
        """Token positions that describe the learner: "i'm a teacher", "coming from sales"."""
        joined = " ".join(toks)
        out: set[int] = set()
        for m in _FIRST_PERSON.finditer(joined):
            at = len(joined[: m.end()].split())
            for i in range(at, min(len(toks), at + 5)):
                if toks[i] in self.lex.breaks:
                    break  # "switching from support into customer success": "into" ends it
                out.add(i)
        # "barista here, no degree": a job title opening the message introduces the learner
        if len(toks) > 1 and "here" in toks[1:5]:
            out.update(range(0, toks.index("here", 1)))
        return out

    def _statements(self, text: str, toks: list[str]) -> tuple[set[int], list[str]]:
        """Token positions, and the texts, of the message's statements: the parts that ask
        nothing ("been a call centre agent 3 yrs, how do i get to support manager").

        A learner says what they do in a statement, often without "I'm a": "barista here",
        "I manage 5 people in a call center as a shift lead" (past the five words after the
        cue that :meth:`_self_window` reads). Each statement counts from its first word to the
        next clause break ("...and want to", "into"), leading breaks skipped ("I'm leaving the
        army": the army is the background, not "leaving").
        """
        pieces = re.findall(r"[^.!?;,]+[.!?;,]*", text)
        out: set[int] = set()
        said: list[str] = []
        at = 0
        for piece in pieces:
            ptoks = self.lex.normalise(piece)
            body = piece.strip()
            asks = body.endswith("?") or bool(_ASKS.match(body))
            if not asks and len(ptoks) >= 2:
                begun = False
                for i, w in enumerate(ptoks):
                    if w in self.lex.breaks:
                        if begun:
                            break
                        continue
                    if w not in self.lex.function_words:
                        begun = True
                    out.add(at + i)
                said.append(body.rstrip(".!;, "))
            at += len(ptoks)
        if at != len(toks):  # a spelling expanded across a split: trust only the cue windows
            return set(), []
        if not any(p.strip().endswith("?") or _ASKS.match(p.strip()) for p in pieces):
            # nothing asks, so the message is the question, typed without a question mark:
            # "software engineer salary in bangalore" is about that job, not the learner's
            return set(), []
        return out, said

    def _slots(self, text: str, toks: list[str], u: Understanding) -> bool:
        lex = self.lex
        cue = self._self_window(toks)
        stated, u.statements = self._statements(text, toks)
        # roles only from the cue window: "I want to be a CSM, where do I start" states a goal
        mine = cue | stated
        taken: set[int] = set()
        roles = lex.roles.find(toks)
        # "i'm a customer support manager, can i move into customer success?": the first role
        # is the learner's background, the second the role they ask about
        own = [m for m in roles if m.start in cue]
        targets = [m for m in roles if m.start not in cue]
        # "i want to go CSM not support manager": a role the learner rules out is not asked
        # about (unless it is the only one named)
        neg = lex.knowledge.taxonomy.negations
        wanted = [m for m in targets if not (m.start > 0 and toks[m.start - 1] in neg)]
        targets = wanted or targets
        u.roles = list(dict.fromkeys(m.value for m in targets))
        taken |= _spans(roles)
        # the learner's own background words first: "i've been in b2b sales" is where they come
        # from, not the Sales Manager role they ask about
        own_bg = [
            m for m in lex.backgrounds.find(toks) if m.start in mine and not (_spans([m]) & taken)
        ]
        taken |= _spans(own_bg)
        related = [m for m in lex.related.find(toks) if not (_spans([m]) & taken)]
        # a longer job title holds it: "technical account manager" is not the CSM guide's
        # "Account Manager" (whose pay the guides don't give either, but whose comparison
        # would answer a question about another job)
        longer = [t for t in self._job_titles(toks, taken) if t.end - t.start > 1]
        related = [
            m
            for m in related
            if not any(
                t.start <= m.start and m.end <= t.end and t.end - t.start > m.end - m.start
                for t in longer
            )
        ]
        own_related = [m for m in related if m.start in mine]
        related = [m for m in related if m.start not in mine]
        u.related = list(dict.fromkeys(m.value for m in related))
        taken |= _spans(related) | _spans(own_related)
        tax = lex.knowledge.taxonomy
        regions = [m for m in tax.region_gazetteer.find(toks) if self._real_region(m, text)]
        regions = [m for m in regions if not (_spans([m]) & taken)]
        u.regions = list(dict.fromkeys(m.value for m in regions))
        u.region = u.regions[0] if u.regions else None
        taken |= _spans(regions)
        titles = self._job_titles(toks, taken)
        # the learner's own job: a role, a transition's background or a job title in their
        # self-description, in their own words ("call center agent", "customer support"), not
        # the canonical name; a title elsewhere is a role they ask about
        candidates = [
            *(Match(m.alias, m.start, m.end, m.alias) for m in own),
            *(Match(m.alias, m.start, m.end, m.alias) for m in own_bg),
            *(Match(m.alias, m.start, m.end, m.alias) for m in own_related),
            *(m for m in titles if m.start in mine),
        ]
        if candidates:
            u.background = min(candidates, key=lambda m: m.start).value
        elif cue and _DOMAIN_CUE.search(" ".join(toks)):
            # "im in bangalore" is where the learner lives, not their line of work
            u.background = self._domain(toks, cue - taken)
        u.other_roles = list(dict.fromkeys(m.value for m in titles if m.start not in mine))
        levels = [m for m in tax.level_gazetteer.find(toks) if not (_spans([m]) & taken)]
        # "starting out vs senior" asks for both: no one level to filter by
        if len({m.value for m in levels}) == 1:
            u.level = levels[0].value
        hours = _HOURS.search(" ".join(toks))
        if hours:
            lo = float(hours.group(1))
            hi = float(hours.group(2)) if hours.group(2) else lo
            per = hours.group(3) or "week"
            value = (lo + hi) / 2
            u.hours = value * 7 if per in ("day", "night", "evening") else value
        return bool(
            u.roles or u.related or u.regions or u.background or u.other_roles or levels or hours
        )

    def _delex(self, text: str) -> list[str]:
        """The clause with its slot values replaced by the stand-ins the examples use."""
        lex = self.lex
        toks = lex.normalise(text)
        out = list(toks)
        taken: set[int] = set()
        mine = self._self_window(toks)

        def replace(ms: Sequence[Match], filler: str) -> None:
            for m in ms:
                if _spans([m]) & taken:
                    continue
                out[m.start] = filler
                for i in range(m.start + 1, m.end):
                    out[i] = ""
                taken.update(range(m.start, m.end))

        roles = lex.roles.find(toks)
        first = next((m.value for m in roles if m.start not in mine), None)
        replace([m for m in roles if m.start in mine], FILL["background"])
        # "csm or support manager?" compares two roles: the second is "another role", as in
        # the examples' "{role} vs {other_role}"
        replace([m for m in roles if m.value == first], FILL["role"])
        replace([m for m in roles if m.value != first], FILL["other_role"])
        replace(lex.related.find(toks), FILL["other_role"])
        tax = lex.knowledge.taxonomy
        replace(
            [m for m in tax.region_gazetteer.find(toks) if self._real_region(m, text)],
            FILL["region"],
        )
        replace([m for m in lex.backgrounds.find(toks) if m.start in mine], FILL["background"])
        titles = self._job_titles(toks, taken)
        replace([m for m in titles if m.start in mine], FILL["background"])
        replace([m for m in titles if m.start not in mine], FILL["other_role"])
        replace(tax.level_gazetteer.find(toks), FILL["level"])
        return [t for t in out if t]

    @staticmethod
    def _real_region(m: Match, text: str) -> bool:
        """Short aliases must be written as such: "US" and "UK", not "tell us" or "uk" in "ok"."""
        if len(m.alias) > 3 or " " in m.alias:
            return True
        return bool(
            re.search(rf"(?<![A-Za-z]){re.escape(m.alias.upper())}(?![A-Za-z])", text)
        ) or bool(re.search(rf"\b(?:in|the|for) {re.escape(m.alias)}\b", fold(text)))

    def _job_titles(self, toks: list[str], taken: set[int]) -> list[Match]:
        """Job titles named that are not a covered role: "product manager", "nurse"."""
        lex = self.lex
        out: list[Match] = []
        for i, w in enumerate(toks):
            w = w[:-2] if w.endswith("'s") else w  # "a data scientist's salary"
            head = w[:-1] if w.endswith("s") and w[:-1] in lex.heads else w
            if head not in lex.heads or i in taken:
                continue
            start = i
            # the longest known title ending here ("registered nurse"), else its modifiers
            for n in (4, 3, 2):
                j = i - n + 1
                free = j >= 0 and not (set(range(j, i + 1)) & taken)
                if free and lex.occupations.has(" ".join([*toks[j:i], head])):
                    start = j
                    break
            if start == i:
                j = i
                # up to three modifiers: "high school math teacher" lost "high" at two
                while j > 0 and i - j < 3 and toks[j - 1] not in lex.function_words:
                    if (j - 1) in taken or not toks[j - 1].isalpha():
                        break
                    j -= 1
                start = j
            if head in lex.generic and (
                start == i or not lex.occupations.has(" ".join([*toks[start:i], head]))
            ):
                # "my manager", "hiring manager", "an unrestricted assistant": a generic head
                # names a job only in a title the occupation list knows ("product manager")
                continue
            out.append(Match(" ".join([*toks[start:i], head]), start, i + 1, w))
        return out

    def _domain(self, toks: list[str], mine: set[int]) -> str | None:
        """ "i work in retail sales" -> "retail sales": a background we have no alias for."""
        picked: list[str] = []
        for i in sorted(mine):
            w = toks[i]
            # "i'm leaving the army": the verb is not the background, "army" is
            if w in self.lex.function_words or (not picked and w in self.lex.breaks):
                if picked:
                    break
                continue
            if not w.isalpha() or len(picked) >= 3:
                break
            picked.append(w)
        return " ".join(picked) or None


def _reading(ranked: Sequence[Any], slots: bool, many: bool) -> tuple[str, float]:
    """Which of a clause's readings (intent, score, probability; best first) it asks.

    A follow-up changes a slot ("and in germany?", follow-up 0.98). One that names a topic
    asks it ("what about pay in india?": follow-up 0.44, pay 0.42), and one that changes no
    slot asks its next reading ("and how long would that take?": time 0.07). Part of a
    question is declined only when off-topic clearly wins ("what's a QBR and how do I
    prepare one": off-topic 0.44, interview 0.43).
    """
    top = ranked[0]
    rest = [r for r in ranked[1:] if r[0] not in (*OUT_OF_SCOPE, "greeting")]
    if top[0] == FOLLOWUP and rest:
        need = FOLLOWUP_TOPIC_MIN if slots else FOLLOWUP_NEXT_MIN
        if rest[0][2] >= need:
            return rest[0][0], max(rest[0][1], MIN_SCORE)
    if top[0] == "off_topic" and many and rest and top[2] - rest[0][2] < OFF_TOPIC_MARGIN:
        return rest[0][0], rest[0][1]
    return top[0], top[1]


def _asked_part(clause: str, statements: list[str]) -> str:
    """The clause after a statement it opens with, when something is left to ask."""
    low = clause.casefold()
    for st in statements:
        if st and low.startswith(st.casefold()):
            rest = clause[len(st) :].lstrip(" ,;.!")
            if rest:
                return rest
    return clause


def _clauses(text: str) -> list[str]:
    """The message's questions: sentences, and questions joined by "and"; "..., and how?" stays
    with the question before it."""
    out: list[str] = []
    pieces = [m for m in re.split(r"(,\s+)", text.strip())]
    # a comma splits only between two questions ("what's the difference, which pays more?"),
    # not after a lead-in ("for the health score project, which signals...")
    joined: list[str] = []
    for piece in pieces:
        if joined and (
            piece.startswith(",") or not _ASKS.match(piece) or not _ASKS.match(joined[-1])
        ):
            joined[-1] += piece
        else:
            joined.append(piece)
    for part in joined:
        for c in _SPLIT.split(part.strip().rstrip(",")):
            if not c or not re.search(r"\w", c):
                continue
            if out and len(re.findall(r"\w+", c)) < 2:
                out[-1] = f"{out[-1]} {c}"
            else:
                out.append(c)
    return out


def _merge(results: list[list[tuple[str, float, float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for ranked in results:
        for intent, score, _ in ranked:
            out[intent] = max(out.get(intent, 0.0), score)
    return out


# --- the classifier -----------------------------------------------------------------------------
