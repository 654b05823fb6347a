"""Conversations and their messages, stored per learner."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

from .db import Conn, write
from .errors import InputError, LimitReached, NotFound


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


DEFAULT_PAGE, MAX_PAGE = 50, 200


def stored_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as kept in the conversation: its citations, not every retrieved passage.

    Every passage came along (about 10.6 KB an exchange). A citation already holds the text
    the page shows, so only the cited passages stay, as references without their text: the
    contract still holds (a guide citation's chunk_id is one of passages[*].id).
    """
    cited = {c.get("chunk_id") for c in answer.get("citations") or [] if c.get("chunk_id")}
    keep = ("id", "guide", "role", "title", "heading", "score")
    passages = [
        {k: p[k] for k in keep if k in p}
        for p in answer.get("passages") or []
        if p.get("id") in cited
    ]
    return {**answer, "passages": passages}


class ConversationStore:
    def __init__(self, db: Conn, max_per_learner: int = 500) -> None:
        self.db = db
        self.max_per_learner = max_per_learner

    def create(
        self, learner_id: str, role: str | None, title: str = "New conversation"
    ) -> dict[str, Any]:
        """A new conversation; refused once the learner has ``max_per_learner`` of them."""
        cid = secrets.token_hex(12)  # unguessable: ids are never the only guard, but they help
        now = _now()
        with write(self.db):
            (count,) = self.db.execute(
                "select count(*) from conversations where learner_id = ?", (learner_id,)
            ).fetchone()
            if count >= self.max_per_learner:
                raise LimitReached(
                    f"You have {count} conversations, the most one learner can keep.",
                    "Continue one of your existing conversations.",
                )
            self.db.execute(
                "insert into conversations values (?, ?, ?, ?, ?, ?)",
                (cid, learner_id, role, title[:80], now, now),
            )
        return {"id": cid, "title": title[:80], "role": role, "created_at": now, "updated_at": now}

    def _row(self, learner_id: str, conversation_id: str) -> sqlite3.Row:
        row = self.db.execute(
            "select * from conversations where id = ? and learner_id = ?",
            (conversation_id, learner_id),
        ).fetchone()
        if row is None:
            # the same answer for "not yours" and "does not exist": ids leak nothing
            raise NotFound(
                f"No conversation '{conversation_id}'.", "List yours with GET /api/conversations."
            )
        return row

    def get(self, learner_id: str, conversation_id: str) -> dict[str, Any]:
        row = self._row(learner_id, conversation_id)
        msgs = self.db.execute(
            "select sender, content, answer, created_at from messages where conversation_id = ? order by id",
            (conversation_id,),
        ).fetchall()
        return {
            **{k: row[k] for k in ("id", "title", "role", "created_at", "updated_at")},
            "messages": [
                {
                    "sender": m["sender"],
                    "content": m["content"],
                    "answer": json.loads(m["answer"]) if m["answer"] else None,
                    "created_at": m["created_at"],
                }
                for m in msgs
            ],
        }

    def for_learner(
        self, learner_id: str, limit: int = DEFAULT_PAGE, before: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first, ``limit`` at a time; ``before`` is the last id of the previous page."""
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(
                f"A page of {limit} conversations is out of range.", f"Use 1 to {MAX_PAGE}."
            )
        cols = "select id, title, role, created_at, updated_at from conversations"
        if before is None:
            rows = self.db.execute(
                f"{cols} where learner_id = ? order by updated_at desc, id desc limit ?",
                (learner_id, limit),
            )
        else:
            at = self._row(learner_id, before)["updated_at"]
            rows = self.db.execute(
                f"{cols} where learner_id = ? and (updated_at < ? or (updated_at = ? and id < ?)) "
                "order by updated_at desc, id desc limit ?",
                (learner_id, at, at, before, limit),
            )
        return [dict(r) for r in rows]

    def history(
        self, learner_id: str, conversation_id: str, limit: int = 20
    ) -> list[dict[str, Any]]:
        """The last `limit` messages, oldest first, with the standalone form of each question."""
        self._row(learner_id, conversation_id)
        rows = self.db.execute(
            "select sender, content, standalone from messages where conversation_id = ? "
            "order by id desc limit ?",
            (conversation_id, limit),
        ).fetchall()
        return [dict(r) for r in reversed(rows)]

    def last_state(self, learner_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The conversation state stored with the latest answer (see tutor.state)."""
        self._row(learner_id, conversation_id)
        row = self.db.execute(
            "select answer from messages where conversation_id = ? and sender = 'assistant' "
            "order by id desc limit 1",
            (conversation_id,),
        ).fetchone()
        if not row or not row["answer"]:
            return None
        state = json.loads(row["answer"]).get("state")
        return state if isinstance(state, dict) else None

    def add_exchange(
        self,
        learner_id: str,
        conversation_id: str,
        question: str,
        standalone: str,
        answer_text: str,
        answer: dict[str, Any],
    ) -> None:
        """The question and its answer land together or not at all."""
        row = self._row(learner_id, conversation_id)
        now = _now()
        with write(self.db):
            self.db.execute(
                "insert into messages (conversation_id, sender, content, standalone, answer, created_at) "
                "values (?, 'user', ?, ?, null, ?)",
                (conversation_id, question, standalone, now),
            )
            self.db.execute(
                "insert into messages (conversation_id, sender, content, standalone, answer, created_at) "
                "values (?, 'assistant', ?, null, ?, ?)",
                (conversation_id, answer_text, json.dumps(stored_answer(answer)), now),
            )
            title = row["title"]
            if title == "New conversation":
                title = question.strip().split("\n")[0][:60]
            self.db.execute(
                "update conversations set updated_at = ?, title = ?, role = coalesce(role, ?) where id = ?",
                (now, title, answer.get("role"), conversation_id),
            )
