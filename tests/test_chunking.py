"""Chunking invariants, on the shipped guides and on awkward documents of our own.

hypothesis is not installed, so the invariants run over a parametrized grid of chunk sizes
and documents instead.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest
from conftest import make_settings

from tutor.chunking import Chunk, chunk_document, chunk_id, dedupe
from tutor.errors import CorpusError
from tutor.index import Index
from tutor.ingestion import Document, Section
from tutor.tokens import count_tokens, have_tiktoken

# 2000 is above MiniLM's 256: the embedder's limit must win. Below 96 tokens the shipped guides'
# longest heading paths leave no room for text (a CorpusError, tested below), so the smallest
# sizes run on our own awkward document only.
SIZES = [40, 64, 96, 128, 200, 2000]
SHIPPED_FROM = 96

LONG_URL = "https://tracker.example.com/click?u=" + "a1B2c3D4e5" * 90
FILLER = " ".join(f"item{i} keeps going without any full stop" for i in range(60))


def make_doc(
    doc_id: str, sections: list[tuple[list[str], str]], title: str = "Test guide"
) -> Document:
    return Document(
        id=doc_id,
        role="test-role",
        role_title="Test Role",
        title=title,
        source="tests",
        source_url=None,
        as_of="2026",
        file=f"{doc_id}.md",
        sha256="0" * 64,
        sections=[Section(list(p), t) for p, t in sections],
    )


AWKWARD = make_doc(
    "awkward",
    [
        (["Intro"], "A short opening paragraph.\n\nAnd a second one with a few more words."),
        (["Run-on"], FILLER + "\n\nThanks!"),
        (["Links"], f"See {LONG_URL} for the original and then carry on reading."),
        (
            ["Lists", "Deeply", "Nested", "Heading path"],
            "\n".join(f"- Bullet {i}: practise one interview question a day." for i in range(40)),
        ),
        (["Non-Latin"], "面试准备需要时间。" * 60 + " Übung macht den Meister. " * 20),
        (["Numbers"], " ".join(f"${i},000–${i + 5},000" for i in range(10, 200, 3))),
        (["Tiny"], "Just three words"),
    ],
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Index:
    ix = Index(make_settings(tmp_path_factory.mktemp("chunk-home")), embedder=embedder)
    yield ix
    ix.close()


@pytest.fixture(scope="module")
def shipped_docs(index: Index) -> list[Document]:
    docs, _ = index.load()
    assert len(docs) == 3
    return docs


def chunk_with(index: Index, docs: list[Document], size: int) -> list[Chunk]:
    index.settings.chunk_tokens = size
    try:
        chunks, _ = index.chunk(docs)
    finally:
        index.settings.chunk_tokens = 200
    return chunks


def docs_for(size: int, shipped_docs: list[Document]) -> list[Document]:
    return [*shipped_docs, AWKWARD] if size >= SHIPPED_FROM else [AWKWARD]


@pytest.mark.parametrize("size", SIZES)
def test_every_chunk_fits_both_tokenizers_and_the_model(
    index: Index, shipped_docs, embedder, size: int
) -> None:
    limit = min(size, embedder.max_tokens)
    docs = docs_for(size, shipped_docs)
    chunks = chunk_with(index, docs, size)
    assert {c.guide for c in chunks} == {d.id for d in docs}
    for c in chunks:
        by_tiktoken = count_tokens(c.embed_text)
        by_model = embedder.count_tokens(c.embed_text)
        if have_tiktoken():  # without its files count_tokens is an estimate, not a tiktoken count
            assert by_tiktoken <= limit, (c.breadcrumb, by_tiktoken)
        assert by_model <= limit, (c.breadcrumb, by_model)
        # the model would silently cut anything longer than its max_seq_length
        assert by_model <= embedder.max_tokens


@pytest.mark.parametrize("size", [40, 96, 200])
def test_section_path_is_in_metadata_and_opens_embed_text(
    index: Index, shipped_docs, size: int
) -> None:
    for c in chunk_with(index, docs_for(size, shipped_docs), size):
        meta = c.metadata()
        assert meta["section_path"] == " > ".join(c.section_path)
        assert meta["heading"] == c.heading == c.section_path[-1]
        assert meta["guide"] == c.guide and meta["role"] == c.role
        assert c.embed_text.startswith(" > ".join([c.title, *c.section_path]) + "\n\n")
        assert c.embed_text.endswith(c.text)
        # Chroma takes only flat scalar metadata
        assert all(isinstance(v, str | int | float | bool) for v in meta.values()), meta


def test_heading_paths_follow_the_markdown_headings(shipped_docs) -> None:
    doc = next(d for d in shipped_docs if d.id == "csm-career-guide-2026")
    paths = [tuple(s.path) for s in doc.sections]
    assert ("Pay in Germany and Europe",) in paths
    assert (
        "Career transitions into customer success",
        "Daria: customer support specialist to CSM in 6 months",
    ) in paths


def _nonspace(text: str) -> list[str]:
    return list(re.sub(r"\s+", "", text))


@pytest.mark.parametrize("size", SIZES)
def test_no_text_is_lost_and_order_is_kept(index: Index, shipped_docs, embedder, size: int) -> None:
    """Every character of every section lands, once and in order, in a chunk of that section."""
    limit = min(size, embedder.max_tokens)

    def count(text: str) -> int:
        return max(count_tokens(text), embedder.count_tokens(text))

    for doc in docs_for(size, shipped_docs):
        chunks = chunk_document(doc, limit, count)  # before de-duplication
        assert [c.position for c in chunks] == list(range(len(chunks)))
        expected = [
            (tuple(s.path) or (doc.title,), ch) for s in doc.sections for ch in _nonspace(s.text)
        ]
        got = [(c.section_path, ch) for c in chunks for ch in _nonspace(c.text)]
        assert got == expected, doc.id
        # and at word level for ordinary text: every word of a section is in one of its chunks
        for s in doc.sections:
            path = tuple(s.path) or (doc.title,)
            words = " ".join(c.text for c in chunks if c.section_path == path).split()
            if all(len(w) < 100 for w in s.text.split()):  # longer "words" are cut on purpose
                assert set(s.text.split()) <= set(words)


def test_a_one_word_tail_is_kept() -> None:
    """Greedy packing used to drop a last piece of fewer than three words."""
    doc = make_doc("tail", [(["Closing"], " ".join(f"w{i}" for i in range(33)) + "\n\nThanks!")])

    def count(text: str) -> int:
        return len(text.split()) + 2

    chunks = chunk_document(doc, 40, count)
    assert len(chunks) >= 2
    assert chunks[-1].text.endswith("Thanks!")
    assert " ".join(c.text for c in chunks).split() == doc.sections[0].text.split()


def test_an_overlong_single_token_is_cut_not_passed_through(embedder) -> None:
    doc = make_doc("url", [(["Links"], LONG_URL)])

    def count(text: str) -> int:
        return max(count_tokens(text), embedder.count_tokens(text))

    assert count(LONG_URL) > 64
    chunks = chunk_document(doc, 64, count)
    assert len(chunks) > 1
    assert all(count(c.embed_text) <= 64 for c in chunks)
    assert "".join(c.text for c in chunks) == LONG_URL


# --- ids -------------------------------------------------------------------------------------


def _words(text: str) -> int:
    return len(text.split())


SMALL = make_doc(
    "small",
    [
        (["Pay"], "A junior analyst earns about 50k in our example."),
        (["Skills"], "Spreadsheets, SQL and a clear written summary."),
        (["Skills", "Tools"], "Any notebook tool works for practice."),
    ],
    title="Analyst notes",
)


def test_chunk_ids_are_sha256_of_embed_text_and_stable_across_runs() -> None:
    chunks = chunk_document(SMALL, 64, _words)
    for c in chunks:
        assert (
            c.id == hashlib.sha256(c.embed_text.encode()).hexdigest()[:32] == chunk_id(c.embed_text)
        )
    # a golden value: Python's salted hash() would differ between interpreter runs, sha256 cannot
    assert (
        chunks[0].embed_text
        == "Analyst notes > Pay\n\nA junior analyst earns about 50k in our example."
    )
    assert chunks[0].id == "b19a3d3a02334b38700485a321fed301"
    assert [c.id for c in chunk_document(SMALL, 64, _words)] == [c.id for c in chunks]


def test_shipped_chunk_ids_are_the_same_on_a_second_run(index: Index, shipped_docs) -> None:
    first = [c.id for c in chunk_with(index, shipped_docs, 200)]
    docs_again, _ = index.load()
    assert [c.id for c in chunk_with(index, docs_again, 200)] == first
    assert len(set(first)) == len(first)


def test_ids_change_only_where_text_or_heading_changes() -> None:
    before = chunk_document(SMALL, 64, _words)
    edited = make_doc(
        "small",
        [
            (["Pay"], "A junior analyst earns about 55k in our example."),
            (["Skills"], "Spreadsheets, SQL and a clear written summary."),
            (["Skills", "Tooling"], "Any notebook tool works for practice."),
        ],
        title="Analyst notes",
    )
    after = chunk_document(edited, 64, _words)
    assert after[0].id != before[0].id  # text changed
    assert after[1].id == before[1].id  # untouched
    assert after[2].text == before[2].text and after[2].id != before[2].id  # heading changed


# --- duplicates ------------------------------------------------------------------------------

PARAGRAPH = (
    "Before a renewal call, reread the notes from the last review and list every open request. "
    "Check product usage for the past quarter and mark the features nobody touched. "
    "Prepare two questions about the customer's goals for next year, not about the contract. "
    "If a champion has left the company, find out who replaced them before the meeting. "
    "Bring one small win you can show with numbers, such as fewer tickets or faster onboarding. "
    "Agree on a follow-up date during the call and send a short written summary the same day."
)


def test_exact_and_near_duplicate_chunks_are_dropped(embedder) -> None:
    near = PARAGRAPH.replace("two questions", "three questions")
    assert near != PARAGRAPH
    doc = make_doc(
        "dups",
        [
            (["Original"], PARAGRAPH),
            (["Copied under another heading"], PARAGRAPH),
            (["Re-cased copy"], PARAGRAPH.upper().replace(":", " -")),
            (["Near copy"], near),
            (["Different"], "Interview practice: answer one behavioural question each morning."),
        ],
    )
    chunks = chunk_document(doc, embedder.max_tokens, embedder.count_tokens)
    assert len(chunks) == 5
    kept, dropped = dedupe(chunks)
    assert dropped == 3
    assert [c.heading for c in kept] == ["Original", "Different"]  # first seen wins, order kept


def test_identical_chunks_in_two_guides_are_embedded_once(index: Index, shipped_docs) -> None:
    gtm = next(d for d in shipped_docs if d.id == "csm-gtm-career-path")
    clone = Document(**{**gtm.__dict__, "id": "gtm-clone", "file": "clone.md"})
    chunks, dropped = index.chunk([gtm, clone])
    original, _ = index.chunk([gtm])
    assert dropped == len(original)
    assert [c.id for c in chunks] == [c.id for c in original]
    assert {c.guide for c in chunks} == {"csm-gtm-career-path"}


def test_distinct_sections_are_not_mistaken_for_duplicates(index: Index, shipped_docs) -> None:
    _, dropped = index.chunk(shipped_docs)
    assert dropped == 0


def test_a_heading_path_longer_than_the_chunk_is_a_corpus_error() -> None:
    doc = make_doc("deep", [(["Very long heading " * 20], "Some body text here.")])
    with pytest.raises(CorpusError) as err:
        chunk_document(doc, 32, _words)
    assert "deep.md" in err.value.message and "TUTOR_CHUNK_TOKENS" in (err.value.hint or "")


# --- linear time on hostile input --------------------------------------------------------------


def test_chunking_work_grows_linearly_with_an_unbroken_run(embedder) -> None:
    """Characters handed to the token counters, per input character, stay flat as the run grows.

    Bisecting over the whole remaining word re-counted it for every cut: a 400 KB single-token
    guide took 228 s. Counted characters measure the work without a timer.
    """
    ratios = []
    for n in (8_000, 32_000):
        counted = 0

        def count(text: str) -> int:
            nonlocal counted
            counted += len(text)
            return max(count_tokens(text), embedder.count_tokens(text))

        run = ("面试准备需要时间" * n)[:n]  # Chinese with no spaces: prose, cut into slices
        chunks = chunk_document(make_doc("cjk", [(["Run"], run)]), 200, count)
        assert "".join(c.text for c in chunks) == run
        assert all(count(c.embed_text) <= 200 for c in chunks)
        ratios.append(counted / n)
    assert ratios[1] <= ratios[0] * 1.3, ratios
    assert ratios[1] < 40, ratios


def test_an_encoded_blob_is_dropped_with_a_warning_and_the_prose_kept(
    embedder, caplog: pytest.LogCaptureFixture
) -> None:
    import base64

    blob = base64.b64encode(bytes(range(256)) * 3000).decode()  # about 1 MB, no spaces
    assert len(blob) > 1_000_000
    prose = "Ask every customer what success looks like in their first ninety days."
    doc = make_doc("blob", [(["Notes"], f"{prose}\n\n![chart](data:image/png;base64,{blob})")])
    with caplog.at_level("WARNING"):
        chunks = chunk_document(doc, 200, embedder.count_tokens)
    text = "\n\n".join(c.text for c in chunks)
    assert text.startswith(prose) and len(text) < 200, text[:300]
    assert "unbroken run of 1,0" in caplog.text and "blob.md" in caplog.text


@pytest.mark.slow
def test_a_guide_with_a_megabyte_token_ingests_in_seconds(
    make_tutor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "guides").mkdir(parents=True)
    (corpus / "guides" / "huge.md").write_text(
        "---\nid: huge\nrole: test-role\nrole_title: Test Role\ntitle: Huge\n---\n"
        "# Huge\n\n## Notes\n\nOne real sentence about onboarding calls.\n\n" + "A" * 990_000,
        encoding="utf-8",
    )
    t = make_tutor(corpus=corpus)
    started = time.perf_counter()
    report = t.ingest()
    assert time.perf_counter() - started < 10
    assert report.chunks >= 1
    assert "onboarding" in t.search("onboarding calls", k=1)[0].chunk.text


def test_lsh_dedupe_drops_what_comparing_every_pair_drops(tmp_path: Path, embedder) -> None:
    """MinHash only proposes candidates: the result is the exact pairwise one, on a corpus with
    near copies (evals/synthetic.py)."""
    from evals.synthetic import generate
    from tutor.ingestion import discover, load_document

    generate(300, tmp_path / "c")
    chunks = [
        c
        for p in discover(tmp_path / "c")
        for c in chunk_document(load_document(p, tmp_path / "c"), 200, embedder.count_tokens)
    ]

    def shingles(text: str) -> set[str]:
        w = re.findall(r"[a-z0-9]+", text.lower())
        return {" ".join(w[i : i + 4]) for i in range(len(w) - 3)} or {" ".join(w)}

    kept_ref: list[tuple[Chunk, set[str]]] = []
    for c in chunks:
        sh = shingles(c.text)
        if all(len(sh & k) / len(sh | k) < 0.85 for _, k in kept_ref):
            kept_ref.append((c, sh))
    kept, dropped = dedupe(chunks)
    assert dropped > 5  # the generator's near copies
    assert [c.id for c in kept] == [c.id for c, _ in kept_ref]
