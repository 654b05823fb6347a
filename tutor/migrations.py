"""Append-only list of named schema migrations. Never edit one that has shipped; add a new one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_manifest(db: sqlite3.Connection) -> None:
    # The live generation of the index: Chroma holds vectors, this says which of them count.
    db.execute(
        """create table files (
            path text primary key, sha256 text not null, guide text not null,
            role_override text, chunks integer not null, ingested_at text not null)"""
    )
    db.execute(
        """create table chunks (
            id text primary key, guide text not null, role text not null, file text not null,
            position integer not null, heading text not null, section_path text not null,
            text text not null, meta text not null)"""
    )
    db.execute("create index chunks_role on chunks(role)")
    db.execute("create table index_state (key text primary key, value text not null)")


@migration
def m002_progress(db: sqlite3.Connection) -> None:
    db.execute(
        """create table learners (
            id text primary key, created_at text not null, role text,
            hours_per_week real)"""
    )
    db.execute(
        """create table progress (
            learner_id text not null references learners(id), role text not null,
            milestone_id text not null, state text not null
                check (state in ('done', 'in_progress', 'skipped')),
            updated_at text not null, version integer not null default 1,
            primary key (learner_id, role, milestone_id))"""
    )
    db.execute(
        """create table progress_events (
            id integer primary key autoincrement, learner_id text not null, role text not null,
            milestone_id text not null, state text, at text not null)"""
    )


@migration
def m003_conversations(db: sqlite3.Connection) -> None:
    db.execute(
        """create table conversations (
            id text primary key, learner_id text not null references learners(id),
            role text, title text not null, created_at text not null, updated_at text not null)"""
    )
    db.execute("create index conversations_learner on conversations(learner_id, updated_at)")
    db.execute(
        """create table messages (
            id integer primary key autoincrement,
            conversation_id text not null references conversations(id),
            sender text not null check (sender in ('user', 'assistant')),
            content text not null, standalone text, answer text, created_at text not null)"""
    )
    db.execute("create index messages_conversation on messages(conversation_id, id)")


@migration
def m004_hours_in_range(db: sqlite3.Connection) -> None:
    # Hours outside 1-80 (0, 5e-324, 100) were accepted once and made /api/next fail for
    # that learner: forget them, so the pace falls back to the roadmap's own.
    db.execute(
        "update learners set hours_per_week = null "
        "where hours_per_week is not null and not (hours_per_week between 1 and 80)"
    )


@migration
def m005_learner_activity(db: sqlite3.Connection) -> None:
    # `tutor prune` forgets anonymous (web) learners idle for TUTOR_RETENTION_DAYS: it needs to
    # know which learners the web minted and when each was last active.
    db.execute("alter table learners add column last_seen_at text")
    db.execute("alter table learners add column anonymous integer not null default 0")
    db.execute("update learners set last_seen_at = created_at")
    db.execute("create index learners_idle on learners(anonymous, last_seen_at)")


@migration
def m006_chunk_search(db: sqlite3.Connection) -> None:
    # BM25 over the live chunks, kept by the ingest's swap transaction: no process rebuilds it.
    # rowid = chunks.rowid; the section path is a column of its own so a heading can weigh
    # more than body text. Porter stemming stands in for the hand-written plural rules.
    db.execute(
        """create virtual table chunk_fts using fts5(
            path, body, tokenize = 'porter unicode61 remove_diacritics 2')"""
    )
    db.execute(
        """insert into chunk_fts(rowid, path, body)
           select rowid, section_path,
                  json_extract(meta, '$.title') || ' > ' || section_path || char(10, 10) || text
           from chunks"""
    )
    # a section's chunks in order, and a guide's chunk under a heading, without a scan
    db.execute("create index chunks_section on chunks(guide, section_path, position)")
    db.execute("create index chunks_heading on chunks(guide, heading, position)")


@migration
def m007_chunk_vocab(db: sqlite3.Connection) -> None:
    # FTS5's own term statistics: how many chunks hold each stem, so a search can skip words
    # that are in most chunks (they cost the most to rank and weigh nothing).
    db.execute("create virtual table chunk_vocab using fts5vocab(chunk_fts, 'row')")


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply what is missing, each in its own transaction. Returns the names applied."""
    db.execute("create table if not exists _migrations (name text primary key, applied_at text)")
    done = {r[0] for r in db.execute("select name from _migrations")}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        db.execute("begin immediate")
        try:
            # a concurrent process may have applied it while we waited for the lock
            if db.execute("select 1 from _migrations where name = ?", (name,)).fetchone():
                db.execute("rollback")
                continue
            fn(db)
            db.execute(
                "insert into _migrations values (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", (name,)
            )
            db.execute("commit")
        except BaseException:
            db.execute("rollback")
            raise
        applied.append(name)
    return applied
