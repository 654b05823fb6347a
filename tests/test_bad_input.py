"""Bad files and bad requests: a clear error naming the file with a hint, and an untouched index.

One index is built for the module (the smallest shipped guide); every test snapshots it before
and after the failure. The tests run as root, which reads files whatever their mode, so an
unreadable file is simulated (see the test names).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import json_out, run_cli
from conftest import CORPUS, make_settings

from tutor.errors import CorpusError, InputError, NotFound
from tutor.index import Index
from tutor.tutor import Tutor

CSM = "customer-success-manager"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"


@pytest.fixture(scope="module")
def tutor(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Tutor]:
    corpus = tmp_path_factory.mktemp("bad-input-corpus")
    (corpus / "guides").mkdir()
    shutil.copy(CORPUS / "guides" / "csm-gtm-career-path.md", corpus / "guides")
    settings = make_settings(tmp_path_factory.mktemp("bad-input-home"), corpus)
    t = Tutor(settings, index=Index(settings, embedder=embedder))
    t.ingest()
    yield t
    t.close()


@pytest.fixture
def guides(tutor: Tutor) -> Iterator[Path]:
    """The module corpus's guides folder; whatever a test drops in is removed afterwards."""
    folder = tutor.settings.corpus_dir / "guides"
    before = set(folder.iterdir())
    yield folder
    for p in set(folder.iterdir()) - before:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def snapshot(t: Tutor) -> tuple[Any, ...]:
    files = [
        tuple(r) for r in t.index.db.execute("select path, sha256, guide from files order by path")
    ]
    return (
        sorted(c.id for c in t.index.live_chunks()),
        t.index.generation(),
        sorted(t.index.collection.get(include=[])["ids"]),
        files,
    )


def expect_corpus_error(
    t: Tutor, *name_parts: str, paths: tuple[Path, ...] = (), role: str | None = None
) -> CorpusError:
    before = snapshot(t)
    with pytest.raises(CorpusError) as err:
        t.ingest(list(paths), role=role)
    assert snapshot(t) == before, "a failed ingest must not touch the index"
    for part in name_parts:
        assert part in err.value.message, (part, err.value.message)
    assert err.value.hint
    return err.value


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data"), [("empty.md", b""), ("blank.txt", b"  \n\n\t \r\n")])
def test_an_empty_file(tutor: Tutor, guides: Path, name: str, data: bytes) -> None:
    (guides / name).write_bytes(data)
    err = expect_corpus_error(tutor, name, "empty")
    assert "delete the file" in err.message  # the per-file hint travels with the message
    assert "Nothing was changed" in err.hint


def test_a_binary_file(tutor: Tutor, guides: Path) -> None:
    (guides / "diagram.md").write_bytes(PNG + bytes(range(256)) * 4)
    err = expect_corpus_error(tutor, "diagram.md", "binary")
    assert ".md, .txt or .html" in err.message


def test_an_undecodable_file(tutor: Tutor, guides: Path) -> None:
    (guides / "cafe-notes.txt").write_bytes(
        "Café résumé tips for a naïve applicant.\n".encode("latin-1")
    )
    err = expect_corpus_error(tutor, "cafe-notes.txt", "not valid UTF-8")
    assert "iconv" in err.message


