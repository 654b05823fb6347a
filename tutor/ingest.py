"""Ingest: corpus files into the index, streamed, incremental and crash-safe.

Files are loaded, chunked and de-duplicated one at a time into a TEMP staging table (one
document in memory, never every chunk). New chunks are embedded in batches and their vectors
upserted into Chroma; then the live set and its BM25 rows are swapped in one SQLite
transaction; only then are orphaned vectors deleted. Killed at any point, the previous live
set is intact. An unchanged corpus is recognised by its file hashes without chunking.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import db as dbmod
from .chunking import Chunk, Deduper, chunk_document, dedupe
from .embedding import Embedder
from .errors import CorpusError
from .ingestion import GUIDE_SUFFIXES, Document, discover, load_document, validate_role_slug
from .injection import FILE as PATTERNS_FILE
from .injection import SHIPPED as SHIPPED_PATTERNS
from .injection import detector, flag_chunks
from .tokens import count_tokens, have_tiktoken, tiktoken_cached

if TYPE_CHECKING:
    from .index import Index

# (total, desc=..., unit=...) -> a bar with update(n) and close(); the CLI passes tqdm
ProgressFactory = Callable[..., Any]
COLS = "id, guide, role, file, position, heading, section_path, text, meta"  # the chunks table
# Bump when loading, cleaning or chunking would cut the same files differently: an unchanged
# re-ingest is recognised by file hashes and this signature, without chunking anything.
CHUNKER_VERSION = "2"


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates_dropped: int = 0
    embedded: int = 0
    seconds: float = 0.0
    changed_files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # passed over with a warning: why, per file
    # passages holding instruction-like text (tutor/injection.py): ingested, never quoted
    flagged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        skipped = f"; {len(self.skipped)} skipped (see the warnings above)" if self.skipped else ""
        if self.flagged:
            n = len(self.flagged)
            skipped += f"; {n} passage{'s' * (n != 1)} flagged (see the warnings above)"
        return (
            f"{self.files} files, {self.chunks} chunks: {self.added} added, {self.unchanged} unchanged, "
            f"{self.removed} removed ({self.duplicates_dropped} duplicates dropped, "
            f"{self.embedded} embedded) in {self.seconds:.2f}s{skipped}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _no_guides_in(folder: Path, notes: list[str]) -> str:
    """`tutor ingest DIR` on a folder without guides used to succeed silently."""
    inside = [n for n in notes if n.startswith(f"{folder}/")]
    found = f" ({len(inside)} passed over: {'; '.join(inside)})" if inside else ""
    return (
        f"{folder}: no guide file in this folder{found}. "
        f"Guides are {', '.join(sorted(GUIDE_SUFFIXES))} files; PDFs are not supported yet."
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def chunk_from_row(row: sqlite3.Row) -> Chunk:
    meta = json.loads(row["meta"])
    return Chunk(
        id=row["id"],
        text=row["text"],
        heading=row["heading"],
        section_path=tuple(row["section_path"].split(" > ")),
        position=row["position"],
        meta=meta,
    )


class Ingest:
    """One ingest run over an index."""

    def __init__(self, ix: Index) -> None:
        self.ix = ix
        # files passed over with a warning (a symlink out of the corpus, a PDF): the report
        # carries them and `tutor ingest` prints them; they do not stop the ingest
        self.skipped: list[str] = []

    def _sources(self, paths: Iterable[Path], role: str | None) -> list[tuple[Path, str | None]]:
        """The corpus directory, every file ingested by path before, and the new paths."""
        corpus_root = self.ix.settings.corpus_dir.resolve()
        previous = {
            Path(r["path"]): r["role_override"]
            for r in self.ix.db.execute("select path, role_override from files")
        }
        out: dict[Path, str | None] = {}
        for p in discover(self.ix.settings.corpus_dir, self.skipped):
            real = p.resolve()
            # `tutor ingest corpus/guides/notes.txt --role x` once: later ingests keep the role
            out[real] = previous.get(real)
        for p, override in previous.items():
            if not p.is_relative_to(corpus_root):
                out[p] = override
        for p in paths:
            out[p.resolve()] = role
        return sorted(out.items())

    def _check_paths(self, paths: list[Path], role: str | None) -> None:
        if role is not None:
            validate_role_slug(role)
        for p in paths:
            if not p.exists() and not p.is_symlink():
                raise CorpusError(f"{p}: no such file.", "Check the path.")

    def _documents(
        self,
        sources: list[tuple[Path, str | None]],
        explicit: set[Path],
        errors: list[str],
        vanished: list[str],
    ) -> Iterator[Document]:
        """Each source loaded in turn: one document in memory at a time. Bad files go into
        ``errors`` and the rest still load, so every problem is reported at once."""
        files = {p for p, _ in sources}
        for path, override in sources:
            if not path.exists() and path not in explicit:
                vanished.append(str(path))  # a file ingested by path and since deleted
                continue
            found = [path]
            if path.is_dir():
                found = discover(path, self.skipped)
                if not found:
                    errors.append(_no_guides_in(path, self.skipped))
            for sub in found:
                if path.is_dir():
                    if sub.resolve() in files:  # `tutor ingest corpus/guides`: already here
                        continue
                    files.add(sub.resolve())
                try:
                    yield load_document(sub, self.ix.settings.corpus_dir, override)
                except CorpusError as exc:
                    errors.append(str(exc))

    def load(self, paths: list[Path], role: str | None) -> tuple[list[Document], list[str]]:
        """Read every source; report every bad file at once, before anything is written."""
        self._check_paths(paths, role)
        errors: list[str] = []
        vanished: list[str] = []
        sources = self._sources(paths, role)
        docs = list(self._documents(sources, {p.resolve() for p in paths}, errors, vanished))
        _raise_load_errors(errors)
        ids: dict[str, str] = {}
        for d in docs:
            _check_unique(ids, d)
        return docs, vanished

    def _counter(self) -> Callable[[str], int]:
        emb = self.ix.embedder
        exact = have_tiktoken()

        @lru_cache(maxsize=8192)  # a paragraph is counted to see if it fits, then packed
        def count(text: str) -> int:
            # tiktoken bounds the prompt budget, the embedder's own tokenizer its input: respect
            # both. Without tiktoken's files the chars/3.5 estimate must not move chunk
            # boundaries (the eval gate failed on a machine without ../shared): the embedder's
            # WordPiece count, always available, is the larger of the two for English anyway.
            n = emb.count_tokens(text)
            return max(count_tokens(text), n) if exact else n

        return count

    def _limit(self) -> int:
        return min(self.ix.settings.chunk_tokens, self.ix.embedder.max_tokens)

    def chunk(self, docs: list[Document]) -> tuple[list[Chunk], int]:
        count, limit = self._counter(), self._limit()
        chunks: list[Chunk] = []
        for d in docs:
            chunks.extend(chunk_document(d, limit, count))
        return dedupe(chunks)

    def _signature(self) -> str:
        """What, besides the files, decides the live set and where its vectors are.

        Cheap on purpose: whether tiktoken's file is there, not the loaded encoding (1-4 s),
        and the local vector store's file identity, not a Chroma client (1-4 s of imports).
        """
        settings = self.ix.settings
        store: str | None = settings.chroma_url
        if not store:
            try:  # a deleted and re-created chroma/ is another file
                st = (settings.chroma_path / "chroma.sqlite3").stat()
                store = f"{settings.chroma_path}:{st.st_dev}:{st.st_ino}"
            except OSError:
                store = f"{settings.chroma_path}:missing"
        patterns = settings.corpus_dir / PATTERNS_FILE
        if not patterns.is_file():
            patterns = SHIPPED_PATTERNS
        try:  # a new pattern list re-checks every chunk (no re-embedding: the texts are the same)
            flags = hashlib.sha256(patterns.read_bytes()).hexdigest()[:16]
        except OSError:
            flags = "missing"
        return json.dumps(
            [
                CHUNKER_VERSION,
                flags,
                self.ix.embedder.name,
                self._limit(),
                tiktoken_cached(),
                store,
                settings.collection,
            ]
        )

    def _unchanged(
        self, sources: list[tuple[Path, str | None]], explicit: set[Path], role: str | None
    ) -> IngestReport | None:
        """The report of an ingest that would change nothing, or None if something changed.

        Every file hashed and none chunked: an unchanged re-ingest at 3,000 chunks took longer
        to re-chunk and de-duplicate than the 2 s it may cost.
        """
        if self.ix.state("signature") != self._signature():
            return None
        stored = {
            r["path"]: (r["sha256"], r["role_override"])
            for r in self.ix.db.execute("select path, sha256, role_override from files")
        }
        seen = 0
        for path, _ in sources:
            if path.is_dir() or not path.is_file():
                return None
            got = stored.get(str(path))
            if got is None or (path in explicit and got[1] != role):
                return None
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                return None
            if digest != got[0]:
                return None
            seen += 1
        live = self.ix.db.execute("select count(*) from chunks").fetchone()[0]
        if seen != len(stored):
            return None
        if self.ix.settings.chroma_url and self.ix.collection.count() < live:  # a new server
            return None
        return IngestReport(
            files=seen,
            chunks=live,
            unchanged=live,
            duplicates_dropped=int(self.ix.state("duplicates_dropped") or 0),
            flagged=self._stored_flags(),
        )

    def _stored_flags(self) -> list[str]:
        """An unchanged re-ingest still names the flagged passages: the warning must not vanish
        just because nobody fixed the guide."""
        rows = self.ix.db.execute(
            "select meta, section_path from chunks"
            " where json_extract(meta, '$.flagged') is not null order by file, position"
        )
        out = []
        for r in rows:
            meta = json.loads(r["meta"])
            where = r["section_path"].replace(" > ", " › ")
            out.append(
                f"{meta.get('file', '')} › {where}: {meta['flagged']}; the tutor will not quote "
                "this passage. Rewrite it as facts for learners, or remove it."
            )
        return out

    def run(
        self, paths: list[Path], role: str | None, progress: ProgressFactory | None
    ) -> IngestReport:
        started = time.perf_counter()
        self._check_paths(paths, role)
        sources = self._sources(paths, role)
        explicit = {p.resolve() for p in paths}
        report = self._unchanged(sources, explicit, role)
        if report is None:
            report = self._ingest(sources, explicit, paths, role, progress)
        report.skipped = list(dict.fromkeys(self.skipped))
        report.seconds = time.perf_counter() - started
        return report

    def _ingest(
        self,
        sources: list[tuple[Path, str | None]],
        explicit: set[Path],
        paths: list[Path],
        role: str | None,
        progress: ProgressFactory | None,
    ) -> IngestReport:
        """Stream files into a staging table, embed what is new, then swap in one transaction.

        Peak memory holds one document, one batch of vectors and the ids: chunk texts wait in
        a TEMP table on this connection, which the live index never sees.
        """
        report = IngestReport()
        db = self.ix.db
        db.execute("drop table if exists temp.stage")
        db.execute(
            """create temp table stage (
                id text primary key, guide text, role text, file text, position integer,
                heading text, section_path text, text text, meta text, seq integer,
                new integer not null default 0)"""
        )
        try:
            files = self._stage(sources, explicit, report)
            return self._embed_and_swap(files, paths, role, report, progress)
        finally:
            db.execute("drop table if exists temp.stage")

    def _stage(
        self, sources: list[tuple[Path, str | None]], explicit: set[Path], report: IngestReport
    ) -> list[tuple[Document, int]]:
        """Load, chunk and de-duplicate file by file into temp.stage; raise on any bad file."""
        count, limit = self._counter(), self._limit()
        found = detector(self.ix.settings.corpus_dir)
        dedup = Deduper()
        errors: list[str] = []
        vanished: list[str] = []
        ids: dict[str, str] = {}
        duplicate_id: CorpusError | None = None
        files: list[tuple[Document, int]] = []
        seq = 0
        for doc in self._documents(sources, explicit, errors, vanished):
            try:
                _check_unique(ids, doc)
            except CorpusError as exc:
                duplicate_id = duplicate_id or exc
                continue
            try:
                chunks = [c for c in chunk_document(doc, limit, count) if dedup.add(c)]
            except CorpusError as exc:
                errors.append(str(exc))
                continue
            report.flagged.extend(flag_chunks(chunks, found))
            self.ix.db.executemany(
                "insert into temp.stage values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [(*chunk_row(c), seq + i) for i, c in enumerate(chunks)],
            )
            seq += len(chunks)
            doc.sections = []  # the text is staged; keep only what the files table needs
            files.append((doc, len(chunks)))
        _raise_load_errors(errors)
        if duplicate_id is not None:
            raise duplicate_id
        report.files, report.chunks = len(files), seq
        report.duplicates_dropped = dedup.dropped
        report.removed_files = vanished
        return files

    def _embed_and_swap(
        self,
        files: list[tuple[Document, int]],
        paths: list[Path],
        role: str | None,
        report: IngestReport,
        progress: ProgressFactory | None,
    ) -> IngestReport:
        db = self.ix.db
        # Which vectors exist already, in the collection of *this* embedder.
        existing = set(self.ix.collection.get(include=[])["ids"])
        staged = [r[0] for r in db.execute("select id from temp.stage order by seq")]
        # shortest first: a batch of similar lengths pads less (sentence-transformers sorts too)
        todo = [
            r[0]
            for r in db.execute("select id from temp.stage order by length(text), seq")
            if r[0] not in existing
        ]
        batch = max(
            1, min(int(self.ix.client.get_max_batch_size()), _embed_batch(self.ix.embedder))
        )
        embedded_before = getattr(self.ix.embedder, "embed_calls", 0)
        if todo:
            self._load_model(progress)
        bar = progress(len(todo), desc="Embedding", unit="chunk") if (progress and todo) else None
        try:
            for i in range(0, len(todo), batch):
                part = list(self.chunks_staged(todo[i : i + batch]))
                vectors = self.ix.embedder.embed_documents([c.embed_text for c in part])
                self.ix.collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=vectors,
                    documents=[c.text for c in part],
                    metadatas=[c.metadata() for c in part],
                )
                if bar:
                    bar.update(len(part))
        finally:
            if bar:
                bar.close()
        report.embedded = getattr(self.ix.embedder, "embed_calls", 0) - embedded_before

        db.execute("update temp.stage set new = 1 where id not in (select id from chunks)")
        report.added = db.execute("select count(*) from temp.stage where new").fetchone()[0]
        report.unchanged = report.chunks - report.added
        report.removed = db.execute(
            "select count(*) from chunks where id not in (select id from temp.stage)"
        ).fetchone()[0]

        overrides = {p.resolve(): role for p in paths}
        old_files = {r["path"]: r["sha256"] for r in db.execute("select path, sha256 from files")}
        with dbmod.write(db):
            # The live set becomes the staged set: the BM25 rows go and come with their chunks.
            db.execute(
                """delete from chunk_fts where rowid in (
                    select rowid from chunks where id not in (select id from temp.stage))"""
            )
            db.execute("delete from chunks where id not in (select id from temp.stage)")
            db.execute(
                """update chunks set guide = s.guide, role = s.role, file = s.file,
                       position = s.position, heading = s.heading, meta = s.meta
                   from temp.stage s
                   where s.id = chunks.id
                     and (chunks.guide, chunks.role, chunks.file, chunks.position, chunks.meta)
                         <> (s.guide, s.role, s.file, s.position, s.meta)"""
            )
            db.execute(f"insert into chunks select {COLS} from temp.stage where new order by seq")
            db.execute(
                """insert into chunk_fts(rowid, path, body)
                   select c.rowid, c.section_path,
                          json_extract(c.meta, '$.title') || ' > ' || c.section_path
                          || char(10, 10) || c.text
                   from chunks c join temp.stage s on s.id = c.id where s.new"""
            )
            prev_overrides = {
                r["path"]: r["role_override"] for r in db.execute("select * from files")
            }
            db.execute("delete from files")
            for d, n in files:
                abspath = _abspath(self.ix.settings.corpus_dir, d)
                override = overrides.get(Path(abspath), prev_overrides.get(abspath))
                db.execute(
                    "insert into files values (?, ?, ?, ?, ?, ?)",
                    (abspath, d.sha256, d.id, override, n, _now()),
                )
                if old_files.get(abspath) != d.sha256:
                    report.changed_files.append(d.file)
            for key, value in (
                ("aliases", json.dumps(_role_acronyms(db))),
                ("generation", str(time.time_ns())),
                ("signature", self._signature()),
                ("duplicates_dropped", str(report.duplicates_dropped)),
            ):
                db.execute("insert or replace into index_state values (?, ?)", (key, value))
        kept = {_abspath(self.ix.settings.corpus_dir, d) for d, _ in files}
        report.removed_files = sorted(set(old_files) - kept | set(report.removed_files))

        # Only now drop vectors no generation uses; a crash here leaves harmless orphans.
        orphans = sorted(existing - set(staged))
        for i in range(0, len(orphans), batch):
            self.ix.collection.delete(ids=orphans[i : i + batch])
        return report

    def chunks_staged(self, ids: list[str]) -> Iterator[Chunk]:
        marks = ",".join("?" * len(ids))
        rows = self.ix.db.execute(f"select {COLS} from temp.stage where id in ({marks})", ids)
        by_id = {r["id"]: chunk_from_row(r) for r in rows}
        return (by_id[i] for i in ids)

    def _load_model(self, progress: ProgressFactory | None) -> None:
        """Loading the model is its own step: the embedding bar used to sit at 0% through it."""
        load = getattr(self.ix.embedder, "load", None)
        if load is None:
            return
        bar = progress(1, desc="Loading the embedding model", unit="model") if progress else None
        try:
            load(for_documents=True)
            if bar:
                bar.update(1)
        finally:
            if bar:
                bar.close()


def _role_acronyms(db: dbmod.Conn) -> dict[str, str]:
    """Each role title's initials, where that role's chunks (and no other role's more often)
    use them as a word: "Customer Success Manager" and "Customer Support Manager" are both
    CSM by initials, and only the first one's guides write "CSM"."""
    found: dict[str, tuple[int, str]] = {}
    titles = db.execute(
        "select role, json_extract(meta, '$.role_title') from chunks group by role"
    ).fetchall()
    for role, title in titles:
        acronym = "".join(w[0] for w in str(title).split() if w[:1].isalpha()).upper()
        if len(acronym) < 2:
            continue
        uses = db.execute(
            "select count(*) from chunks where role = ? and ' ' || text || ' ' glob ?",
            (role, f"*[^A-Za-z]{acronym}[^A-Za-z]*"),
        ).fetchone()[0]
        best = found.get(acronym.lower())
        if uses and (best is None or uses > best[0]):
            found[acronym.lower()] = (uses, str(title).lower())
    out: dict[str, str] = {}
    for acronym, (_, title) in found.items():
        out[acronym] = title
        out[acronym + "s"] = title + "s"
    return out


def _embed_batch(embedder: Embedder) -> int:
    return int(getattr(embedder, "batch_size", 32))


def chunk_row(c: Chunk) -> tuple[Any, ...]:
    return (
        c.id,
        c.guide,
        c.role,
        c.meta["file"],
        c.position,
        c.heading,
        " > ".join(c.section_path),
        c.text,
        json.dumps(c.meta, sort_keys=True),
    )


def _abspath(corpus_dir: Path, d: Document) -> str:
    return str((corpus_dir / d.file).resolve()) if not Path(d.file).is_absolute() else d.file


def _raise_load_errors(errors: list[str]) -> None:
    if errors:
        hint = "Nothing was changed; fix or remove the file(s) and run `tutor ingest` again."
        raise CorpusError("; ".join(errors), hint)


def _check_unique(ids: dict[str, str], d: Document) -> None:
    if d.id in ids:
        raise CorpusError(
            f"Two guides share the id '{d.id}': {ids[d.id]} and {d.file}.",
            "Give one of them a different `id:` in its front matter.",
        )
    ids[d.id] = d.file
