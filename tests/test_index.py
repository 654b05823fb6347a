"""Incremental ingest against real Chroma and SQLite, on private copies of the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import json_out, run_cli

from tutor.errors import CorpusError, NotFound
from tutor.tutor import Tutor

CSM = "customer-success-manager"
GTM = "csm-gtm-career-path"
CAREER = "csm-career-guide-2026"

QUERIES = [
    ("csm salary in india", CSM),
    ("what are the phases of the csm roadmap", CSM),
    ("how many hours a week should I study", None),
]


@pytest.fixture
def two_guides(copy_corpus: Path) -> Path:
    """The two Customer Success Manager guides only: half the embedding work."""
    (copy_corpus / "guides" / "customer-support-manager-jobicy.md").unlink()
    return copy_corpus


@pytest.fixture
def gtm_only(two_guides: Path) -> Path:
    """The smallest guide alone (17 chunks), where one guide is enough."""
    (two_guides / "guides" / "csm-career-guide-2026.md").unlink()
    return two_guides


def live_ids(t: Tutor) -> set[str]:
    return {c.id for c in t.index.live_chunks()}


def vector_ids(t: Tutor) -> set[str]:
    return set(t.index.collection.get(include=[])["ids"])


def results(t: Tutor) -> list[list[tuple[str, float]]]:
    return [[(h.chunk.id, h.score) for h in t.search(q, role=r, k=5)] for q, r in QUERIES]


def test_first_ingest_embeds_all_and_an_unchanged_reingest_embeds_nothing(
    make_tutor, copy_corpus: Path, embedder
) -> None:
    t = make_tutor(corpus=copy_corpus)
    calls = embedder.embed_calls
    first = t.ingest()
    assert first.files == 3
    assert first.chunks == first.added == first.embedded > 50
    assert (first.unchanged, first.removed, first.duplicates_dropped) == (0, 0, 0)
    assert embedder.embed_calls - calls == first.chunks
    assert sorted(first.changed_files) == [
        "guides/csm-career-guide-2026.md",
        "guides/csm-gtm-career-path.md",
        "guides/customer-support-manager-jobicy.md",
    ]
    ids = live_ids(t)
    assert len(ids) == first.chunks
    assert vector_ids(t) == ids
    # what Chroma holds is filterable by the chunk's metadata
    got = t.index.collection.get(where={"guide": GTM}, include=["metadatas"])
    assert got["ids"] and all(m["section_path"] and m["role"] == CSM for m in got["metadatas"])

    calls = embedder.embed_calls
    again = t.ingest()
    assert again.embedded == 0
    assert embedder.embed_calls == calls
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.chunks)
    assert again.changed_files == [] and again.removed_files == []
    assert again.seconds < 2.0
    assert live_ids(t) == ids

    # the summary a maintainer reads, and the same as JSON
    assert set(again.to_dict()) >= {
        "files",
        "chunks",
        "added",
        "unchanged",
        "removed",
        "duplicates_dropped",
        "embedded",
        "seconds",
        "changed_files",
        "removed_files",
    }
    assert first.seconds > 0 and isinstance(again.to_dict()["seconds"], float)
    text = again.summary()
    assert f"3 files, {first.chunks} chunks: 0 added, {first.chunks} unchanged, 0 removed" in text
    assert "0 embedded" in text

    # a new process (new SQLite connection, new Chroma client) on the same home also embeds nothing
    other = make_tutor(corpus=copy_corpus, home=t.settings.home)
    assert other.ingest().embedded == 0
    assert embedder.embed_calls == calls


def test_editing_one_file_reembeds_only_its_changed_chunks(
    make_tutor, two_guides: Path, embedder
) -> None:
    t = make_tutor(corpus=two_guides)
    t.ingest()
    before = {c.id: c for c in t.index.live_chunks()}
    gtm_chunks = [c for c in before.values() if c.guide == GTM]

    path = two_guides / "guides" / "csm-gtm-career-path.md"
    old = "gives no separate entry-level or senior US pay numbers"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, "gives no entry-level or senior US pay figures"), "utf-8")

    calls = embedder.embed_calls
    report = t.ingest()
    after = {c.id: c for c in t.index.live_chunks()}
    new, gone = set(after) - set(before), set(before) - set(after)
    assert report.embedded == len(new) == embedder.embed_calls - calls
    assert 1 <= len(new) < len(gtm_chunks)
    assert {after[i].heading for i in new} == {"Pay in the United States"}
    assert {before[i].heading for i in gone} == {"Pay in the United States"}
    assert report.changed_files == ["guides/csm-gtm-career-path.md"]
    assert (report.added, report.removed) == (len(new), len(gone))
    assert report.unchanged == len(before) - len(gone)
    # the other guide did not move at all
    assert {i for i, c in before.items() if c.guide == CAREER} == {
        i for i, c in after.items() if c.guide == CAREER
    }
    assert vector_ids(t) == set(after)
    hit = t.search("no entry-level or senior US pay figures", role=CSM, k=1)[0]
    assert hit.chunk.id in new


def test_deleting_a_file_removes_its_chunks_from_sqlite_and_chroma(
    make_tutor, two_guides: Path
) -> None:
    t = make_tutor(corpus=two_guides)
    t.ingest()
    career = [c.id for c in t.index.live_chunks() if c.guide == CAREER]
    assert career

    path = two_guides / "guides" / "csm-career-guide-2026.md"
    path.unlink()
    report = t.ingest()
    assert report.embedded == 0
    assert report.removed == len(career)
    assert report.files == 1
    assert [Path(f).name for f in report.removed_files] == ["csm-career-guide-2026.md"]

    assert not [c for c in t.index.live_chunks() if c.guide == CAREER]
    assert t.index.collection.get(where={"guide": CAREER}, include=[])["ids"] == []
    assert t.index.collection.get(ids=career, include=[])["ids"] == []
    assert vector_ids(t) == live_ids(t)
    assert {g["guide"] for g in t.index.guides()} == {GTM}
    hits = t.search("how much does a CSM make in germany?", k=5)
    assert hits and {h.chunk.guide for h in hits} == {GTM}


GUIDE_TXT = """How to Become a Data Analyst in 2026

