"""Hostile corpus files (issue 10) and folders without guides (issue 9).

A symlink that leads out of the corpus is skipped with a warning and never stops the rest of
the corpus; a file gone from the corpus leaves the index; `tutor ingest DIR` on a folder
without guides says so and fails; a PDF is told it is not supported yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_run import json_out, run_cli

from tutor.errors import CorpusError
from tutor.tutor import Tutor

GUIDE = """---
id: {id}
role: {role}
title: "{title}"
---

## What the work is

A {title} reviews the week's numbers with the team every Monday morning.

## Pay

A junior {title} in the example city earns about 41,000 a year.
"""


def guide(folder: Path, name: str, role: str = "data-analyst", title: str = "data analyst") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(GUIDE.format(id=Path(name).stem, role=role, title=title), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    guide(root / "guides", "analyst.md")
    return root


def guides_in_index(t: Tutor) -> set[str]:
    return {g["guide"] for g in t.index.guides()}


# --- symlinks ----------------------------------------------------------------------------------


def test_a_symlink_to_etc_passwd_is_skipped_and_the_rest_is_ingested(
    make_tutor, corpus: Path
) -> None:
    (corpus / "guides" / "passwd.md").symlink_to("/etc/passwd")
    t = make_tutor(corpus=corpus)
    report = t.ingest()
    assert guides_in_index(t) == {"analyst"}
    assert report.files == 1
    assert len(report.skipped) == 1 and "passwd.md" in report.skipped[0]
    assert "outside" in report.skipped[0]
    assert "root:" not in " ".join(c.text for c in t.index.live_chunks())


def test_a_symlink_to_a_guide_outside_the_corpus_is_not_ingested(
    make_tutor, corpus: Path, tmp_path: Path
) -> None:
    outside = guide(tmp_path / "elsewhere", "planted.md", role="astronaut", title="astronaut")
    link = corpus / "guides" / "planted.md"
    link.symlink_to(outside)
    t = make_tutor(corpus=corpus)
    report = t.ingest()
    assert guides_in_index(t) == {"analyst"}
    assert "astronaut" not in t.index.roles()
    assert [s for s in report.skipped if "planted.md" in s]

    # deleting the link: the outside file must not be live on the next ingest either
    link.unlink()
    again = t.ingest()
    assert guides_in_index(t) == {"analyst"} and again.skipped == []
    assert "astronaut" not in t.index.roles()


def test_a_symlinked_folder_that_leads_outside_is_skipped(
    make_tutor, corpus: Path, tmp_path: Path
) -> None:
    guide(tmp_path / "elsewhere", "planted.md", role="astronaut", title="astronaut")
    (corpus / "guides" / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    t = make_tutor(corpus=corpus)
    report = t.ingest()
    assert guides_in_index(t) == {"analyst"}
    assert [s for s in report.skipped if "more" in s and "outside" in s]


def test_a_symlink_inside_the_corpus_still_works(make_tutor, corpus: Path) -> None:
    real = guide(corpus / "drafts", "tester.md", role="qa-tester", title="QA tester")
    (corpus / "guides" / "tester.md").symlink_to(real)
    t = make_tutor(corpus=corpus)
    report = t.ingest()
    assert guides_in_index(t) == {"analyst", "tester"} and report.skipped == []


def test_a_guide_deleted_from_a_folder_ingested_by_path_leaves_the_index(
    make_tutor, corpus: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    keep = guide(extra, "keep.md", role="qa-tester", title="QA tester")
    gone = guide(extra, "gone.md", role="ux-writer", title="UX writer")
    t = make_tutor(corpus=corpus)
    t.ingest([extra])
    assert guides_in_index(t) == {"analyst", "keep", "gone"}
    gone.unlink()
    report = t.ingest()
    assert guides_in_index(t) == {"analyst", "keep"}
    assert str(gone.resolve()) in report.removed_files
    assert keep.exists()


def test_a_role_given_to_a_corpus_file_is_kept_by_later_ingests(make_tutor, corpus: Path) -> None:
    notes = corpus / "guides" / "notes.txt"
    notes.write_text("Team notes\n\nWe review the dashboards with the team every week.\n")
    t = make_tutor(corpus=corpus)
    t.ingest([notes], role="team-lead")
    again = t.ingest()  # no --role: the file's role is remembered, not inferred and refused
    assert again.files == 2 and "team-lead" in t.index.roles()


# --- folders without guides ---------------------------------------------------------------------


def test_ingesting_a_folder_without_guides_says_so_and_fails(make_tutor, tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    (empty / "data.csv").write_text("a,b\n1,2\n")
    t = make_tutor(corpus=tmp_path / "no-corpus")
    with pytest.raises(CorpusError) as err:
        t.ingest([empty])
    assert "nothing-here" in err.value.message and "no guide file" in err.value.message
    for suffix in (".md", ".txt", ".html"):
        assert suffix in err.value.message


def test_a_folder_of_pdfs_is_told_pdfs_are_not_supported_yet(make_tutor, tmp_path: Path) -> None:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "guide.pdf").write_bytes(b"%PDF-1.7\n")
    t = make_tutor(corpus=tmp_path / "no-corpus")
    with pytest.raises(CorpusError) as err:
        t.ingest([folder])
    assert "guide.pdf" in err.value.message
    assert "PDF files are not supported yet" in err.value.message
    assert "Convert it to .md, .txt or .html" in err.value.message


def test_a_pdf_in_the_corpus_is_skipped_with_a_warning(make_tutor, corpus: Path) -> None:
    (corpus / "guides" / "salary-survey.pdf").write_bytes(b"%PDF-1.7\n")
    t = make_tutor(corpus=corpus)
    report = t.ingest()
    assert guides_in_index(t) == {"analyst"}
    assert [s for s in report.skipped if "salary-survey.pdf" in s and "not supported yet" in s]


def test_cli_ingest_of_an_empty_folder_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "guide.pdf").write_bytes(b"%PDF-1.7\n")
    r = run_cli(monkeypatch, embedder, tmp_path / "home", tmp_path / "corpus", "ingest", str(empty))
    assert r.exit_code == 4, r.output
    assert "no guide file" in r.stderr and "PDF" in r.stderr and ".txt" in r.stderr
    r = run_cli(
        monkeypatch,
        embedder,
        tmp_path / "home",
        tmp_path / "corpus",
        "ingest",
        "--json",
        str(empty),
    )
    assert r.exit_code == 4 and json_out(r)["error"] == "bad_corpus_file"


def test_ingesting_the_corpus_folder_by_path_reads_each_guide_once(
    make_tutor, corpus: Path
) -> None:
    t = make_tutor(corpus=corpus)
    report = t.ingest([corpus / "guides"])  # used to fail: "Two guides share the id"
    assert report.files == 1 and guides_in_index(t) == {"analyst"}


def test_cli_ingest_warns_about_a_skipped_symlink_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, corpus: Path, tmp_path: Path
) -> None:
    (corpus / "guides" / "passwd.md").symlink_to("/etc/passwd")
    r = run_cli(monkeypatch, embedder, tmp_path / "home", corpus, "ingest")
    assert r.exit_code == 0, r.output
    assert "Warning: " in r.stderr and "passwd.md: a symlink to /etc/passwd" in r.stderr
    assert "Ingested 1 files" in r.stdout and "1 skipped (see the warnings above)" in r.stdout
