"""The index in a real Chroma server (TUTOR_CHROMA_URL) instead of the local store."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

CSM = "customer-success-manager"
SUPPORT = "customer-support-manager"


def _chroma_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("chroma")
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    exe = _chroma_binary()
    if exe is None:
        pytest.skip("the `chroma` server binary is not installed (pip install chromadb)")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "chroma-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"chroma exited with {proc.returncode}: {(tmp_path / 'chroma.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def test_ingest_search_and_reingest_against_a_chroma_server(
    make_tutor, copy_corpus: Path, chroma_url: str, embedder, tmp_path: Path
) -> None:
    t = make_tutor(corpus=copy_corpus, chroma_url=chroma_url)
    first = t.ingest()
    assert first.files == 3 and first.embedded == first.chunks > 0

    # the vectors are in the server, seen by a client of our own, and not in a local store
    import chromadb

    port = int(chroma_url.rsplit(":", 1)[1])
    server = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=chromadb.Settings(anonymized_telemetry=False)
    )
    assert server.get_collection(t.index.collection.name).count() == first.chunks
    assert not (t.settings.home / "chroma").exists()
    server_ids = set(t.index.collection.get(include=[])["ids"])
    assert server_ids == {c.id for c in t.index.live_chunks()}

    hits = t.search("how much does a support manager earn in the US", role=SUPPORT, k=5)
    assert hits and {h.chunk.role for h in hits} == {SUPPORT}
    assert hits[0].chunk.heading == "Pay in the United States"
    dense = t.search("typical day", role=CSM, k=5, mode="dense")
    assert dense and {h.chunk.role for h in dense} == {CSM}

    calls = embedder.embed_calls
    again = t.ingest()
    assert again.embedded == 0 and embedder.embed_calls == calls
    assert again.unchanged == first.chunks

    # a second tutor with its own home but the same server finds the vectors already there
    other = make_tutor(corpus=copy_corpus, home=tmp_path / "second-home", chroma_url=chroma_url)
    assert other.ingest().embedded == 0
    assert [h.chunk.id for h in other.search("QBR", role=CSM, k=3)] == [
        h.chunk.id for h in t.search("QBR", role=CSM, k=3)
    ]
