"""The index: vectors in Chroma, and the live generation of chunks (and their BM25 index) in
SQLite, with the cheap queries retrieval and the tutor need. Writing it is tutor/ingest.py.

Chunk ids come from their content, so an unchanged chunk is never embedded twice. Retrieval
reads only the live set: vectors of an interrupted ingest are ignored until the next one
reuses or removes them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import db as dbmod
from .chunking import Chunk
from .embedding import Embedder, make_embedder
from .errors import ConfigError, IndexNotReady
from .ingest import COLS as _COLS
from .ingest import Ingest, IngestReport, ProgressFactory
from .ingest import chunk_from_row as _chunk_from_row
from .ingestion import Document
from .settings import Settings

__all__ = ["Index", "IngestReport", "ProgressFactory"]

log = logging.getLogger(__name__)


def _collection_name(base: str, embedder_name: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{base}-{embedder_name}").strip("-._")
    return name[:500]


# The section path is a column of its own in the FTS table as well as part of the body, so a
# heading that matches the question counts twice: the strongest lexical evidence a passage
# has. Weighing the column 1.5x or 2x more scored lower on the labelled questions.
BM25_PATH_WEIGHT = 1.0
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"  # as in migration m004
MAX_MATCHES = 5000  # a query word in more chunks than this selects no candidates


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
        self._count, self._count_at = 0, "-"

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
    def collection_open(self) -> bool:
        return self._collection is not None

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

    def find_section(self, guide: str, path: Sequence[str]) -> list[Chunk]:
        """A section named as a profile cites it: the full heading path, or its last heading
        alone (headings are unique within a guide), in any case."""
        full = " > ".join(path)
        rows = self.db.execute(
            f"select {_COLS} from chunks where guide = ? and (section_path = ? collate nocase "
            "or heading = ? collate nocase) order by position",
            (guide, full, path[-1]),
        ).fetchall()
        chunks = [_chunk_from_row(r) for r in rows]
        exact = [c for c in chunks if " > ".join(c.section_path).casefold() == full.casefold()]
        if exact or len(path) > 1:
            return exact
        first = chunks[0].section_path if chunks else None
        return [c for c in chunks if c.section_path == first]

    def under_heading(self, guide: str, heading: str) -> list[Chunk]:
        """A guide's chunks whose nearest heading is ``heading``, in order (roadmap phases name
        their guide section by heading)."""
        rows = self.db.execute(
            f"select {_COLS} from chunks where guide = ? and heading = ? order by position",
            (guide, heading),
        )
        return [_chunk_from_row(r) for r in rows]

    def before(self, chunk: Chunk, n: int) -> list[Chunk]:
        """The ``n`` chunks just before one in its guide, nearest first: a label over a figure
        ("Senior-Level" / "$102,500") is read under the heading above it."""
        rows = self.db.execute(
            f"select {_COLS} from chunks where guide = ? and position < ? "
            "order by position desc limit ?",
            (chunk.guide, chunk.position, n),
        )
        return [_chunk_from_row(r) for r in rows]

    def aliases(self) -> dict[str, str]:
        """Acronyms of role titles that the role's own guides use ("csm" -> "customer success
        manager"), found at ingest. Learners write the acronym; the embedder knows the words."""
        return json.loads(self.state("aliases") or "{}")

    def lexical_query(self, terms: Sequence[str], n: int, role: str | None) -> list[str]:
        """Chunk ids by BM25 (SQLite FTS5), best first, matched on the selective words; on
        every word only when those match nothing (a role whose guides lack the rare words)."""
        words = list(dict.fromkeys(terms))
        if not words:
            return []
        selective = self._selective(words)
        ids = self._bm25(selective, n, role)
        if not ids and len(selective) < len(words):
            ids = self._bm25(words, n, role)
        return ids

    def _bm25(self, words: list[str], n: int, role: str | None) -> list[str]:
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in words)
        sql = (
            "select c.id from chunk_fts join chunks c on c.rowid = chunk_fts.rowid "
            f"where chunk_fts match ? {'and c.role = ?' if role else ''} "
            f"order by bm25(chunk_fts, {BM25_PATH_WEIGHT}, 1.0), c.id limit ?"
        )
        params: tuple[Any, ...] = (match, role, n) if role else (match, n)
        return [r[0] for r in self.db.execute(sql, params)]

    def _selective(self, words: list[str]) -> list[str]:
        """The words worth matching: not those in more than MAX_MATCHES chunks, which make
        FTS5 rank most of a large index (90 ms a query at 50,000 chunks, 12 ms without them)
        while BM25 weighs them little. The rarest word stays when all are that common.
        Document frequencies are read from FTS5's own vocabulary, for each word's Porter stem
        as FTS5 makes it.

        Only the cost decides: dropping words in over half the chunks of the small shipped
        index raised MRR on the labelled questions (0.843 -> 0.853) but cost the eval suite
        two follow-ups, whose gold sections had only common words to offer BM25 and then
        lost the fusion to chunks found by both searches.
        """
        db = self.db
        top = db.execute("select max(rowid) from chunks").fetchone()[0] or 0
        if not words or top <= MAX_MATCHES:  # rowids only grow: no word can be that common
            return words
        db.execute(
            "create virtual table if not exists temp.query_words using fts5("
            f"w, tokenize = '{FTS_TOKENIZER}')"
        )
        db.execute(
            "create virtual table if not exists temp.query_stems "
            "using fts5vocab('temp', 'query_words', 'instance')"
        )
        db.execute("delete from temp.query_words")
        db.executemany(
            "insert into temp.query_words(rowid, w) values (?, ?)", list(enumerate(words))
        )
        stem = {words[d]: t for d, t in db.execute("select doc, term from temp.query_stems")}
        stems = sorted(set(stem.values()))
        marks = ",".join("?" * len(stems))
        df = dict(db.execute(f"select term, doc from chunk_vocab where term in ({marks})", stems))
        freq = {w: df.get(stem.get(w, ""), 0) for w in words}
        if max(freq.values()) <= MAX_MATCHES:
            return words
        keep = [w for w in words if freq[w] <= MAX_MATCHES]
        return keep or sorted(words, key=lambda w: freq[w])[:1]

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
        count = self._vector_count()
        if count == 0:
            return []
        res = self.collection.query(
            query_embeddings=[list(vector)],
            n_results=min(n, count),
            where={"role": role} if role else None,
            include=["distances"],
        )
        return list(zip(res["ids"][0], res["distances"][0], strict=True))

    def _vector_count(self) -> int:
        """Chroma's count, once per index generation: asking it costs 1.2 ms, a sixth of a warm
        answer. Only an ingest changes it, and an ingest changes the generation."""
        gen = self.generation()
        if self._count_at != gen:
            self._count, self._count_at = self.collection.count(), gen
        return self._count

    # --- writing: tutor/ingest.py ----------------------------------------------------------

    def load(
        self, paths: Iterable[Path] = (), role: str | None = None
    ) -> tuple[list[Document], list[str]]:
        """Read every source; report every bad file at once, before anything is written."""
        return Ingest(self).load(list(paths), role)

    def chunk(self, docs: list[Document]) -> tuple[list[Chunk], int]:
        return Ingest(self).chunk(docs)

    def ingest(
        self,
        paths: Iterable[Path] = (),
        role: str | None = None,
        progress: ProgressFactory | None = None,
    ) -> IngestReport:
        return Ingest(self).run(list(paths), role, progress)

    def state(self, key: str) -> str | None:
        row = self.db.execute("select value from index_state where key = ?", (key,)).fetchone()
        return row[0] if row else None
