"""Learners and their milestone states, in SQLite under TUTOR_HOME."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .db import Conn, write
from .errors import InputError

STATES = ("done", "in_progress", "skipped")
# Hours a week a learner can give: the CLI, the API, the store and the page share these bounds.
# 5e-324 passed "> 0" and then broke every pace estimate for that learner.
MIN_HOURS, MAX_HOURS = 1, 80
_LEARNER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="milliseconds")


def check_learner_id(learner_id: str) -> str:
    if not _LEARNER.match(learner_id or ""):
        raise InputError(
            f"'{learner_id}' is not a valid learner id.",
            "Use 1-64 letters, digits, '.', '_' or '-'.",
        )
    return learner_id


def check_hours(hours: float) -> float:
    number = isinstance(hours, int | float) and not isinstance(hours, bool)
    if not (number and MIN_HOURS <= hours <= MAX_HOURS):
        raise InputError(
            f"{hours!r} hours a week is out of range."
            if number
            else f"{hours!r} is not a number of hours.",
            f"Give a number of hours a week from {MIN_HOURS} to {MAX_HOURS}.",
        )
    return float(hours)


class ProgressStore:
    def __init__(self, db: Conn) -> None:
        self.db = db

    def ensure_learner(self, learner_id: str, anonymous: bool = False) -> str:
        """Create the learner on first use and note the activity (what `tutor prune` reads).

        ``anonymous`` marks learners minted by the web page: only those are ever pruned.
        """
        check_learner_id(learner_id)
        now = _now()
        self.db.execute(
            "insert into learners (id, created_at, last_seen_at, anonymous) values (?, ?, ?, ?) "
            "on conflict (id) do update set last_seen_at = excluded.last_seen_at "
            "where learners.last_seen_at is null or learners.last_seen_at < ?",
            (learner_id, now, now, int(anonymous), _ago(hours=1)),  # at most one write an hour
        )
        return learner_id

    def idle_anonymous(self, days: float) -> list[str]:
        """Anonymous learners with no activity for ``days``: what `tutor prune` forgets."""
        rows = self.db.execute(
            "select id from learners where anonymous = 1 and coalesce(last_seen_at, created_at) < ?",
            (_ago(days=days),),
        )
        return [r[0] for r in rows]

    def set_state(self, learner_id: str, role: str, milestone_id: str, state: str | None) -> None:
        """One atomic upsert plus an audit row; `None` undoes (the milestone is not started)."""
        if state is not None and state not in STATES:
            raise InputError(
                f"'{state}' is not a milestone state.", f"Use one of {', '.join(STATES)}."
            )
        self.ensure_learner(learner_id)
        now = _now()
        with write(self.db):
            if state is None:
                self.db.execute(
                    "delete from progress where learner_id=? and role=? and milestone_id=?",
                    (learner_id, role, milestone_id),
                )
            else:
                self.db.execute(
                    """insert into progress (learner_id, role, milestone_id, state, updated_at)
                       values (?, ?, ?, ?, ?)
                       on conflict (learner_id, role, milestone_id)
                       do update set state = excluded.state, updated_at = excluded.updated_at,
                                     version = progress.version + 1""",
                    (learner_id, role, milestone_id, state, now),
                )
            self.db.execute(
                "insert into progress_events (learner_id, role, milestone_id, state, at) values (?, ?, ?, ?, ?)",
                (learner_id, role, milestone_id, state, now),
            )
            self.db.execute("update learners set role = ? where id = ?", (role, learner_id))

    def states(self, learner_id: str, role: str) -> dict[str, str]:
        rows = self.db.execute(
            "select milestone_id, state from progress where learner_id=? and role=?",
            (learner_id, role),
        )
        return {r[0]: r[1] for r in rows}

    def learner(self, learner_id: str) -> dict[str, object] | None:
        row = self.db.execute("select * from learners where id = ?", (learner_id,)).fetchone()
        return dict(row) if row else None

    def set_hours(self, learner_id: str, hours: float) -> None:
        check_hours(hours)
        self.ensure_learner(learner_id)
        with write(self.db):
            self.db.execute(
                "update learners set hours_per_week = ? where id = ?", (hours, learner_id)
            )

    def delete_learner(self, learner_id: str) -> bool:
        """Forget a learner: progress, history and conversations, in one transaction."""
        check_learner_id(learner_id)
        with write(self.db):
            convs = "select id from conversations where learner_id = ?"
            self.db.execute(
                f"delete from messages where conversation_id in ({convs})", (learner_id,)
            )
            self.db.execute("delete from conversations where learner_id = ?", (learner_id,))
            self.db.execute("delete from progress where learner_id = ?", (learner_id,))
            self.db.execute("delete from progress_events where learner_id = ?", (learner_id,))
            gone = self.db.execute("delete from learners where id = ?", (learner_id,)).rowcount
        return bool(gone)
