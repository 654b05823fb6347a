"""SQLite under TUTOR_HOME: WAL, a busy timeout, and explicit write transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .migrations import migrate


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so writers queue instead of
    # failing with "database is locked" half-way through a transaction.
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("pragma busy_timeout=30000")
    # Switching a fresh file to WAL takes an exclusive lock, and SQLite does not always call
    # the busy handler for it: processes that open a new TUTOR_HOME together must retry.
    for attempt in range(100):
        try:
            db.execute("pragma journal_mode=wal")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.02 * (1 + attempt % 10))
    db.execute("pragma foreign_keys=on")
    db.execute("pragma synchronous=normal")
    migrate(db)  # one select when up to date
    return db


@contextmanager
def write(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write: all of it lands, or none of it does."""
    db.execute("begin immediate")
    try:
        yield db
    except BaseException:
        db.execute("rollback")
        raise
    else:
        db.execute("commit")
