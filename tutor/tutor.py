"""The tutor API that the CLI, the web app and the eval runner share (docs/api-contract.md)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import offline as off
from .citations import Answer, Citation, check_answer, progress_citation
from .conversations import ConversationStore
from .errors import InputError, LLMError, NotFound
from .index import Index, IngestReport, ProgressFactory
from .llm import ChatModel, OpenAIChatModel, complete
from .progress import ProgressStore, check_learner_id
from .prompts import MAX_SENTENCES, Budget, build_answer_messages, passage_view, render
from .retrieval import Hit, Mode, Retriever
from .roadmaps import Roadmap, find_milestone, load_roadmaps
from .settings import Settings, get_settings

log = logging.getLogger(__name__)
RETRIEVE_K = 6
NEXT_QUESTION = "What should I do next?"


class Tutor:
    def __init__(
        self, settings: Settings, index: Index | None = None, chat_model: ChatModel | None = None
    ) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        self.retriever = Retriever(self.index)
        self.progress_store = ProgressStore(self.index.db)
        self.conversation_store = ConversationStore(self.index.db)
        if chat_model is None and settings.engine_name == "openai":
            chat_model = OpenAIChatModel(settings)
        self.chat_model = chat_model
        self._roadmaps: dict[str, Roadmap] | None = None
        self._offline: off.OfflineEngine | None = None
        self._offline_gen: str | None = None
        self._lock = threading.Lock()

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
        return self.retriever.search(query, role=role, k=k, mode=mode)

    def roadmaps(self) -> dict[str, Roadmap]:
        if self._roadmaps is None:
            self._roadmaps = load_roadmaps(self.settings.corpus_dir)
        return self._roadmaps

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

    def roadmap(self, role: str) -> dict[str, Any]:
        rm = self.roadmaps().get(role)
        if rm is None:
            known = ", ".join(sorted(self.roadmaps())) or "none"
            raise NotFound(f"No roadmap for role '{role}'.", f"Roadmaps exist for: {known}.")
        return rm.to_dict()

    # --- learners and progress ---------------------------------------------------------------

    def ensure_learner(self, learner_id: str) -> str:
        return self.progress_store.ensure_learner(learner_id)

    def progress(self, learner_id: str, role: str) -> dict[str, Any]:
        check_learner_id(learner_id)
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
        if role:
            self.retriever.check_role(role)
        return self.conversation_store.create(learner_id, role)

    def conversations(self, learner_id: str) -> list[dict[str, Any]]:
        check_learner_id(learner_id)
        return self.conversation_store.for_learner(learner_id)

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

    def offline_engine(self) -> off.OfflineEngine:
        gen = self.index.generation()
        with self._lock:
            if self._offline is None or gen != self._offline_gen:
                # The offline engine's statistics still need every live chunk (it is being
                # rewritten); read them lazily here, once per index generation, and never at
                # start-up or for a search.
                self._offline = off.OfflineEngine(self.index.live_chunks())
                self._offline_gen = gen
            return self._offline

    def _role_titles(self) -> dict[str, str]:
        return self.retriever.roles()

    def _rewrite(self, question: str, history: list[dict[str, Any]]) -> str:
        previous = [
            m["standalone"] for m in history if m["sender"] == "user" and m.get("standalone")
        ]
        if not previous:
            return question
        offline_rewrite = off.rewrite_followup(question, previous)
        if self.chat_model is None:
            return offline_rewrite
        try:
            prompt = render(
                self.settings.prompts_dir,
                "rewrite",
                history=[{"sender": m["sender"], "content": m["content"]} for m in history[-6:]],
                question=question,
            )
            text = complete(self.chat_model, [{"role": "user", "content": prompt}], 80).strip()
            text = text.strip().strip('"').split("\n")[0]
            return text if 3 <= len(text) <= 500 else offline_rewrite
        except LLMError as exc:
            log.info("rewrite fell back to the offline rule: %s", exc)
            return offline_rewrite

    def _pick_role(
        self, standalone: str, role: str | None, conv_role: str | None, learner_id: str | None
    ) -> str | None:
        named = off.detect_roles(standalone)
        known = self._role_titles()
        named = [r for r in named if r in known]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            return None
        return role or conv_role or (self.learner_role(learner_id) if learner_id else None)

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
        q = self._check_text(question)
        self.retriever.refresh()
        self.index.require_ready()
        if role:
            self.retriever.check_role(role)
        history: list[dict[str, Any]] = []
        conv_role = None
        if learner_id:
            self.ensure_learner(learner_id)
            if conversation_id:
                conv = self.conversation_store.get(learner_id, conversation_id)
                conv_role = conv["role"]
                history = self.conversation_store.history(learner_id, conversation_id)
            else:
                conversation_id = self.conversation_store.create(learner_id, role)["id"]
        elif conversation_id:
            raise InputError("A conversation needs a learner id.", "Pass --learner ID.")
        return self._answer_events(q, role, learner_id, conversation_id, history, conv_role)

    def _answer_events(
        self,
        q: str,
        role: str | None,
        learner_id: str | None,
        conversation_id: str | None,
        history: list[dict[str, Any]],
        conv_role: str | None,
    ) -> Iterator[dict[str, Any]]:
        standalone = self._rewrite(q, history)
        use_role = self._pick_role(standalone, role, conv_role, learner_id)
        yield {
            "event": "meta",
            "data": {
                "conversation_id": conversation_id,
                "role": use_role,
                "standalone_question": standalone,
            },
        }
        intent = off.detect_intent(standalone)
        streamed = False
        if intent == "next" and learner_id and (use_role or self.learner_role(learner_id)):
            answer = self._next_steps(learner_id, use_role)
        else:
            hits, extra = self._retrieve(standalone, use_role)
            answer = None
            if self.chat_model is not None:
                gen = self._llm_answer(standalone, hits, use_role, learner_id, history)
                try:
                    while True:
                        yield {"event": "token", "data": {"text": next(gen)}}
                        streamed = True
                except StopIteration as stop:
                    answer = stop.value
                except LLMError as exc:
                    notice = f"The language model was unavailable ({exc.message}), so this answer comes from the offline engine."
                    if streamed:
                        yield {"event": "reset", "data": {"notice": notice}}
                        streamed = False
                    answer = self._offline_answer(standalone, hits, extra, use_role)
                    answer.notice = notice
            if answer is None:
                answer = self._offline_answer(standalone, hits, extra, use_role)
        assert answer is not None
        answer.question = q
        answer.standalone_question = standalone
        answer.conversation_id = conversation_id
        if answer.role is None:
            answer.role = use_role
        if not streamed:
            for piece in re.findall(r"\S+\s*", answer.answer):
                yield {"event": "token", "data": {"text": piece}}
        data = answer.to_dict()
        if learner_id and conversation_id:
            self.conversation_store.add_exchange(
                learner_id, conversation_id, q, standalone, answer.answer, data
            )
        yield {"event": "answer", "data": data}

    def _retrieve(self, standalone: str, role: str | None) -> tuple[list[Hit], list[Hit]]:
        hits = self.retriever.search(standalone, role=role, k=RETRIEVE_K)
        extra: list[Hit] = []
        named = [r for r in off.detect_roles(standalone) if r in self._role_titles()]
        if len(named) > 1:  # a comparison: make sure each role brings its own passages
            for r in named:
                extra.extend(self.retriever.search(standalone, role=r, k=3))
        return hits, extra

    def _offline_answer(
        self, standalone: str, hits: list[Hit], extra: list[Hit], role: str | None
    ) -> Answer:
        engine = self.offline_engine()
        ans = engine.answer(standalone, hits, role, self._role_titles(), extra=extra)
        ans = self._add_pace(ans, standalone, role)
        return ans

    def _add_pace(self, ans: Answer, question: str, role: str | None) -> Answer:
        """ "I can do 5 hours a week, how long?": scale the roadmap's plan, showing the arithmetic."""
        m = re.search(r"(\d+(?:\.\d+)?)\s*(?:h|hrs?|hours?)\s*(?:a|per|/)\s*week", question, re.I)
        if (
            ans.abstained
            or ans.intent != "time"
            or not m
            or not role
            or role not in self.roadmaps()
        ):
            return ans
        rm = self.roadmaps()[role]
        if not (rm.hours_per_week and rm.expected_months):
            return ans
        hours = float(m.group(1))
        if hours <= 0:
            return ans
        months = off.pace_months(rm.expected_months, rm.hours_per_week, hours, 1.0)
        n = len(ans.citations) + 1
        calc = (
            f"Pace calculation from the {rm.role_title} roadmap: {off.fmt_num(rm.expected_months)} months at "
            f"{off.fmt_num(rm.hours_per_week)} hours a week, scaled to {off.fmt_num(hours)} hours a week: "
            f"{off.fmt_num(rm.expected_months)} × {off.fmt_num(rm.hours_per_week)} / {off.fmt_num(hours)} "
            f"= {off.fmt_num(months)} months."
        )
        ans.citations.append(
            progress_citation(n, "Pace estimate", rm.role_title, calc, "Career Tutor calculation")
        )
        ans.answer += f" At {off.fmt_num(hours)} hours a week, that plan stretches to about {off.fmt_num(months)} months [{n}]."
        return ans

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
        standalone: str,
        hits: list[Hit],
        role: str | None,
        learner_id: str | None,
        history: list[dict[str, Any]],
    ) -> Any:
        """A generator: yields text deltas, returns the checked Answer (raises LLMError)."""
        assert self.chat_model is not None
        budget = Budget(
            self.settings.context_window,
            self.settings.max_output_tokens,
            self.settings.openai_model,
        )
        roles = [r["title"] for r in self.roles()]
        chat_history = [
            {"role": "user" if m["sender"] == "user" else "assistant", "content": m["content"]}
            for m in history[-8:]
        ]
        messages, kept = build_answer_messages(
            self.settings.prompts_dir,
            budget,
            standalone,
            hits,
            roles,
            progress=self._progress_text(learner_id, role),
            history=chat_history,
        )
        parts: list[str] = []
        for delta in self.chat_model.stream(messages, self.settings.max_output_tokens):
            parts.append(delta)
            yield delta
        raw = "".join(parts).strip()
        sources = {i + 1: Citation.from_hit(i + 1, h) for i, h in enumerate(kept)}
        body, cites, removed = check_answer(raw, sources)
        abstained = not cites and bool(
            re.search(
                r"\b(don't|do not|doesn't|does not|no)\b.*\b(cover|give|say|mention|include)",
                body,
                re.I,
            )
        )
        if not body or (not cites and not abstained):
            raise LLMError("The model's answer could not be verified against the guides.")
        return Answer(
            answer=body,
            citations=cites,
            abstained=abstained,
            engine="openai",
            role=role,
            intent=off.detect_intent(standalone),
            passages=[h.to_dict() for h in kept],
            removed_sentences=removed,
        )

    # --- next steps ---------------------------------------------------------------------------

    def next_steps(
        self, learner_id: str, role: str | None = None, conversation_id: str | None = None
    ) -> Answer:
        """Cited advice; stored as an exchange when a conversation is given (the chat page)."""
        answer = self._next_steps(learner_id, role)
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

    def _llm_next_steps(
        self,
        role_title: str,
        progress: str,
        nxt: list[Any],
        hits: list[Hit],
        sources: dict[int, Citation],
    ) -> str:
        """The model writes the advice (prompts/next_step.j2); pace and records stay computed."""
        assert self.chat_model is not None
        user = render(
            self.settings.prompts_dir,
            "next_step",
            role_title=role_title,
            progress=progress,
            next_milestones=[{"id": m.id, "title": m.title, "phase": p.title} for p, m in nxt],
            passages=[passage_view(h) for h in hits],
        )
        system = render(
            self.settings.prompts_dir,
            "system",
            roles=[r["title"] for r in self.roles()],
            max_sentences=MAX_SENTENCES,
        )
        raw = complete(
            self.chat_model,
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            self.settings.max_output_tokens,
        )
        body, cites, _ = check_answer(raw, {n: c for n, c in sources.items() if c.kind == "guide"})
        if not body or not cites:
            raise LLMError("The model's advice could not be verified against the guides.")
        return raw  # checked again, with the computed lines, by the caller

    def _next_steps(self, learner_id: str, role: str | None = None) -> Answer:
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
        prog = self.progress(learner_id, role)
        states = prog["states"]
        open_ms = [
            (p, m)
            for p in rm.phases
            for m in p.milestones
            if states.get(m.id) not in ("done", "skipped")
        ]
        doing = [(p, m) for p, m in open_ms if states.get(m.id) == "in_progress"]
        todo = [(p, m) for p, m in open_ms if states.get(m.id) != "in_progress"]
        nxt = (doing + todo)[:3]
        phase = next((p for p in rm.phases if p.id == prog["current_phase"]), None)

        # passages: each phase's guide section, and the guide's time-to-ready section
        hits: list[Hit] = []
        wanted = {x.id for x, _ in nxt} | ({phase.id} if phase else set())
        for p in rm.phases:
            under = self.index.under_heading(rm.guide, p.heading) if p.id in wanted else []
            if under:
                hits.append(Hit(under[-1], 1.0))  # the heading's last chunk, as before
        try:
            pace_hits = self.retriever.search(
                f"how long time to job-ready weekly hours {rm.role_title}", role=role, k=4
            )
            hits += [
                h
                for h in pace_hits
                if h.chunk.guide == rm.guide and h.chunk not in [x.chunk for x in hits]
            ][:1]
        except NotFound:
            pass
        sources: dict[int, Citation] = {
            i + 1: Citation.from_hit(i + 1, h) for i, h in enumerate(hits)
        }
        index_of = {(h.chunk.guide, h.chunk.heading): i + 1 for i, h in enumerate(hits)}

        remaining_w = sum(m.weight for _, m in open_ms)
        total_w = sum(m.weight for m in rm.milestones)
        p_text = [
            f"{prog['done']} of {prog['total']} milestones done on the {rm.role_title} roadmap"
            + (
                f"; current phase: {phase.title}."
                if phase
                else "; every milestone is done or skipped."
            ),
        ]
        if nxt:
            p_text.append("Next milestones: " + "; ".join(m.title for _, m in nxt) + ".")
        if prog["removed"]:
            p_text.append(
                f"{len(prog['removed'])} milestone(s) in your records are no longer in the roadmap: "
                + ", ".join(prog["removed"])
                + "."
            )
        pn = len(sources) + 1
        sources[pn] = progress_citation(
            pn,
            "Your roadmap progress",
            rm.role_title,
            " ".join(p_text),
            "Career Tutor progress records",
        )
        lines: list[str] = []
        if phase:
            lines.append(
                f"You have done {prog['done']} of {prog['total']} milestones and are in the {phase.title} phase [{pn}]."
            )
        else:
            lines.append(
                f"You have finished every milestone on the {rm.role_title} roadmap [{pn}]."
            )
        for p, m in nxt:
            n = index_of.get((rm.guide, p.heading))
            why = ""
            if n:
                sents = off._sentences_of(hits[n - 1])
                mt = set(off.tokenize(m.title))
                best = max(
                    sents, key=lambda s: (len(mt & set(off.tokenize(s))), -len(s)), default=""
                )
                why = off._cite(best, [n]) if best else ""
            status = " (in progress)" if states.get(m.id) == "in_progress" else ""
            lines.append(f"- **{m.title}**{status} [{pn}]. {why}".strip())
        advice, lines = lines, []  # what follows is computed, whoever writes the advice
        if prog["removed"]:
            lines.append(
                f"Your records also keep {len(prog['removed'])} milestone(s) that the roadmap no longer lists [{pn}]."
            )
        # pace, with the arithmetic shown in its own citation
        hours = prog["hours_per_week"]
        dn = next(
            (
                i + 1
                for i, h in enumerate(hits)
                if h.chunk.heading not in {p.heading for p in rm.phases}
            ),
            None,
        )
        if nxt and rm.hours_per_week and rm.expected_months:
            h_use = float(hours or rm.hours_per_week)
            months = off.pace_months(
                rm.expected_months, rm.hours_per_week, h_use, remaining_w / total_w
            )
            cn = len(sources) + 1
            calc = (
                f"The roadmap plans {off.fmt_num(rm.expected_months)} months at "
                f"{off.fmt_num(rm.hours_per_week)} hours a week; {off.fmt_num(remaining_w)} of "
                f"{off.fmt_num(total_w)} milestone weight remains; at {off.fmt_num(h_use)} hours a week: "
                f"{off.fmt_num(rm.expected_months)} × {off.fmt_num(remaining_w)}/{off.fmt_num(total_w)} × "
                f"{off.fmt_num(rm.hours_per_week)}/{off.fmt_num(h_use)} = {off.fmt_num(months)} months."
            )
            sources[cn] = progress_citation(
                cn, "Pace estimate", rm.role_title, calc, "Career Tutor calculation"
            )
            marks = f"[{dn}][{cn}]" if dn else f"[{cn}]"
            who = "your" if hours else "the guide's"
            lines.append(
                f"At {who} {off.fmt_num(h_use)} hours a week, the rest of the roadmap should take about "
                f"{off.fmt_num(months)} months {marks}."
            )
            if not hours:
                lines.append("Set your own weekly hours for a personal estimate.")
        elif nxt:
            cn = len(sources) + 1
            sources[cn] = progress_citation(
                cn,
                "Pace estimate",
                rm.role_title,
                rm.duration_note or "The roadmap gives no time estimate.",
                "Career Tutor roadmap",
            )
            lines.append(
                f"The guide for this role gives no weekly hours or month count for its roadmap [{cn}]."
            )
        engine, notice = "offline", None
        if self.chat_model is not None and nxt:
            try:
                advice = [self._llm_next_steps(rm.role_title, " ".join(p_text), nxt, hits, sources)]
                engine = "openai"
            except LLMError as exc:
                notice = f"The language model was unavailable ({exc.message}), so this advice comes from the offline engine."
        body, cites, removed = check_answer("\n".join(advice + lines), sources)
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
            passages=[h.to_dict() for h in hits],
            removed_sentences=removed,
        )
