"""The index: vectors in Chroma, and the live generation of chunks in SQLite.

Chunk ids come from their content, so an unchanged chunk is never embedded twice. An ingest
embeds and upserts the new chunks first, then swaps the live set in one SQLite transaction,
and only then deletes orphaned vectors. Killed at any point, the previous live set is intact:
vectors that are not live are ignored by retrieval and reused or removed by the next ingest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import db as dbmod
from .chunking import Chunk, Deduper, chunk_document, dedupe
from .embedding import Embedder, make_embedder
from .errors import ConfigError, CorpusError, IndexNotReady
from .ingestion import Document, discover, load_document, validate_role_slug
from .settings import Settings
from .tokens import count_tokens, have_tiktoken

log = logging.getLogger(__name__)

# (total, desc=..., unit=...) -> a bar with update(n) and close(); the CLI passes tqdm
ProgressFactory = Callable[..., Any]


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

    def summary(self) -> str:
        return (
            f"{self.files} files, {self.chunks} chunks: {self.added} added, {self.unchanged} unchanged, "
            f"{self.removed} removed ({self.duplicates_dropped} duplicates dropped, "
            f"{self.embedded} embedded) in {self.seconds:.2f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _collection_name(base: str, embedder_name: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{base}-{embedder_name}").strip("-._")
    return name[:500]


_COLS = "id, guide, role, file, position, heading, section_path, text, meta"
# The section path is a column of its own in the FTS table as well as part of the body, so a
# heading that matches the question counts twice: the strongest lexical evidence a passage
# has. Weighing the column 1.5x or 2x more scored lower on the labelled questions.
BM25_PATH_WEIGHT = 1.0
# Bump when loading, cleaning or chunking would cut the same files differently: an unchanged
# re-ingest is recognised by file hashes and this signature, without chunking anything.
CHUNKER_VERSION = "2"


def _chunk_from_row(row: sqlite3.Row) -> Chunk:
    meta = json.loads(row["meta"])
    return Chunk(
        id=row["id"],
        text=row["text"],
        heading=row["heading"],
        section_path=tuple(row["section_path"].split(" > ")),
        position=row["position"],
        meta=meta,
    )


class Index:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        db: dbmod.Conn | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        if db is None:
            settings.ensure_home()
            db = dbmod.Database(settings.db_path)
        self.db = db
        self._client: Any = None
        self._collection: Any = None

    # --- lazily built pieces: `tutor progress` never loads Chroma or torch ------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def client(self) -> Any:
        if self._client is None:
            import chromadb

            chroma_settings = chromadb.Settings(anonymized_telemetry=False)
            url = self.settings.chroma_url
            if url:
                u = urlparse(url if "://" in url else f"http://{url}")
                if not u.hostname:
                    raise ConfigError(
                        f"TUTOR_CHROMA_URL '{url}' has no host.", "Use http://host:port."
                    )
                self._client = chromadb.HttpClient(
                    host=u.hostname,
                    port=u.port or (443 if u.scheme == "https" else 8000),
                    ssl=u.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                self._client = chromadb.PersistentClient(
                    path=str(self.settings.chroma_path), settings=chroma_settings
                )
        return self._client

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self.client.get_or_create_collection(
                _collection_name(self.settings.collection, self.embedder.name),
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": self.embedder.name},
            )
        return self._collection

    def close(self) -> None:
        self.db.close()

    # --- reading ---------------------------------------------------------------------------

    def live_chunks(self) -> list[Chunk]:
        """Every live chunk, read from SQLite: for whole-corpus work (the offline engine's
        statistics, eval reports). Searching and answering use the queries below instead."""
        rows = self.db.execute(f"select {_COLS} from chunks order by guide, position").fetchall()
        return [_chunk_from_row(r) for r in rows]

    def chunks(self, ids: Iterable[str]) -> dict[str, Chunk]:
        """The live chunks among ``ids`` (an interrupted ingest's vectors are not live)."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for r in self.db.execute(f"select {_COLS} from chunks where id in ({marks})", part):
                out[r["id"]] = _chunk_from_row(r)
        return out

    def section(self, guide: str, section_path: Sequence[str] | str) -> list[Chunk]:
        """A section's chunks in order: what one search result stands for."""
        path = section_path if isinstance(section_path, str) else " > ".join(section_path)
        rows = self.db.execute(
            f"select {_COLS} from chunks where guide = ? and section_path = ? order by position",
            (guide, path),
        )
        return [_chunk_from_row(r) for r in rows]

    def under_heading(self, guide: str, heading: str) -> list[Chunk]:
        """A guide's chunks whose nearest heading is ``heading``, in order (roadmap phases name
        their guide section by heading)."""
        rows = self.db.execute(
            f"select {_COLS} from chunks where guide = ? and heading = ? order by position",
            (guide, heading),
        )
        return [_chunk_from_row(r) for r in rows]

    def aliases(self) -> dict[str, str]:
        """Acronyms of role titles that the role's own guides use ("csm" -> "customer success
        manager"), found at ingest. Learners write the acronym; the embedder knows the words."""
        return json.loads(self._state("aliases") or "{}")

    def lexical_query(self, terms: Sequence[str], n: int, role: str | None) -> list[str]:
        """Chunk ids by BM25 (SQLite FTS5), best first; any term may match."""
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms))
        sql = (
            "select c.id from chunk_fts join chunks c on c.rowid = chunk_fts.rowid "
            f"where chunk_fts match ? {'and c.role = ?' if role else ''} "
            f"order by bm25(chunk_fts, {BM25_PATH_WEIGHT}, 1.0), c.id limit ?"
        )
        params: tuple[Any, ...] = (match, role, n) if role else (match, n)
        return [r[0] for r in self.db.execute(sql, params)]

    def generation(self) -> str:
        row = self.db.execute("select value from index_state where key = 'generation'").fetchone()
        return row[0] if row else ""

    def roles(self) -> dict[str, str]:
        rows = self.db.execute(
            "select role, meta from chunks group by role order by role"
        ).fetchall()
        return {r["role"]: json.loads(r["meta"]).get("role_title", r["role"]) for r in rows}

    def guides(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "select guide, meta, count(*) n from chunks group by guide order by guide"
        ).fetchall()
        return [{**json.loads(r["meta"]), "chunks": r["n"]} for r in rows]

    def require_ready(self) -> None:
        if not self.db.execute("select 1 from chunks limit 1").fetchone():
            raise IndexNotReady()

    def dense_query(
        self, vector: Sequence[float], n: int, role: str | None
    ) -> list[tuple[str, float]]:
        count = self.collection.count()
        if count == 0:
            return []
        res = self.collection.query(
            query_embeddings=[list(vector)],
            n_results=min(n, count),
            where={"role": role} if role else None,
            include=["distances"],
        )
        return list(zip(res["ids"][0], res["distances"][0], strict=True))

    # --- writing ---------------------------------------------------------------------------

    def _sources(self, paths: Iterable[Path], role: str | None) -> list[tuple[Path, str | None]]:
        """The corpus directory, every file ingested by path before, and the new paths."""
        out: dict[Path, str | None] = {}
        for p in discover(self.settings.corpus_dir):
            out[p.resolve()] = None
        corpus_root = self.settings.corpus_dir.resolve()
        for r in self.db.execute("select path, role_override from files"):
            p = Path(r["path"])
            if not p.is_relative_to(corpus_root):
                out[p] = r["role_override"]
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
        for path, override in sources:
            if not path.exists() and path not in explicit:
                vanished.append(str(path))  # a file ingested by path and since deleted
                continue
            for sub in discover(path) if path.is_dir() else [path]:
                try:
                    yield load_document(sub, self.settings.corpus_dir, override)
                except CorpusError as exc:
                    errors.append(str(exc))

    def load(
        self, paths: Iterable[Path] = (), role: str | None = None
    ) -> tuple[list[Document], list[str]]:
        """Read every source; report every bad file at once, before anything is written."""
        paths = list(paths)
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
        emb = self.embedder
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
        return min(self.settings.chunk_tokens, self.embedder.max_tokens)

    def chunk(self, docs: list[Document]) -> tuple[list[Chunk], int]:
        count, limit = self._counter(), self._limit()
        chunks: list[Chunk] = []
        for d in docs:
            chunks.extend(chunk_document(d, limit, count))
        return dedupe(chunks)

    def _signature(self) -> str:
        """What, besides the files, decides the live set and where its vectors are."""
        where = self.settings.chroma_url or str(self.settings.chroma_path)
        return json.dumps(
            [
                CHUNKER_VERSION,
                self.embedder.name,
                self._limit(),
                have_tiktoken(),
                where,
                self.settings.collection,
            ]
        )

    def _state(self, key: str) -> str | None:
        row = self.db.execute("select value from index_state where key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _unchanged(
        self, sources: list[tuple[Path, str | None]], explicit: set[Path], role: str | None
    ) -> IngestReport | None:
        """The report of an ingest that would change nothing, or None if something changed.

        Every file hashed and none chunked: an unchanged re-ingest at 3,000 chunks took longer
        to re-chunk and de-duplicate than the 2 s it may cost.
        """
        if self._state("signature") != self._signature():
            return None
        stored = {
            r["path"]: (r["sha256"], r["role_override"])
            for r in self.db.execute("select path, sha256, role_override from files")
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
        live = self.db.execute("select count(*) from chunks").fetchone()[0]
        if seen != len(stored) or self.collection.count() < live:  # a new Chroma, say
            return None
        return IngestReport(
            files=seen,
            chunks=live,
            unchanged=live,
            duplicates_dropped=int(self._state("duplicates_dropped") or 0),
        )

    def ingest(
        self,
        paths: Iterable[Path] = (),
        role: str | None = None,
        progress: ProgressFactory | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        paths = list(paths)
        self._check_paths(paths, role)
        sources = self._sources(paths, role)
        explicit = {p.resolve() for p in paths}
        report = self._unchanged(sources, explicit, role)
        if report is None:
            report = self._ingest(sources, explicit, paths, role, progress)
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
        db = self.db
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
            self.db.executemany(
                "insert into temp.stage values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [(*_row(c), seq + i) for i, c in enumerate(chunks)],
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
        db = self.db
        # Which vectors exist already, in the collection of *this* embedder.
        existing = set(self.collection.get(include=[])["ids"])
        staged = [r[0] for r in db.execute("select id from temp.stage order by seq")]
        # shortest first: a batch of similar lengths pads less (sentence-transformers sorts too)
        todo = [
            r[0]
            for r in db.execute("select id from temp.stage order by length(text), seq")
            if r[0] not in existing
        ]
        batch = max(1, min(int(self.client.get_max_batch_size()), _embed_batch(self.embedder)))
        embedded_before = getattr(self.embedder, "embed_calls", 0)
        if todo:
            self._load_model(progress)
        bar = progress(len(todo), desc="Embedding", unit="chunk") if (progress and todo) else None
        try:
            for i in range(0, len(todo), batch):
                part = list(self.chunks_staged(todo[i : i + batch]))
                vectors = self.embedder.embed_documents([c.embed_text for c in part])
                self.collection.upsert(
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
        report.embedded = getattr(self.embedder, "embed_calls", 0) - embedded_before

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
            db.execute(f"insert into chunks select {_COLS} from temp.stage where new order by seq")
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
                abspath = _abspath(self.settings.corpus_dir, d)
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
        kept = {_abspath(self.settings.corpus_dir, d) for d, _ in files}
        report.removed_files = sorted(set(old_files) - kept | set(report.removed_files))

        # Only now drop vectors no generation uses; a crash here leaves harmless orphans.
        orphans = sorted(existing - set(staged))
        for i in range(0, len(orphans), batch):
            self.collection.delete(ids=orphans[i : i + batch])
        return report

    def chunks_staged(self, ids: list[str]) -> Iterator[Chunk]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"select {_COLS} from temp.stage where id in ({marks})", ids)
        by_id = {r["id"]: _chunk_from_row(r) for r in rows}
        return (by_id[i] for i in ids)

    def _load_model(self, progress: ProgressFactory | None) -> None:
        """Loading the model is its own step: the embedding bar used to sit at 0% through it."""
        load = getattr(self.embedder, "load", None)
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


def _row(c: Chunk) -> tuple[Any, ...]:
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
