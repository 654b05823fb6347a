"""The offline engine: understand the question, resolve the conversation, compose the answer.

For each intent the learner asks, a role with a profile gets a composed answer (a plan from
:mod:`tutor.plans`, a template from ``prompts/answers/``); a role without one, or an intent
its profile has no data for, gets the extractive answer from the retrieved passages. Either
way every sentence is cited and goes through the same figure check.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .citations import Answer, check_answer, split_sentences
from .compose import Sources, cited, fit_render, lower_first, oxford, render_answer, say
from .extractive import Wanted, extractive_answer, search_query
from .focus import FOCUS_MIN, fact_words, focus, rank, specific_words
from .index import Index
from .intent_model import FILL
from .knowledge import Knowledge, KnowledgeStore
from .learner_match import learner_for_turn
from .named import names_a_term
from .plans import Ask, Context, Learner, Plan, has_data, plan_for
from .profiles import Profile
from .retrieval import Hit
from .role_context import RoleView, decline_other_context, ladder_owners, role_view, story_named
from .roles import with_found_names
from .settings import Settings
from .state import State, resolve
from .taxonomy import asks_yes_or_no, stem_all, words
from .understanding import (
    OUT_OF_SCOPE,
    IntentModel,
    Lexicon,
    Understander,
    Understanding,
    _clauses,
)
from .vectors import fact_vectors

log = logging.getLogger(__name__)
# How close (embedder) a guide sentence must be to the question to lead the answer.
SENTENCE_MIN = 0.55
# Below this probability the classifier's best intent is a guess.
UNSURE = 0.3
# An unsure intent gives way to a focus fact only when that fact stands this far clear of the
# next one: the fact is then what the question is about, not a word it happens to share.
OVERRIDE_MARGIN = 0.15

MAX_ROLES = 3  # a question naming no role is answered for at most this many
MAX_INTENTS = 3  # a run-on with more questions gets its first three answered
# A question this close to a facet's examples, and this much closer than to another facet's,
# asks for that part first ("whats the hardest part of being a support manager": see the
# facet tests in tests/test_answers.py)
FACET_MIN = 0.5
FACET_MARGIN = 0.05
BUDGET = 190  # words: an answer stays within 200 with its framing
LONG_BUDGET = 300  # a learning path or roadmap overview may be longer
LONG_INTENTS = {"start", "roadmap"}
# A word in this share of the labelled examples names a kind of question ("portfolio", "learn",
# "salary"); rarer ones ("technical", "churn", "QBR") name what it is about. A share, not a
# count, so that adding examples does not turn content words into generic ones.
GENERIC_SHARE = 0.012
CUE_MIN = 8
CUE_SHARE = 0.6
Search = Callable[[str, str | None, int], list[Hit]]


@dataclass
class Turn:
    question: str
    page_role: str | None = None
    learner: Learner = field(default_factory=Learner)
    learner_role: str | None = None
    prev: State | None = None


@dataclass
class Reply:
    answer: Answer
    state: State
    understanding: Understanding
    facts: list[tuple[int, Any]]  # (citation number, profile fact) the answer used


class Coach:
    def __init__(
        self,
        settings: Settings,
        index: Index,
        search: Search,
        knowledge: KnowledgeStore | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self.search = search
        self.knowledge = knowledge or KnowledgeStore(settings.corpus_dir)
        self._lock = threading.Lock()
        self._understander: tuple[str, Understander] | None = None
        self._vec_cache: dict[str, np.ndarray] = {}
        self._facts: dict[str, np.ndarray] = {}  # profile facts, from tutor/vectors.py
        self._generic: tuple[str, set[str]] | None = None
        self._guide_roles: tuple[str, dict[str, dict[str, Any]]] | None = None

    # --- building blocks ---------------------------------------------------------------------

    def guide_roles(self) -> dict[str, dict[str, Any]]:
        """Covered roles from the index: slug -> {title, aliases}; worked out again only when
        an ingest or a corpus file changed them (asked eight times an answer, 3 ms)."""
        k = self.knowledge.get()
        key = k.fingerprint + "|" + self.index.generation()
        cached = self._guide_roles
        if cached is not None and cached[0] == key:
            return cached[1]
        out: dict[str, dict[str, Any]] = {}
        for g in self.index.guides():
            info = out.setdefault(
                g["role"], {"title": g.get("role_title") or g["role"], "aliases": []}
            )
            aliases = g.get("aliases") or []
            if isinstance(aliases, str):
                aliases = [a.strip() for a in aliases.split(",")]
            info["aliases"].extend(a for a in aliases if a)
        found = with_found_names(out, self.index.aliases(), k.taxonomy)
        self._guide_roles = (key, found)
        return found

    def understander(self) -> Understander:
        k = self.knowledge.get()
        roles = self.guide_roles()
        key = k.fingerprint + "|" + self.index.generation()
        with self._lock:
            if self._understander is None or self._understander[0] != key:
                lex = Lexicon.build(k, k.role_aliases(roles))
                model = IntentModel(k.examples, self.index.embedder, self.settings.home / "cache")
                self._understander = (key, Understander(lex, model))
                facts = [f.describe() for p in k.profiles.values() for _, f in p.facts()]
                self._facts = fact_vectors(facts, self.index.embedder, self.settings.home / "cache")
            return self._understander[1]

    def understand(self, text: str) -> Understanding:
        return self.understander().understand(text)

    def _vec(self, text: str) -> np.ndarray:
        v = self._facts.get(text)
        if v is not None:
            return v
        v = self._vec_cache.get(text)
        if v is None:
            v = np.asarray(self.index.embedder.embed_query(text), dtype=np.float32)
            if len(self._vec_cache) > 4096:
                self._vec_cache.clear()
            self._vec_cache[text] = v
        return v

    def similar(self, text: str, options: list[str]) -> list[float]:
        q = self._vec(text)
        return [float(q @ self._vec(o)) for o in options]

    def _facet(self, intent: str, texts: list[str], k: Knowledge) -> str | None:
        """The facet of the intent whose example questions are nearest, when one is near and
        clearly nearer than the others (corpus/understanding/intents.yaml).

        ``texts`` are the question as written and with its slot values taken out: the
        embedder reads "csm" poorly ("what are the myths about csm" is 0.39 from "what are the
        myths about this job", and 0.60 with the role taken out)."""
        facets = k.examples.facets.get(intent)
        if not facets:
            return None
        best = sorted(
            (
                (max(max(self.similar(t, qs)) for t in texts if t), f)
                for f, qs in facets.items()
                if qs
            ),
            reverse=True,
        )
        if not best or best[0][0] < FACET_MIN:
            return None
        if len(best) > 1 and best[0][0] - best[1][0] < FACET_MARGIN:
            return None
        return best[0][1]

    def role_views(self, k: Knowledge) -> dict[str, RoleView]:
        aliases = k.role_aliases(self.guide_roles())
        titles = {s: i["title"] for s, i in self.guide_roles().items()}
        for slug, p in k.profiles.items():
            titles.setdefault(slug, p.title)
        return {s: role_view(s, t, aliases.get(s, [])) for s, t in titles.items()}

    # --- answering ---------------------------------------------------------------------------

    def reply(self, turn: Turn) -> Reply:
        u = self.understand(turn.question)
        state = resolve(u, turn.prev, turn.page_role, turn.learner_role)
        k = self.knowledge.get()
        views = self.role_views(k)
        learner = learner_for_turn(turn.learner, state, k, u.statements)
        sources = Sources(self.index.find_section)
        parts: list[str] = []
        abstained: list[bool] = []
        passages: list[Hit] = []
        intents = [i for i in state.intents if i != "next"][:MAX_INTENTS] or state.intents[:1]
        if intents == ["next"] and not (turn.learner.done or turn.learner.in_progress):
            # "what should I be aiming for next?" from someone whose roadmap we don't know:
            # where to start, from what they told us (a learner with a roadmap gets its steps)
            intents = ["start"]
        if state.background and not u.background and "fit" in intents and "switch" not in intents:
            # "could i be a support manager?" after "been a shift supervisor for 2 yrs": with
            # a background from earlier in the conversation, whether it suits is a switch
            intents = ["switch" if i == "fit" else i for i in intents]
        if "switch" in intents and "fit" in intents and (state.background or state.about_me):
            # "been a retail store manager 6 yrs ... idk if theyd even look at me ... whats the
            # realistic path": the switch answer is whether it suits them
            intents = [i for i in intents if i != "fit"]
        if "compare" in intents and len(intents) > 1:
            # "which has better job growth, CSM or support manager?": each role's growth first,
            # then the difference between the jobs in brief
            intents = [*(i for i in intents if i != "compare"), "compare"]
        answered: list[str] = []  # the roles the answer is about
        covered_titles = [v.title for v in views.values()]

        def add(text: str, declined: bool) -> None:
            if text.strip():
                parts.append(text.strip())
                abstained.append(declined)

        oos = [i for i in intents if i in OUT_OF_SCOPE]
        story = story_named(u.text, k, state.role) if len(oos) == len(intents) else None
        if story is not None:
            # "How soon after signing did Alex's customers churn?": no intent fits a question
            # about one person in a guide's story, but the story answers it
            slug, t = story
            add(self._render("story", sources, views.get(slug), story=t), False)
            answered = [slug]
        elif intents and len(oos) == len(intents):
            add(self._render("decline", sources, kind=oos[0], roles=covered_titles), True)
        elif not intents and not state.role and not u.roles:
            add(self._render("decline", sources, kind="off_topic", roles=covered_titles), True)
        elif intents == ["greeting"]:
            add(self._render("greeting", sources, roles=covered_titles), False)
        else:
            roles = self._roles_for(state, views)
            if not roles and "pay" not in intents:
                # "how many years before someone becomes a Director of Customer Support?": a
                # rung of a covered role's own ladder is that role, not another one (its pay,
                # which the guides don't give, is still declined as another role's)
                roles = [
                    r for r in ladder_owners(state.related or state.other_roles, k) if r in views
                ]
            if len(roles) > 1 and not [r for r in state.roles if r in views]:
                roles = self._closest_roles(u, roles, k)[:MAX_ROLES]
            answered = roles
            if not roles and (state.other_roles or state.related):
                ctx = decline_other_context(state, k, views, sources, intents, turn.page_role)
                add(self._render("decline_other", sources, **ctx), True)
            if roles and "pay" in intents and (state.other_roles or state.related):
                # "how much do account executives make? thinking of going csm then AE": the
                # role asked about, which the guides lack, is said first, whichever part asks
                # for pay ("would technical account manager fit me better than csm? what does
                # a TAM earn")
                ctx = decline_other_context(
                    state, k, views, sources, ["pay"], turn.page_role, offer_pay=False
                )
                add(self._render("decline_other", sources, **ctx), True)
            for intent in (i for i in intents if i not in OUT_OF_SCOPE):
                if intent == "greeting":
                    continue
                # a comparison of two covered roles is one answer, not one per role
                per_role = roles[:1] if intent == "compare" else roles
                # 200 words in all (a path or roadmap overview may run longer), shared out
                total = LONG_BUDGET if intent in LONG_INTENTS else BUDGET
                share = max(60, total // (len(intents) * max(1, len(per_role))))
                for slug in per_role:
                    text, declined, hits, focused = self._part(
                        intent,
                        slug,
                        state,
                        u,
                        learner,
                        k,
                        views,
                        sources,
                        brief=len(intents) > 1 or len(per_role) > 1,
                        heading=views[slug].title if len(per_role) > 1 else None,
                        budget=share,
                    )
                    passages.extend(hits)
                    single = len(per_role) == 1 and slug in k.profiles
                    if text and not declined and single and not focused:
                        text, more = self._with_also(u, text, k.profiles[slug], k, sources, slug)
                        passages.extend(more)
                    add(text, declined)
            for kind in oos[:1]:
                # "...and do I need a visa for Germany?": that part is declined, the rest answered
                text = self._render("decline", sources, kind=kind, roles=covered_titles, brief=True)
                add(text, True)
        if not parts:
            add(self._render("decline", sources, kind="off_topic", roles=covered_titles), True)
        body, cites, removed = check_answer("\n\n".join(parts), sources.citations)
        # a passage flagged at ingest never reaches the browser, not even in `passages`
        chunks = [*sources.chunks, *(h.chunk for h in passages if not h.chunk.flagged)]
        seen: set[str] = set()
        passage_dicts = []
        for c in chunks:
            if c.id not in seen:
                seen.add(c.id)
                passage_dicts.append(Hit(c, 1.0).to_dict())
        answer = Answer(
            answer=body,
            citations=cites,
            abstained=bool(abstained) and all(abstained),
            engine="offline",
            question=turn.question,
            standalone_question=turn.question,
            role=state.role or (answered[0] if len(answered) == 1 else None),
            intent=(state.intents or ["general"])[0],
            passages=passage_dicts,
            removed_sentences=removed,
        )
        return Reply(answer, state, u, list(sources.facts))

    def _generic_words(self, k: Knowledge) -> set[str]:
        """Stems common in the labelled examples ("portfolio", "learn"): they say what kind of
        question it is, not what it is specifically about."""
        if self._generic is None or self._generic[0] != k.fingerprint:
            df: dict[str, int] = {}
            by_intent: dict[tuple[str, str], int] = {}
            for intent, items in k.examples.intents.items():
                for ex in items:
                    for w in set(stem_all(words(ex))):
                        df[w] = df.get(w, 0) + 1
                        by_intent[intent, w] = by_intent.get((intent, w), 0) + 1
            least = GENERIC_SHARE * sum(len(v) for v in k.examples.intents.values())
            generic = {w for w, n in df.items() if n >= least}
            # a word most of whose examples are one intent's names that kind of question
            # ("interview": an interview question, not the day's "interview candidates")
            for (_, w), n in by_intent.items():
                if df[w] >= CUE_MIN and n >= CUE_SHARE * df[w]:
                    generic.add(w)
            self._generic = (k.fingerprint, generic)
        return self._generic[1]

    def _with_also(
        self,
        u: Understanding,
        text: str,
        profile: Profile,
        k: Knowledge,
        sources: Sources,
        slug: str,
    ) -> tuple[str, list[Hit]]:
        """Lead with a guide sentence that covers what the question names and the answer
        left out, when no profile field holds it ("which BLS codes do employers use?").

        A profile fact the question turns on is found before rendering (tutor/focus.py).
        """
        lex = self.understander().lex
        skip = lex.function_words | self._generic_words(k) | self._role_stems(k)
        asked = {w for w in stem_all(words(u.clean)) if len(w) > 2 and w not in skip}
        missing = asked - set(stem_all(words(text)))
        if not missing:
            return text, []
        stems = [fw.stems for fw in fact_words(profile)]
        # a word most facts use ("customer") says little; one in a fact or two says a lot
        df = {w: sum(1 for st in stems if w in st) for w in missing}
        weight = {w: (2.0 if df[w] <= 2 else 1.0 if df[w] <= 6 else 0.0) for w in missing}
        need = max(2.0, sum(weight.values()) / 2)
        # the guides' own sentences, for what no profile field holds ("which BLS codes?")
        hits = self.search(u.text, slug, 4)
        found: tuple[float, str, Hit] | None = None
        for hit in hits:
            for s in split_sentences(hit.chunk.text):
                if len(s.split()) < 6 or s.endswith(":") or s.lstrip().startswith(("-", "*")):
                    continue
                score = sum(weight[w] for w in missing & set(stem_all(words(s))))
                if score >= need and (found is None or score > found[0]):
                    found = (score, s, hit)
        if found is None:
            return text, hits
        _, s, hit = found
        # shared words are not enough: "does the BLS track CSMs?" and "a track record
        # matters more than the degree" share "track"
        if s[:40].lower() in text.lower() or self.similar(u.text, [s])[0] < SENTENCE_MIN:
            return text, hits
        return f"{cited(s, sources.cite_hit(hit))}\n\n{text}", hits

    def _role_names(self, k: Knowledge) -> list[str]:
        return [n for v in k.role_aliases(self.guide_roles()).values() for n in v]

    def _role_stems(self, k: Knowledge) -> set[str]:
        return set(stem_all([w for n in self._role_names(k) for w in words(n)]))

    def _closest_roles(self, u: Understanding, roles: list[str], k: Knowledge) -> list[str]:
        """With no role named or selected, the one whose profile uses the question's own words
        ("What's a QBR?" is a CSM question); both when neither stands out."""
        lex = self.understander().lex
        skip = lex.function_words | self._generic_words(k) | self._role_stems(k)
        asked = {w for w in stem_all(words(u.clean)) if len(w) > 2 and w not in skip}
        if not asked:
            return roles
        hits = {}
        for slug in roles:
            p = k.profiles.get(slug)
            vocab = {w for fw in fact_words(p) for w in fw.stems} if p else set()
            hits[slug] = len(asked & vocab)
        best = max(hits.values())
        winners = [r for r in roles if hits[r] == best]
        return winners if best else roles

    def _roles_for(self, state: State, views: dict[str, RoleView]) -> list[str]:
        named = [r for r in state.roles if r in views]
        if len(named) > 1:
            return named[:2]
        if state.role and state.role in views:
            return [state.role]
        if state.other_roles or state.related:
            return []
        if len(views) == 1:
            return list(views)
        # no role named or selected: every role the guides cover is a candidate (reply() keeps
        # those whose profiles use the question's words)
        return sorted(views)

    def _part(
        self,
        intent: str,
        slug: str,
        state: State,
        u: Understanding,
        learner: Learner,
        k: Knowledge,
        views: dict[str, RoleView],
        sources: Sources,
        brief: bool,
        heading: str | None,
        budget: int = 200,
    ) -> tuple[str, bool, list[Hit], bool]:
        """One intent's answer for one role: (text, declined, passages searched, whether it
        turned on a profile fact)."""
        profile = k.profiles.get(slug)
        # a heading line of its own, ending in a colon: it frames, it claims nothing
        prefix = f"**{heading}:**\n" if heading else ""
        if profile is None or not has_data(intent, profile):
            text, declined, hits = self._extract(intent, slug, state, u, k, views, sources, brief)
            return (prefix + text if text else ""), declined, hits, False
        if intent == "overview" and names_a_term(u.text, profile):
            # "wtf is NRR and why do csms care": a term of the trade, not the role, is asked about
            intent = "glossary"
        ask = Ask(
            intent=intent,
            role=slug,
            region=state.region,
            regions=state.regions,
            level=state.level if intent in ("pay", "career_path", "time") else None,
            other_roles=state.other_roles,
            related=state.related,
            roles=state.roles,
            text=u.text,
            delexed=" ".join(c[0] for c in u.clauses),
            # the parts read as this intent: "...would switching to CSM be a step down, and
            # does my technical background help?" raised the AI myth on its first part
            clauses=[c for c, p in zip(_clauses(u.text), u.clauses, strict=False) if p[1] == intent]
            or _clauses(u.text),
            brief=brief,
            wants_first=bool(re.search(r"\bfirst\b|\border\b|\bstart\b", u.clean)),
            yes_no=asks_yes_or_no(u.text, k.taxonomy.yes_no_openers),
            facet=self._facet(intent, [u.text, " ".join(c[0] for c in u.clauses)], k),
        )
        skip = self.understander().lex.function_words | self._generic_words(k)
        skip |= self._role_stems(k)
        # the slot values are the plan's business ("how much in Germany?" is not about the
        # one fact that names Germany): the delexed text, without its stand-ins
        skip |= set(stem_all(list(FILL.values())))
        # what the learner tells of themselves is not what the question turns on: "im in sales
        # already (b2b saas, 2 yrs) does that speed it up?" led with "most CSM jobs are at
        # B2B SaaS companies"
        told = {w for st in u.statements for w in words(st)}
        asked = " ".join(w for w in (ask.delexed or u.clean).split() if w not in told)
        asked = asked or ask.delexed or u.clean
        ask.specific = specific_words(asked, skip)
        ranked = rank(ask.specific, asked, profile, self.similar)
        found = focus(ranked)
        ask.focus = found.fact if found else None
        # how far the focus stands clear of the next fact: "Do you have to be a programmer to
        # work as a CSM in SaaS?" put "most CSM jobs are at B2B SaaS companies" first on the
        # rare word "SaaS", at 0.80 against 0.69
        clear = found is not None and (
            len(ranked) < 2 or found.score - ranked[1].score >= OVERRIDE_MARGIN
        )
        ctx = Context(
            profile,
            k.roadmaps.get(profile.roadmap or slug),
            k.taxonomy,
            learner,
            self.similar,
            profiles=k.profiles,
        )
        plan = plan_for(ask, ctx)
        guess = not brief and u.confidence < UNSURE and not plan.abstained
        if (
            found
            and guess
            and clear
            and found.score >= FOCUS_MIN
            and not _in_plan(plan.template, found.path)
        ):
            # the intent was a guess and the fact is not ("by how much did the telecom manager
            # cut inbound tickets?" reads as pay at 0.22): the fact is the answer
            kind = type(found.fact).__name__
            return (
                prefix
                + self._render(
                    "lead", sources, views[slug], fact=found.fact, kind=kind, path=found.path
                ),
                False,
                [],
                True,
            )
        data = {**plan.data, "role": views[slug]}
        data.pop("brief", None)
        text = fit_render(
            self.settings.prompts_dir, plan.template, sources, budget, brief=brief, **data
        )
        if text and found and not plan.abstained and not _in_plan(plan.template, found.path):
            said = lower_first(say(found.fact))[:50].lower()
            # cited already, by this part or an earlier one ("Will AI replace CSMs, and is the
            # market growing?": the myth once, not once per intent)
            cited = sources.has_fact(found.fact)
            if said not in text.lower() and not cited:
                # the answer did not say what the question turns on: say it first
                kind = type(found.fact).__name__
                lead = self._render(
                    "lead", sources, views[slug], fact=found.fact, kind=kind, path=found.path
                )
                text = f"{lead}\n\n{text}"
        return (prefix + text if text else ""), plan.abstained, [], found is not None

    def _extract(
        self,
        intent: str,
        slug: str,
        state: State,
        u: Understanding,
        k: Knowledge,
        views: dict[str, RoleView],
        sources: Sources,
        brief: bool,
    ) -> tuple[str, bool, list[Hit]]:
        """The extractive answer (tutor/extractive.py), for the question's region and level."""
        level = state.level if intent in ("pay", "career_path", "time") else None
        want = Wanted(
            u.text,
            intent,
            state.region,
            level,
            self.understander().lex.function_words | set(self._role_names(k)),
            k.taxonomy,
            brief,
            k.examples.descriptions.get(intent, ""),
            bool(re.search(r"\bfirst\b|\border\b|\bstart\b", u.clean)),
            list(state.regions),
        )
        # the question and what its kind of question is about ("pay, salary, earnings"):
        # "how much does a support manager make?" shares no word with a salary block
        hits = self.search(search_query(want, views[slug].title), slug, 6)
        got = extractive_answer(want, hits, sources, self.index.before, self.similar)
        if not got.missing:
            return got.text, got.declined, hits
        # "...in india vs the us": the figures the guides give, and a word on the rest
        name = oxford([k.taxonomy.display(r) for r in got.missing])
        text = self._render(
            "decline_missing", sources, views[slug], what="pay", region_name=name, have=got.have
        )
        if got.declined:
            return text, True, []
        return f"{got.text}\n\n{text}", False, hits

    def _render(
        self,
        template: str,
        sources: Sources,
        view: RoleView | None = None,
        plan: Plan | None = None,
        **ctx: Any,
    ) -> str:
        data = dict(plan.data) if plan else {}
        if view is not None:
            data["role"] = view
            data.setdefault("profile", None)
        data.update(ctx)
        return render_answer(self.settings.prompts_dir, template, sources, **data)


def roadmap_steps_asked(state: State, learner: Learner) -> bool:
    """Whether the roadmap's next steps answer the turn (the caller has the learner's roadmap;
    otherwise :meth:`Coach.reply` answers "next" as "start"). Only when "next" is all the turn
    asks, and the learner has progress or has not told us where they come from: "could someone
    like me become a support manager?? what would i do first" is a switch question, and "4
    years as a hotel front desk supervisor ... What should I do first?" gets the start from
    there."""
    if set(state.intents) != {"next"}:
        return False
    return bool(learner.done or learner.in_progress) or not state.background


# The profile sections a template itself leads with when the question turns on one of their
# facts (prompts/answers/portfolio.j2, career_path.j2, time.j2, myths.j2), or that list it anyway.
_FOCUS_AWARE = {
    "portfolio": ("portfolio.projects",),
    "career_path": ("related",),
    "time": ("ladder",),
    "myths": ("myths",),
    # these list everything they cover; a lead from another section is noise ("which salary
    # sources..." led with Germany's open-jobs count on the word "Glassdoor")
    "sources": ("",),
    "roadmap": ("",),
    # "what is a QBR": the term's meaning first, not a duty that uses the word
    "glossary": ("",),
}


def _in_plan(template: str, path: str) -> bool:
    return path.startswith(_FOCUS_AWARE.get(template, ()))