Data analysts turn messy tables into answers a team can act on the same week.

What the work looks like

- Write SQL to pull the numbers behind a product question.
- Build a small dashboard and explain what changed since last month.

Salary

In our made-up example city a junior data analyst earns about 48,000 a year.
"""


def test_a_txt_file_without_front_matter_is_picked_up_with_its_role_inferred(
    make_tutor, gtm_only: Path, embedder
) -> None:
    t = make_tutor(corpus=gtm_only)
    first = t.ingest()
    (gtm_only / "guides" / "data-analyst.txt").write_text(GUIDE_TXT, encoding="utf-8")

    calls = embedder.embed_calls
    report = t.ingest()
    assert report.files == 2
    assert report.changed_files == ["guides/data-analyst.txt"]
    assert report.embedded == report.added == embedder.embed_calls - calls > 0
    assert report.unchanged == first.chunks
    assert t.index.roles()["data-analyst"] == "Data Analyst"
    hits = t.search("junior data analyst salary", role="data-analyst", k=3)
    assert hits and all(h.chunk.guide == "data-analyst" for h in hits)
    assert "48,000" in hits[0].chunk.text


GUIDE_HTML = """<html><head><title>Team notes</title></head><body>
<nav>Home - Blog - Contact</nav>
<h1>Team notes</h1>
<h2>Research methods</h2>
<p>Usability tests with five participants find most of the problems in a flow.</p>
<h2>Career steps</h2>
<p>Junior researchers run sessions; senior researchers choose which questions matter.</p>
</body></html>"""


def test_an_html_file_outside_the_corpus_takes_the_role_it_is_given(
    make_tutor, gtm_only: Path, tmp_path: Path
) -> None:
    t = make_tutor(corpus=gtm_only)
    t.ingest()
    page = tmp_path / "elsewhere" / "team-notes.html"
    page.parent.mkdir()
    page.write_text(GUIDE_HTML, encoding="utf-8")
    ids, gen = live_ids(t), t.index.generation()

    with pytest.raises(CorpusError) as err:
        t.ingest([page])  # "Team notes" names no role
    assert "team-notes.html" in err.value.message and "--role" in err.value.message
    assert (live_ids(t), t.index.generation()) == (ids, gen)

    report = t.ingest([page], role="ux-researcher")
    assert report.files == 2 and report.embedded == report.added > 0
    assert t.index.roles()["ux-researcher"] == "Ux Researcher"
    hits = t.search("how many participants in a usability test", role="ux-researcher", k=2)
    assert hits[0].chunk.heading == "Research methods"
    assert "Blog" not in " ".join(h.chunk.text for h in hits)

    # a later plain `ingest` remembers the file and its role, and embeds nothing
    again = t.ingest()
    assert (again.files, again.embedded, again.removed) == (2, 0, 0)
    assert "ux-researcher" in t.index.roles()

    # and once the file is gone, so are its chunks
    page.unlink()
    gone = t.ingest()
    assert gone.removed == report.added and gone.files == 1
    assert "ux-researcher" not in t.index.roles()
    with pytest.raises(NotFound):
        t.search("usability tests", role="ux-researcher")


@pytest.mark.parametrize("crash_in", ["embed_documents", "upsert"])
def test_a_crash_mid_ingest_leaves_the_previous_live_set_intact(
    make_tutor, gtm_only: Path, embedder, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    t = make_tutor(corpus=gtm_only)
    t.ingest()
    ids, gen, vectors = live_ids(t), t.index.generation(), vector_ids(t)
    before = results(t)

    # an edit that changes every chunk of one guide: many batches of new vectors
    path = gtm_only / "guides" / "csm-gtm-career-path.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("GTM career path page", "go-to-market careers page"), "utf-8")
    wanted = {c.id for c in t.index.chunk(t.index.load()[0])[0]}
    new = wanted - ids
    assert len(new) > 16

    batch = 8
    monkeypatch.setattr(t.index.client, "get_max_batch_size", lambda: batch)
    target = embedder if crash_in == "embed_documents" else t.index.collection
    real = getattr(target, crash_in)
    calls = []

    def crash_after_first_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("simulated crash: the process died mid-ingest")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, crash_in, crash_after_first_batch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        t.ingest()

    # the live set and its generation are exactly as before; only the first batch's vectors
    # landed in Chroma, as orphans that retrieval ignores
    assert live_ids(t) == ids and t.index.generation() == gen
    orphans = vector_ids(t) - vectors
    assert len(orphans) == batch and orphans <= new
    assert results(t) == before
    fresh = make_tutor(corpus=gtm_only, home=t.settings.home)
    assert results(fresh) == before
    assert not {h.chunk.id for h in fresh.search("go-to-market careers page", k=10)} & orphans

    monkeypatch.undo()
    calls_before = embedder.embed_calls
    report = t.ingest()
    assert report.added == len(new)
    assert report.embedded == len(new) - batch == embedder.embed_calls - calls_before
    assert live_ids(t) == wanted
    assert vector_ids(t) == wanted  # old vectors of the edited guide are gone too
    assert "go-to-market careers page" in t.search("go-to-market careers page", k=1)[0].chunk.text


def test_cli_ingest_and_search_end_to_end(
    monkeypatch: pytest.MonkeyPatch, embedder, gtm_only: Path, tmp_path: Path
) -> None:
    home = tmp_path / "cli-home"

    r = run_cli(monkeypatch, embedder, home, gtm_only, "ingest", "--json")
    assert r.exit_code == 0, r.output
    summary = json_out(r)
    assert summary["files"] == 1 and summary["embedded"] == summary["chunks"] > 0

    r = run_cli(monkeypatch, embedder, home, gtm_only, "ingest")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Ingested 1 files") and "0 embedded" in r.stdout

    r = run_cli(
        monkeypatch,
        embedder,
        home,
        gtm_only,
        "search",
        "csm salary in india in lakhs",
        "--role",
        CSM,
        "-k",
        "3",
        "--json",
    )
    assert r.exit_code == 0, r.output
    hits = json_out(r)
    assert len(hits) == 3
    for h in hits:
        assert {"id", "guide", "role", "heading", "text", "score"} <= set(h)
        assert h["role"] == CSM and h["text"] and len(h["id"]) == 32
    assert hits[0]["heading"] == "Pay in India"
    assert hits[0]["guide"] == GTM
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    r = run_cli(monkeypatch, embedder, home, gtm_only, "search", "pay in india")
    assert r.exit_code == 0 and "Pay in India" in r.stdout
    assert json.dumps(summary)  # the summary was plain JSON, not a repr


# --- BM25 in SQLite, cheap queries, the unchanged fast path, progress ---------------------------


def fts_rows(t: Tutor) -> set[tuple[int, str]]:
    return {
        (r[0], r[1])
        for r in t.index.db.execute(
            "select c.rowid, c.id from chunk_fts f join chunks c on c.rowid = f.rowid"
        )
    }


def assert_fts_matches_chunks(t: Tutor) -> None:
    n_fts = t.index.db.execute("select count(*) from chunk_fts").fetchone()[0]
    assert n_fts == len(fts_rows(t)) == len(live_ids(t))
    assert {cid for _, cid in fts_rows(t)} == live_ids(t)


def test_bm25_rows_follow_every_ingest_and_survive_a_crash_in_the_swap(
    make_tutor, gtm_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_tutor(corpus=gtm_only)
    t.ingest()
    assert_fts_matches_chunks(t)
    rows, ids = fts_rows(t), live_ids(t)

    path = gtm_only / "guides" / "csm-gtm-career-path.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("GTM career path page", "go-to-market careers page"), "utf-8")

    # killed inside the swap transaction, after the chunk rows changed: all of it rolls back
    import tutor.ingest as ingest_module

    def crash() -> str:
        raise RuntimeError("simulated crash inside the swap")

    monkeypatch.setattr(ingest_module, "_now", crash)
    with pytest.raises(RuntimeError, match="inside the swap"):
        t.ingest()
    assert fts_rows(t) == rows and live_ids(t) == ids
    assert t.search("GTM career path page", mode="bm25", k=1)

    monkeypatch.undo()
    report = t.ingest()
    assert report.added > 0 and report.removed > 0
    assert_fts_matches_chunks(t)
    hit = t.search("go-to-market careers page", mode="bm25", k=1)[0]
    assert "go-to-market careers page" in hit.chunk.text


def test_search_and_answers_never_load_every_chunk(
    shipped: Tutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up, search and answers must not grow with the corpus: nothing reads every chunk."""
    from tutor.retrieval import Retriever

    fresh = Tutor(shipped.settings, index=shipped.index)

    def forbidden() -> list[object]:
        raise AssertionError("read every live chunk")

    monkeypatch.setattr(shipped.index, "live_chunks", forbidden)
    r = Retriever(shipped.index)
    r.refresh()
    assert r.roles() == shipped.index.roles()
    assert r.search("how much does a CSM earn in Germany", k=3)
    assert fresh.roles() and fresh.search("QBR", k=2)
    assert fresh.ask("How long does it take to become a CSM?").citations
    learner = fresh.ensure_learner("no-full-scan")
    assert fresh.next_steps(learner, CSM).citations


