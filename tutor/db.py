"""SQLite under TUTOR_HOME: WAL, a busy timeout, and explicit write transactions."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .migrations import migrate


def _create_private(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would use 0644 under the usual umask).

    SQLite gives the -wal and -shm files the database file's mode, so they are 0600 too.
    """
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process created it first, same mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def connect(path: Path) -> sqlite3.Connection:
    _create_private(path)
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


class Database:
    """One SQLite connection per thread.

    A connection's transaction belongs to whoever is using it: with one connection shared by
    the web app's worker threads, 20 learners chatting at once failed with "cannot start a
    transaction within a transaction". WAL lets the per-thread connections read while one writes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        _ = self.conn  # open and migrate now, so a bad home fails at start-up

    @property
    def conn(self) -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if c is None:
            c = connect(self.path)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()
        self._local = threading.local()


Conn = Database | sqlite3.Connection


@contextmanager
def write(db: Conn) -> Iterator[Conn]:
    """One atomic write: all of it lands, or none of it does."""
    db.execute("begin immediate")
    try:
        yield db
    except BaseException:
        db.execute("rollback")
        raise
    else:
        db.execute("commit")
