"""The tutor API that the CLI, the web app and the eval runner share (docs/api-contract.md)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .citations import Answer, Citation
from .conversations import ConversationStore
from .errors import InputError, LLMError, NotFound
from .index import Index, IngestReport, ProgressFactory
from .knowledge import KnowledgeStore
from .progress import ProgressStore, check_learner_id
from .retrieval import Hit, Mode, Retriever
from .roadmaps import Roadmap, find_milestone
from .roles import resolve_role
from .settings import Settings, get_settings

if TYPE_CHECKING:
    from .asks import Learner
    from .coach import Coach
    from .compose import Sources
    from .llm import ChatModel
    from .state import State

log = logging.getLogger(__name__)
RETRIEVE_K = 6
WORDS_PER_EVENT = 6  # an offline answer's words per streamed token event


class Tutor:
    def __init__(
        self, settings: Settings, index: Index | None = None, chat_model: ChatModel | None = None
    ) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        self.knowledge = KnowledgeStore(settings.corpus_dir)
        self._coach: Coach | None = None
        self._coach_lock = threading.Lock()
        self.retriever = Retriever(self.index, hint=self._region_hint)
        self.progress_store = ProgressStore(self.index.db)
        self.conversation_store = ConversationStore(self.index.db, settings.max_conversations)
        if chat_model is None and settings.engine_name == "openai":
            from .llm import OpenAIChatModel

            chat_model = OpenAIChatModel(settings)
        self.chat_model = chat_model

    @property
    def coach(self) -> Coach:
        """Built on first use: understanding and composing import 0.3 s of modules that
        `tutor search`, `tutor progress` and the roles list never need. Locked: the web
        server's threads may all ask at once."""
        if self._coach is None:
            with self._coach_lock:
                if self._coach is None:
                    from .coach import Coach

                    self._coach = Coach(
                        self.settings,
                        self.index,
                        lambda q, role, k: self.retriever.search(q, role=role, k=k),
                        self.knowledge,
                    )
        return self._coach

    def _region_hint(self, query: str) -> str:
        """ "CSM pay in Bangalore" also searches for "India", the name the guides use."""
        tax = self.knowledge.taxonomy()
        names = [m.value for m in tax.region_gazetteer.find(query)]
        missing = [n for n in dict.fromkeys(names) if n.lower() not in query.lower()]
        return f"{query} ({', '.join(missing)})" if missing else query

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> Tutor:
        return cls(settings or get_settings(), **kwargs)

    def close(self) -> None:
        self.index.close()

    @property
    def engine_name(self) -> str:
        return "openai" if self.chat_model is not None else "offline"

    # --- knowledge base ----------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path] = (),
        role: str | None = None,
        progress: ProgressFactory | None = None,
    ) -> IngestReport:
        report = self.index.ingest(paths, role=role, progress=progress)
        self.retriever.refresh()
        return report

    def search(
        self, query: str, role: str | None = None, k: int = 5, mode: Mode = "hybrid"
    ) -> list[Hit]:
        self._check_text(query, "search query")
        return self.retriever.search(query, role=self.resolve_role(role), k=k, mode=mode)

    def roadmaps(self) -> dict[str, Roadmap]:
        return self.knowledge.get().roadmaps

    def roles(self) -> list[dict[str, Any]]:
        titles = dict(self.retriever.roles())
        guides: dict[str, list[str]] = {}
        for g in self.index.guides():  # one row per guide, not one per chunk
            guides.setdefault(g["role"], []).append(g["guide"])
        rms = self.roadmaps()
        for r, rm in rms.items():
            titles.setdefault(r, rm.role_title)
        return [
            {"slug": r, "title": titles[r], "guides": guides.get(r, []), "has_roadmap": r in rms}
            for r in sorted(titles)
        ]

    def resolve_role(self, name: str | None) -> str | None:
        """The slug a learner means by ``name`` ("csm", "Customer Success Manager"); None stays None.

        Unknown names raise NotFound with the closest slug as a hint (tutor/roles.py).
        """
        if not name:
            return None
        known = self._role_titles()
        if name in known or name in self.roadmaps():
            return name
        # the same names the question understanding uses: titles, profile and guide aliases
        k = self.knowledge.get()
        aliases = k.role_aliases(self.coach.guide_roles())
        names = {slug: set(aliases.get(slug, [])) | {title} for slug, title in known.items()}
        for slug, rm in self.roadmaps().items():  # a roadmap makes a role known before ingest
            names.setdefault(slug, set()).update({rm.role_title, *aliases.get(slug, [])})
        return resolve_role(name, names)

    def roadmap(self, role: str) -> dict[str, Any]:
        role = self.resolve_role(role) or role
        rm = self.roadmaps().get(role)
        if rm is None:
            known = ", ".join(sorted(self.roadmaps())) or "none"
            raise NotFound(f"No roadmap for role '{role}'.", f"Roadmaps exist for: {known}.")
        return rm.to_dict()

    # --- learners and progress ---------------------------------------------------------------

    def ensure_learner(self, learner_id: str, anonymous: bool = False) -> str:
        return self.progress_store.ensure_learner(learner_id, anonymous)

    def progress(self, learner_id: str, role: str) -> dict[str, Any]:
        check_learner_id(learner_id)
        role = self.resolve_role(role) or role
        rm = self._roadmap_obj(role)
        states = self.progress_store.states(learner_id, role)
        ids = [m.id for m in rm.milestones]
        learner = self.progress_store.learner(learner_id) or {}
        current = None
        for p in rm.phases:
            if any(states.get(m.id) not in ("done", "skipped") for m in p.milestones):
                current = p.id
                break
        return {
            "learner": learner_id,
            "role": role,
            "states": {k: v for k, v in states.items() if k in ids},
            "done": sum(1 for i in ids if states.get(i) == "done"),
            "total": len(ids),
            "current_phase": current,
            # kept in the database and reported: an edited roadmap never silently loses progress
            "removed": sorted(k for k in states if k not in ids),
            "hours_per_week": learner.get("hours_per_week"),
        }

    def set_progress(self, learner_id: str, milestone_id: str, state: str | None) -> dict[str, Any]:
        check_learner_id(learner_id)
        rm, _ = find_milestone(self.roadmaps(), milestone_id)
        self.progress_store.set_state(learner_id, rm.role, milestone_id, state)
        return self.progress(learner_id, rm.role)

    def delete_learner(self, learner_id: str) -> bool:
        return self.progress_store.delete_learner(learner_id)

    def prune_learners(self, idle_days: float | None = None, dry_run: bool = False) -> list[str]:
        """Forget anonymous (web) learners idle for ``idle_days`` (TUTOR_RETENTION_DAYS)."""
        days = self.settings.retention_days if idle_days is None else idle_days
        ids = self.progress_store.idle_anonymous(days)
        if not dry_run:
            for learner_id in ids:
                self.progress_store.delete_learner(learner_id)
        return ids

    def set_hours(self, learner_id: str, hours_per_week: float) -> None:
        self.progress_store.set_hours(learner_id, hours_per_week)

    def learner_role(self, learner_id: str) -> str | None:
        row = self.progress_store.learner(learner_id)
        return str(row["role"]) if row and row.get("role") else None

    def _roadmap_obj(self, role: str) -> Roadmap:
        self.roadmap(role)
        return self.roadmaps()[role]

    # --- conversations -----------------------------------------------------------------------

    def new_conversation(self, learner_id: str, role: str | None = None) -> dict[str, Any]:
        self.ensure_learner(learner_id)
        role = self.resolve_role(role)
        self.retriever.check_role(role)
        return self.conversation_store.create(learner_id, role)

    def conversations(
        self, learner_id: str, limit: int = 50, before: str | None = None
    ) -> list[dict[str, Any]]:
        check_learner_id(learner_id)
        return self.conversation_store.for_learner(learner_id, limit, before)

    def conversation(self, learner_id: str, conversation_id: str) -> dict[str, Any]:
        check_learner_id(learner_id)
        return self.conversation_store.get(learner_id, conversation_id)

    # --- answering ---------------------------------------------------------------------------

    def _check_text(self, text: str, what: str = "question") -> str:
        text = (text or "").strip()
        if not text:
            raise InputError(
                f"The {what} is empty.", "Type a question, e.g. 'How much does a CSM earn?'"
            )
        limit = self.settings.max_message_chars
        if len(text) > limit:
            raise InputError(
                f"The {what} is {len(text):,} characters long; the limit is {limit:,}.",
                "Ask one short question at a time.",
            )
        return text

    def _role_titles(self) -> dict[str, str]:
        return self.retriever.roles()

    def understand(self, text: str) -> dict[str, Any]:
        """What the tutor reads in a message (intents and slots), for debugging and evals."""
        return self.coach.understand(self._check_text(text)).to_dict()

    def ask(
        self,
        question: str,
        role: str | None = None,
        learner_id: str | None = None,
        conversation_id: str | None = None,
    ) -> Answer:
        final: dict[str, Any] | None = None
        for event in self.ask_stream(question, role, learner_id, conversation_id):
            if event["event"] == "answer":
                final = event["data"]
        assert final is not None
        return Answer.from_dict(final)

    def ask_stream(
        self,
        question: str,
        role: str | None = None,
        learner_id: str | None = None,
        conversation_id: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Validate everything before the first event, so errors surface as exceptions."""
        from .state import State

        q = self._check_text(question)
        self.retriever.refresh()
        self.index.require_ready()
        role = self.resolve_role(role)
        self.retriever.check_role(role)
        history: list[dict[str, Any]] = []
        conv_role = None
        prev: State | None = None
        if learner_id:
            self.ensure_learner(learner_id)
            if conversation_id:
                conv = self.conversation_store.get(learner_id, conversation_id)
                conv_role = conv["role"]
                history = self.conversation_store.history(learner_id, conversation_id)
                prev = State.from_dict(
                    self.conversation_store.last_state(learner_id, conversation_id)
                )
            else:
                conversation_id = self.conversation_store.create(learner_id, role)["id"]
        elif conversation_id:
            raise InputError("A conversation needs a learner id.", "Pass --learner ID.")
        return self._answer_events(q, role or conv_role, learner_id, conversation_id, history, prev)

    def _learner(self, learner_id: str | None, role: str | None) -> Learner:
        """What the tutor knows about the learner: weekly hours, ticked milestones."""
        from .asks import Learner

        if not learner_id:
            return Learner()
        row = self.progress_store.learner(learner_id) or {}
        hours = row.get("hours_per_week")
        out = Learner(hours=float(str(hours)) if hours else None, hours_from="settings")
        if role and role in self.roadmaps():
            rm = self.roadmaps()[role]
            p = self.progress(learner_id, role)
            titles = {m.id: m.title for m in rm.milestones}
            out.done = [titles[i] for i, st in p["states"].items() if st == "done"]
            out.in_progress = [titles[i] for i, st in p["states"].items() if st == "in_progress"]
            out.total = p["total"]
            out.current_phase = next(
                (ph.title for ph in rm.phases if ph.id == p["current_phase"]), None
            )
        return out

    def _answer_events(
        self,
        q: str,
        page_role: str | None,
        learner_id: str | None,
        conversation_id: str | None,
        history: list[dict[str, Any]],
        prev: State | None,
    ) -> Iterator[dict[str, Any]]:
        from .coach import Turn, roadmap_steps_asked
        from .redaction import model_unavailable

        learner_role = self.learner_role(learner_id) if learner_id else None
        u = self.coach.understand(q)
        # the learner record is read for the role this turn is about
        named = u.roles[0] if u.roles else None
        guess = named or page_role or (prev.role if prev else None) or learner_role
        turn = Turn(q, page_role, self._learner(learner_id, guess), learner_role, prev)
        reply = self.coach.reply(turn)
        answer, state = reply.answer, reply.state
        standalone = _standalone(q, state, self._role_titles())
        yield {
            "event": "meta",
            "data": {
                "conversation_id": conversation_id,
                "role": state.role,
                "standalone_question": standalone,
            },
        }
        wants_next = learner_id is not None and roadmap_steps_asked(state, turn.learner)
        next_role = state.role or learner_role
        if wants_next and next_role in self.roadmaps():
            answer = self._next_steps(learner_id or "", next_role, hours=state.hours)
        streamed = False
        if self.chat_model is not None and not (wants_next and next_role in self.roadmaps()):
            gen = self._llm_answer(q, standalone, reply, turn.learner, learner_id, history)
            try:
                while True:
                    yield {"event": "token", "data": {"text": next(gen)}}
                    streamed = True
            except StopIteration as stop:
                answer = stop.value
            except LLMError as exc:
                notice = model_unavailable(exc, [self.settings.openai_api_key])
                if streamed:
                    yield {"event": "reset", "data": {"notice": notice}}
                    streamed = False
                answer.notice = notice
        answer.question = q
        answer.standalone_question = standalone
        answer.conversation_id = conversation_id
        answer.role = answer.role or state.role
        answer.intents = list(state.intents)
        answer.intent = (state.intents or [answer.intent])[0]
        answer.state = state.to_dict()
        if not streamed:
            # a few words per event: the answer is complete already, and each event costs the
            # web server a hop through its thread pool (one event per word held the load
            # test's 200 learners to a first-token p95 over 1 s)
            words = re.findall(r"\S+\s*", answer.answer)
            for i in range(0, len(words), WORDS_PER_EVENT):
                piece = "".join(words[i : i + WORDS_PER_EVENT])
                yield {"event": "token", "data": {"text": piece}}
        data = answer.to_dict()
        if learner_id and conversation_id:
            self.conversation_store.add_exchange(
                learner_id, conversation_id, q, standalone, answer.answer, data
            )
        yield {"event": "answer", "data": data}

    def _progress_text(self, learner_id: str | None, role: str | None) -> str:
        if not learner_id or not role or role not in self.roadmaps():
            return ""
        p = self.progress(learner_id, role)
        rm = self.roadmaps()[role]
        titles = {m.id: m.title for m in rm.milestones}
        lines = [f"{p['done']} of {p['total']} milestones done."]
        for mid, st in sorted(p["states"].items()):
            lines.append(f"- {titles.get(mid, mid)}: {st.replace('_', ' ')}")
        return "\n".join(lines)

    def _llm_answer(
        self,
        question: str,
        standalone: str,
        reply: Any,
        learner: Learner,
        learner_id: str | None,
        history: list[dict[str, Any]],
    ) -> Any:
        """A generator: yields text deltas, returns the checked Answer (raises LLMError).

        The model sees what the offline answer used (profile facts and their passages) plus
        the passages retrieved for the question, so both paths know the same things.
        """
        from .injection import detector
        from .model_answer import build_messages, stream_answer

        assert self.chat_model is not None
        offline, state = reply.answer, reply.state
        sources: dict[int, Citation] = {c.n: c for c in offline.citations if c.kind == "guide"}
        facts = [(n, f) for n, f in reply.facts if n in sources]
        seen = {(c.guide, c.heading) for c in sources.values()}
        sent: list[Hit] = []
        for h in self.retriever.search(standalone, role=state.role, k=RETRIEVE_K):
            if h.chunk.flagged:  # instruction-like text (tutor/injection.py): never sent
                continue
            if (h.chunk.guide, h.chunk.heading) not in seen:
                n = len(sources) + 1
                sources[n] = Citation.from_hit(n, h)
                seen.add((h.chunk.guide, h.chunk.heading))
                sent.append(h)
        chat_history = [
            {"role": "user" if m["sender"] == "user" else "assistant", "content": m["content"]}
            for m in history[-8:]
        ]
        messages, kept = build_messages(
            self.settings,
            question,
            sources,
            facts,
            learner,
            self._progress_text(learner_id, state.role),
            chat_history,
        )
        answer = yield from stream_answer(
            self.chat_model,
            messages,
            kept,
            self.settings.max_output_tokens,
            question,
            detector(self.settings.corpus_dir),
        )
        answer.role = state.role
        # every passage the model was given, so that any it cites resolves (a retrieved one
        # the offline answer did not use, such as a guide's own account of its sources)
        have = {p["id"] for p in offline.passages}
        answer.passages = [
            *offline.passages,
            *(h.to_dict() for h in sent if h.chunk.id not in have),
        ]
        return answer

    # --- next steps ---------------------------------------------------------------------------

    def next_steps(
        self, learner_id: str, role: str | None = None, conversation_id: str | None = None
    ) -> Answer:
        """Cited advice; stored as an exchange when a conversation is given (the chat page)."""
        from .nextsteps import NEXT_QUESTION

        answer = self._next_steps(learner_id, self.resolve_role(role))
        if conversation_id:
            answer.conversation_id = conversation_id
            self.conversation_store.add_exchange(
                learner_id,
                conversation_id,
                NEXT_QUESTION,
                NEXT_QUESTION,
                answer.answer,
                answer.to_dict(),
            )
        return answer

    def _next_steps(
        self, learner_id: str, role: str | None = None, hours: float | None = None
    ) -> Answer:
        from .citations import check_answer
        from .compose import Sources
        from .nextsteps import NEXT_QUESTION, Progress, render_next
        from .redaction import model_unavailable

        check_learner_id(learner_id)
        self.ensure_learner(learner_id)
        self.retriever.refresh()
        self.index.require_ready()
        role = role or self.learner_role(learner_id)
        if role is None:
            if len(self.roadmaps()) == 1:
                role = next(iter(self.roadmaps()))
            else:
                raise InputError(
                    "Which role's roadmap? This learner has not picked one yet.",
                    f"Pass --role, one of: {', '.join(sorted(self.roadmaps()))}.",
                )
        rm = self._roadmap_obj(role)
        p = self.progress(learner_id, role)
        prog = Progress(
            p["done"],
            p["total"],
            p["states"],
            p["current_phase"],
            p["removed"],
            p["hours_per_week"],
        )
        k = self.coach.knowledge.get()
        views = self.coach.role_views(k)
        sources = Sources(self.index.find_section)
        text = render_next(
            self.settings, sources, views.get(role), rm, prog, k.profiles.get(role), hours
        )
        body, cites, removed = check_answer(text, sources.citations)
        engine, notice = "offline", None
        if self.chat_model is not None and prog.done < prog.total:
            try:
                body, cites, removed = self._llm_next_steps(rm.role_title, text, sources)
                engine = "openai"
            except LLMError as exc:
                notice = model_unavailable(exc, [self.settings.openai_api_key], "advice")
        return Answer(
            answer=body,
            citations=cites,
            abstained=False,
            engine=engine,
            notice=notice,
            question=NEXT_QUESTION,
            standalone_question=NEXT_QUESTION,
            role=role,
            intent="next",
            intents=["next"],
            passages=[Hit(c, 1.0).to_dict() for c in sources.chunks],
            removed_sentences=removed,
        )

    def _llm_next_steps(
        self, role_title: str, draft: str, sources: Sources
    ) -> tuple[str, list[Citation], list[str]]:
        """The model rewrites the computed advice (prompts/next_step.j2); figures stay checked."""
        from .injection import detector
        from .llm import complete
        from .model_answer import next_step_messages, verify

        assert self.chat_model is not None
        messages = next_step_messages(self.settings, draft, sources.citations)
        raw = complete(self.chat_model, messages, self.settings.max_output_tokens)
        found = detector(self.settings.corpus_dir)
        body, cites, removed = verify(raw, sources.citations, found=found)
        if not body or not cites:
            raise LLMError("The model's advice could not be verified against the guides.")
        return body, cites, removed


def _standalone(question: str, state: State, titles: dict[str, str]) -> str:
    """The question with what the conversation supplies, for retrieval and for display."""
    context = []
    if state.role and titles.get(state.role, "").lower() not in question.lower():
        context.append(titles.get(state.role, state.role))
    if state.region and state.region.lower() not in question.lower():
        context.append(state.region)
    if state.background and state.background.lower() not in question.lower():
        context.append(f"background: {state.background}")
    return f"{question} ({'; '.join(context)})" if context else question