def test_a_five_megabyte_file(tutor: Tutor, guides: Path) -> None:
    line = b"This line repeats until the file is far too large for a guide.\n"
    (guides / "huge.md").write_bytes(line * (5_000_000 // len(line) + 1))
    err = expect_corpus_error(tutor, "huge.md", "5.0 MB", "limit")
    assert "Split it" in err.message


def test_an_unreadable_file_simulated_with_a_permission_error(
    tutor: Tutor, guides: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, chmod 000 still reads: make read_bytes fail the way it fails for a user."""
    locked = guides / "locked.md"
    locked.write_text("---\nrole: customer-success-manager\n---\n\n## Locked\n\nSome words here.\n")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    err = expect_corpus_error(tutor, "locked.md", "Permission denied")
    assert "Fix its permissions" in err.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_with_chmod_000(tutor: Tutor, guides: Path) -> None:
    locked = guides / "locked.md"
    locked.write_text("---\nrole: customer-success-manager\n---\n\n## Locked\n\nSome words here.\n")
    locked.chmod(0)
    try:
        expect_corpus_error(tutor, "locked.md", "cannot be read")
    finally:
        locked.chmod(0o644)


def test_a_dangling_symlink_given_on_the_command_line(tutor: Tutor, tmp_path: Path) -> None:
    link = tmp_path / "guide.md"
    link.symlink_to(tmp_path / "moved-away.md")
    expect_corpus_error(tutor, "moved-away.md", "no such file", paths=(link,))


def test_a_nonexistent_path(tutor: Tutor, tmp_path: Path) -> None:
    expect_corpus_error(
        tutor, "no-such-guide.md", "no such file", paths=(tmp_path / "no-such-guide.md",)
    )


def test_an_unsupported_file_type(tutor: Tutor, tmp_path: Path) -> None:
    book = tmp_path / "guide.epub"
    book.write_bytes(b"PK\x03\x04")
    expect_corpus_error(tutor, "guide.epub", "unsupported file type", paths=(book,))


def test_a_pdf_is_not_supported_yet(tutor: Tutor, tmp_path: Path) -> None:
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    err = expect_corpus_error(tutor, "guide.pdf", "PDF files are not supported yet", paths=(pdf,))
    assert "Convert it to .md, .txt or .html" in err.message


def test_broken_front_matter(tutor: Tutor, guides: Path) -> None:
    (guides / "broken.md").write_text(
        "---\nrole: [unclosed\ntitle: x\n---\n\n## A\n\nBody text here.\n"
    )
    expect_corpus_error(tutor, "broken.md", "front matter is not valid YAML")


def test_every_bad_file_is_named_at_once(tutor: Tutor, guides: Path) -> None:
    (guides / "one.md").write_bytes(b"")
    (guides / "two.txt").write_bytes(b"caf\xe9\n")
    expect_corpus_error(tutor, "one.md", "two.txt")


# --- roles and queries -----------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["Data Analyst", "data_analyst", "-analyst", "analyst!", ""])
def test_an_invalid_role_slug_in_ingest(tutor: Tutor, tmp_path: Path, slug: str) -> None:
    page = tmp_path / "notes.txt"
    page.write_text("Team notes\n\nWe planned the next quarter of analysis work together.\n")
    err = expect_corpus_error(tutor, f"'{slug}' is not a role slug", paths=(page,), role=slug)
    assert "lowercase words joined by hyphens" in err.hint


def test_an_invalid_role_in_front_matter_names_the_file(tutor: Tutor, guides: Path) -> None:
    (guides / "bad-role.md").write_text(
        "---\nrole: Data Analyst\n---\n\n## Pay\n\nAbout 50k a year.\n"
    )
    err = expect_corpus_error(tutor, "bad-role.md", "'Data Analyst' is not a role slug")
    assert "customer-success-manager" in err.message  # the slug hint, with an example


def test_an_unknown_role_in_search(tutor: Tutor) -> None:
    before = snapshot(tutor)
    with pytest.raises(NotFound) as err:
        tutor.search("salary", role="astronaut")
    assert "astronaut" in err.value.message
    assert err.value.hint == f"Known roles: {CSM}."
    assert snapshot(tutor) == before


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_search_query(tutor: Tutor, query: str) -> None:
    before = snapshot(tutor)
    with pytest.raises(InputError) as err:
        tutor.search(query)
    assert "empty" in err.value.message and err.value.hint
    assert snapshot(tutor) == before


# --- the same through the CLI: message, hint and exit code -----------------------------------


def cli(tutor: Tutor, monkeypatch: pytest.MonkeyPatch, embedder, *args: str):
    return run_cli(monkeypatch, embedder, tutor.settings.home, tutor.settings.corpus_dir, *args)


def test_cli_bad_file_exits_4_and_names_it(
    tutor: Tutor, guides: Path, monkeypatch, embedder
) -> None:
    (guides / "diagram.md").write_bytes(PNG)
    before = snapshot(tutor)
    r = cli(tutor, monkeypatch, embedder, "ingest")
    assert r.exit_code == 4
    assert "Error:" in r.stderr and "diagram.md" in r.stderr and "binary" in r.stderr
    assert "Hint:" in r.stderr
    r = cli(tutor, monkeypatch, embedder, "ingest", "--json")
    assert r.exit_code == 4
    payload = json_out(r)
    assert payload["error"] == "bad_corpus_file" and "diagram.md" in payload["message"]
    assert payload["hint"]
    assert snapshot(tutor) == before


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("ingest", "/nonexistent/guide.md"), 4, ["guide.md", "no such file"]),
        (
            ("ingest", "--role", "Not A Slug", str(CORPUS / "guides" / "csm-gtm-career-path.md")),
            4,
            ["not a role slug"],
        ),
        (("search", ""), 2, ["empty"]),
        (
            ("search", "salary", "--role", "astronaut"),
            3,
            ["astronaut", "Known roles: customer-success-manager"],
        ),
        (("search", "salary", "-k", "0"), 2, ["k=0"]),
    ],
)
def test_cli_exit_codes(
    tutor: Tutor, monkeypatch, embedder, args: tuple[str, ...], code: int, words: list[str]
) -> None:
    before = snapshot(tutor)
    r = cli(tutor, monkeypatch, embedder, *args)
    assert r.exit_code == code, r.output
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert "Hint:" in r.stderr
    assert snapshot(tutor) == before


def test_the_installed_command_exits_2_on_an_empty_query(tutor: Tutor) -> None:
    exe = Path(sys.executable).with_name("tutor")
    if not exe.exists():
        pytest.skip("the tutor console script is not installed in this environment")
    env = {
        **os.environ,
        "TUTOR_HOME": str(tutor.settings.home),
        "TUTOR_CORPUS": str(tutor.settings.corpus_dir),
        "TUTOR_ENGINE": "offline",
    }
    proc = subprocess.run(
        [str(exe), "search", "  "], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "The search query is empty." in proc.stderr and "Hint:" in proc.stderr
