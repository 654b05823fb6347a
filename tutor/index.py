"""The index: vectors in Chroma, and the live generation of chunks in SQLite.

Chunk ids come from their content, so an unchanged chunk is never embedded twice. An ingest
embeds and upserts the new chunks first, then swaps the live set in one SQLite transaction,
and only then deletes orphaned vectors. Killed at any point, the previous live set is intact:
vectors that are not live are ignored by retrieval and reused or removed by the next ingest.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import db as dbmod
from .chunking import Chunk, chunk_document, dedupe
from .embedding import Embedder, make_embedder
from .errors import ConfigError, CorpusError, IndexNotReady
from .ingestion import GUIDE_SUFFIXES, Document, discover, load_document, validate_role_slug
from .injection import detector, flag_chunks
from .settings import Settings
from .tokens import count_tokens, have_tiktoken

log = logging.getLogger(__name__)

ProgressFactory = Callable[[int], Any]  # total -> object with update(n) and close()


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


def _collection_name(base: str, embedder_name: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{base}-{embedder_name}").strip("-._")
    return name[:500]


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
        rows = self.db.execute("select * from chunks order by guide, position").fetchall()
        return [_chunk_from_row(r) for r in rows]

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

    def section(self, guide: str, path: tuple[str, ...]) -> list[Chunk]:
        """A guide section's chunks in order, by its heading path or just its last heading."""
        full = " > ".join(path)
        rows = self.db.execute(
            "select * from chunks where guide = ? and (section_path = ? collate nocase "
            "or heading = ? collate nocase) "
            "order by position",
            (guide, full, path[-1]),
        ).fetchall()
        chunks = [_chunk_from_row(r) for r in rows]
        exact = [c for c in chunks if " > ".join(c.section_path).casefold() == full.casefold()]
        if exact or len(path) > 1:
            return exact
        # a bare heading: the first section that has it (headings are unique within a guide)
        first = chunks[0].section_path if chunks else None
        return [c for c in chunks if c.section_path == first]

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

    def _sources(
        self, paths: Iterable[Path], role: str | None, skipped: list[str]
    ) -> list[tuple[Path, str | None]]:
        """The corpus directory, every file ingested by path before, and the new paths."""
        corpus_root = self.settings.corpus_dir.resolve()
        previous = {
            Path(r["path"]): r["role_override"]
            for r in self.db.execute("select path, role_override from files")
        }
        out: dict[Path, str | None] = {}
        for p in discover(self.settings.corpus_dir, skipped):
            real = p.resolve()
            # `tutor ingest corpus/guides/notes.txt --role x` once: later ingests keep the role
            out[real] = previous.get(real)
        for p, override in previous.items():
            if not p.is_relative_to(corpus_root):
                out[p] = override
        for p in paths:
            out[p.resolve()] = role
        return sorted(out.items())

    def load(
        self,
        paths: Iterable[Path] = (),
        role: str | None = None,
        skipped: list[str] | None = None,
    ) -> tuple[list[Document], list[str]]:
        """Read every source; report every bad file at once, before anything is written.

        Files that are passed over (a symlink out of the corpus, a PDF) are noted in
        ``skipped`` (the report's field); they do not stop the ingest.
        """
        if role is not None:
            validate_role_slug(role)
        notes: list[str] = [] if skipped is None else skipped
        paths = list(paths)
        for p in paths:
            if not p.exists() and not p.is_symlink():
                raise CorpusError(f"{p}: no such file.", "Check the path.")
        sources = self._sources(paths, role, notes)
        explicit = {p.resolve() for p in paths}
        docs: list[Document] = []
        errors: list[str] = []
        vanished: list[str] = []
        files = {p for p, _ in sources}
        for path, override in sources:
            if not path.exists() and path not in explicit:
                vanished.append(str(path))  # a file ingested by path and since deleted
                continue
            if path.is_dir():
                found = discover(path, notes)
                if not found:
                    errors.append(_no_guides_in(path, notes))
                for sub in found:
                    if sub.resolve() in files:  # `tutor ingest corpus/guides`: already here
                        continue
                    files.add(sub.resolve())
                    try:
                        docs.append(load_document(sub, self.settings.corpus_dir, override))
                    except CorpusError as exc:
                        errors.append(str(exc))
                continue
            try:
                docs.append(load_document(path, self.settings.corpus_dir, override))
            except CorpusError as exc:
                errors.append(str(exc))
        for note in notes:  # the report carries them; `tutor ingest` prints them as warnings
            if not any(note in e for e in errors):  # an error below names it already
                log.info("%s", note)
        if errors:
            hint = "Nothing was changed; fix or remove the file(s) and run `tutor ingest` again."
            raise CorpusError("; ".join(errors), hint)
        ids: dict[str, str] = {}
        for d in docs:
            if d.id in ids:
                raise CorpusError(
                    f"Two guides share the id '{d.id}': {ids[d.id]} and {d.file}.",
                    "Give one of them a different `id:` in its front matter.",
                )
            ids[d.id] = d.file
        return docs, vanished

    def chunk(self, docs: list[Document]) -> tuple[list[Chunk], int]:
        emb = self.embedder
        exact = have_tiktoken()

        def count(text: str) -> int:
            # tiktoken bounds the prompt budget, the embedder's own tokenizer its input: respect
            # both. Without tiktoken's files the chars/3.5 estimate must not move chunk
            # boundaries (the eval gate failed on a machine without ../shared): the embedder's
            # WordPiece count, always available, is the larger of the two for English anyway.
            n = emb.count_tokens(text)
            return max(count_tokens(text), n) if exact else n

        limit = min(self.settings.chunk_tokens, emb.max_tokens)
        chunks: list[Chunk] = []
        for d in docs:
            chunks.extend(chunk_document(d, limit, count))
        return dedupe(chunks)

    def ingest(
        self,
        paths: Iterable[Path] = (),
        role: str | None = None,
        progress: ProgressFactory | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        paths = list(paths)
        docs, vanished = self.load(paths, role, report.skipped)
        chunks, report.duplicates_dropped = self.chunk(docs)
        report.files, report.chunks = len(docs), len(chunks)
        report.flagged = flag_chunks(chunks, detector(self.settings.corpus_dir))

        # Which vectors exist already, in the collection of *this* embedder.
        existing = set(self.collection.get(include=[])["ids"])
        todo = [c for c in chunks if c.id not in existing]
        batch = max(1, min(int(self.client.get_max_batch_size()), 128))
        bar = progress(len(todo)) if (progress and todo) else None
        embedded_before = getattr(self.embedder, "embed_calls", 0)
        try:
            for i in range(0, len(todo), batch):
                part = todo[i : i + batch]
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

        live_before = {r[0] for r in self.db.execute("select id from chunks")}
        wanted = {c.id for c in chunks}
        report.added = len(wanted - live_before)
        report.unchanged = len(wanted & live_before)
        report.removed = len(live_before - wanted)

        overrides = {p.resolve(): role for p in paths}
        old_files = {
            r["path"]: r["sha256"] for r in self.db.execute("select path, sha256 from files")
        }
        per_file: dict[str, int] = {}
        for c in chunks:
            per_file[c.meta["file"]] = per_file.get(c.meta["file"], 0) + 1
        with dbmod.write(self.db):
            self.db.execute("delete from chunks")
            self.db.executemany(
                "insert into chunks values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
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
                    for c in chunks
                ],
            )
            prev_overrides = {
                r["path"]: r["role_override"] for r in self.db.execute("select * from files")
            }
            self.db.execute("delete from files")
            for d in docs:
                abspath = (
                    str((self.settings.corpus_dir / d.file).resolve())
                    if not Path(d.file).is_absolute()
                    else d.file
                )
                override = overrides.get(Path(abspath), prev_overrides.get(abspath))
                self.db.execute(
                    "insert into files values (?, ?, ?, ?, ?, ?)",
                    (abspath, d.sha256, d.id, override, per_file.get(d.file, 0), _now()),
                )
                if old_files.get(abspath) != d.sha256:
                    report.changed_files.append(d.file)
            self.db.execute(
                "insert or replace into index_state values ('generation', ?)",
                (str(time.time_ns()),),
            )
        report.removed_files = (
            sorted(
                set(old_files)
                - {
                    str((self.settings.corpus_dir / d.file).resolve())
                    if not Path(d.file).is_absolute()
                    else d.file
                    for d in docs
                }
            )
            + vanished
        )
        report.removed_files = sorted(set(report.removed_files))

        # Only now drop vectors no generation uses; a crash here leaves harmless orphans.
        orphans = sorted(existing - wanted)
        for i in range(0, len(orphans), batch):
            self.collection.delete(ids=orphans[i : i + batch])
        report.seconds = time.perf_counter() - started
        return report