def test_index_reads_a_section_and_chunks_by_id(shipped: Tutor) -> None:
    every = shipped.index.live_chunks()
    split = next(
        c
        for c in every
        if sum(1 for o in every if (o.guide, o.section_path) == (c.guide, c.section_path)) > 1
    )
    parts = shipped.index.section(split.guide, split.section_path)
    assert parts == [
        c for c in every if (c.guide, c.section_path) == (split.guide, split.section_path)
    ]
    assert [p.position for p in parts] == sorted(p.position for p in parts)
    got = shipped.index.chunks([parts[0].id, "not-a-live-id", parts[-1].id])
    assert set(got) == {parts[0].id, parts[-1].id} and got[parts[0].id] == parts[0]


def test_an_unchanged_reingest_chunks_nothing_but_a_new_vector_store_does(
    make_tutor, gtm_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_tutor(corpus=gtm_only)
    first = t.ingest()
    gen = t.index.generation()

    import tutor.ingest as ingest_module

    def no_chunking(*args: object, **kwargs: object) -> None:
        raise AssertionError("re-chunked an unchanged corpus")

    monkeypatch.setattr(ingest_module, "chunk_document", no_chunking)
    again = t.ingest()
    assert (again.files, again.chunks, again.unchanged, again.embedded) == (
        first.files,
        first.chunks,
        first.chunks,
        0,
    )
    assert t.index.generation() == gen  # nothing changed: no process reloads anything
    monkeypatch.undo()

    # the same SQLite manifest over an empty vector store (a new TUTOR_CHROMA_URL, a deleted
    # chroma/): not "unchanged", every chunk is embedded again
    moved = make_tutor(corpus=gtm_only, home=t.settings.home)
    moved.settings.collection = "another-collection"
    report = moved.ingest()
    assert report.embedded == first.chunks and report.unchanged == first.chunks


def test_ingest_shows_the_model_load_then_advances_per_batch(
    make_tutor, gtm_only: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedder, "batch_size", 8)  # 17 chunks: three steps
    events: list[tuple[str, object]] = []

    class Bar:
        def __init__(self, total: int, desc: str = "", unit: str = "") -> None:
            events.append(("open", (desc, total)))

        def update(self, n: int) -> None:
            events.append(("update", n))

        def close(self) -> None:
            events.append(("close", None))

    t = make_tutor(corpus=gtm_only)
    report = t.ingest(progress=Bar)
    opened = [e for kind, e in events if kind == "open"]
    assert opened == [("Loading the embedding model", 1), ("Embedding", report.embedded)]
    steps = [n for kind, n in events if kind == "update"]
    assert steps[0] == 1 and sum(steps[1:]) == report.embedded
    assert steps[1:] == [8, 8, report.embedded - 16]


def test_the_bm25_migration_indexes_the_chunks_of_an_existing_database(tmp_path: Path) -> None:
    """A database from before chunk_fts gets its live chunks indexed when it is next opened."""
    import sqlite3

    from tutor import db as dbmod
    from tutor.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("create table _migrations (name text primary key, applied_at text)")
    for name, fn in MIGRATIONS[:3]:
        fn(old)
        old.execute("insert into _migrations values (?, 'then')", (name,))
    meta = json.dumps({"title": "Old guide", "role_title": "Test Role"})
    old.execute(
        "insert into chunks values ('c1', 'old', 'test-role', 'old.md', 0, 'Renewals', "
        "'Renewals', 'Quarterly business reviews keep renewals on track.', ?)",
        (meta,),
    )
    old.commit()
    old.close()

    conn = dbmod.connect(path)
    assert conn.execute("select count(*) from chunk_fts").fetchone()[0] == 1
    hit = conn.execute(
        "select c.id from chunk_fts join chunks c on c.rowid = chunk_fts.rowid "
        "where chunk_fts match 'review'"  # stemmed: "reviews" in the text
    ).fetchall()
    assert [r[0] for r in hit] == ["c1"]
    conn.close()
