"""The ONNX embedder: parity with sentence-transformers, lazy imports, and a safe export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tutor import onnx_export
from tutor.embedding import MiniLMEmbedder
from tutor.errors import ConfigError
from tutor.settings import PROJECT_ROOT

EVALS = PROJECT_ROOT / "evals"


def labelled_questions() -> list[str]:
    out: list[str] = []
    for path in sorted(EVALS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            for turn in [row, *row.get("turns", [])]:
                if isinstance(turn, dict) and isinstance(turn.get("question"), str):
                    out.append(turn["question"])
    return out


@pytest.mark.slow
def test_vectors_match_sentence_transformers(embedder: MiniLMEmbedder, shipped: Any) -> None:
    """Cosine >= 0.9999 on every labelled question, on real chunks, and past 256 tokens."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    questions = labelled_questions()
    assert len(questions) > 200  # the retrieval set and the eval sets
    chunks = [c.embed_text for c in shipped.index.live_chunks()]
    overlong = [" ".join(chunks[:3]), "renewal " * 400]  # truncated at 256 by both
    assert all(embedder.count_tokens(t) > embedder.max_tokens for t in overlong)

    reference = SentenceTransformer(str(embedder.model_dir), device="cpu")
    assert reference.max_seq_length == embedder.max_tokens == 256
    texts = questions + chunks + overlong
    want = reference.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    got_docs = np.array(embedder.embed_documents(questions + chunks))
    got_queries = np.array([embedder.embed_query(t) for t in questions + overlong])
    cos_docs = (want[: len(got_docs)] * got_docs).sum(axis=1)
    cos_queries = (
        np.concatenate([want[: len(questions)], want[-len(overlong) :]]) * got_queries
    ).sum(axis=1)
    assert cos_docs.min() >= 0.9999, cos_docs.min()
    assert cos_queries.min() >= 0.9999, cos_queries.min()


def test_the_model_truncates_at_max_seq_length(embedder: MiniLMEmbedder) -> None:
    """Text past the 256th word piece changes nothing; text before it does."""
    import numpy as np

    words = [f"topic{i % 50} renewal" for i in range(400)]
    full = " ".join(words)
    ids = embedder._tokenizer.encode(full).ids
    assert len(ids) > 300
    head = embedder._tokenizer.decode(ids[1:255])  # 254 pieces + [CLS] + [SEP] = 256
    same = np.dot(embedder.embed_query(full), embedder.embed_query(head))
    shorter = np.dot(embedder.embed_query(full), embedder.embed_query(" ".join(words[:40])))
    assert same >= 0.9999
    assert shorter < 0.99


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


HEAVY = ("torch", "sentence_transformers", "transformers")


def test_importing_the_cli_imports_no_torch() -> None:
    r = _python(
        "import sys, tutor.cli, tutor.tutor, web.app\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.slow
def test_commands_that_embed_nothing_or_one_query_import_no_torch(
    shipped: Any, tmp_path: Path
) -> None:
    """progress, roles and search run the whole command in a fresh process: no torch."""
    code = (
        "import sys\n"
        "from tutor.cli import main\n"
        "for args in (['progress', '--learner', 'ana', '--role', 'customer-success-manager'],\n"
        "             ['search', 'csm pay in germany', '-k', '2', '--json'],\n"
        "             ['ask', 'How long does it take to become a CSM?', '--json']):\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    env = {
        "TUTOR_HOME": str(shipped.settings.home),
        "TUTOR_ENGINE": "offline",
        "TUTOR_CORPUS": str(shipped.settings.corpus_dir),
    }
    r = _python(code, env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "HEAVY []" in r.stdout, r.stdout[-500:]


# --- the export ------------------------------------------------------------------------------


@pytest.fixture
def bare_model(tmp_path: Path, embedder: MiniLMEmbedder) -> Path:
    """The bundled model's files (weights linked, not copied), with no ONNX export beside it."""
    d = tmp_path / "model"
    d.mkdir()
    for f in embedder.model_dir.iterdir():
        if f.is_file():
            (d / f.name).symlink_to(f)
    return d


def test_missing_export_without_torch_is_a_config_error_with_a_hint(
    bare_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_export, "torch_available", lambda: False)
    emb = MiniLMEmbedder(bare_model, data_dir=tmp_path / "home")
    assert emb.count_tokens("counting needs no model") > 0
    with pytest.raises(ConfigError) as err:
        emb.embed_query("anything")
    assert "python -m tutor.onnx_export" in (err.value.hint or "")


@pytest.mark.parametrize("fails_in", ["_torch_export", "check_parity"])
def test_a_failed_export_leaves_no_model_behind(
    bare_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails_in: str
) -> None:
    """A crash mid-write, or an export that disagrees with the reference, never goes live."""

    def half_written(model_dir: Path, out: Path) -> None:
        out.write_bytes(b"\x08\x07half an onnx file")
        if fails_in == "_torch_export":
            raise KeyboardInterrupt("killed mid-export")

    def disagrees(model_dir: Path, onnx_file: Path) -> float:
        raise ConfigError("The ONNX export disagrees with sentence-transformers (cosine 0.5).")

    monkeypatch.setattr(onnx_export, "torch_available", lambda: True)
    monkeypatch.setattr(onnx_export, "_torch_export", half_written)
    monkeypatch.setattr(onnx_export, "check_parity", disagrees)
    with pytest.raises((KeyboardInterrupt, ConfigError)):
        onnx_export.export(bare_model, tmp_path / "home")
    assert onnx_export.find_export(bare_model, tmp_path / "home") is None
    leftovers = [p for p in bare_model.rglob("*") if p.suffix in (".partial", ".onnx")]
    assert leftovers == []


def test_export_goes_to_the_data_dir_when_the_model_dir_is_read_only(
    bare_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: MiniLMEmbedder
) -> None:
    real = embedder.onnx_file()

    def copy_export(model_dir: Path, out: Path) -> None:
        out.write_bytes(real.read_bytes())

    monkeypatch.setattr(onnx_export, "torch_available", lambda: True)
    monkeypatch.setattr(onnx_export, "_torch_export", copy_export)
    monkeypatch.setattr(onnx_export, "check_parity", lambda model_dir, onnx_file: 1.0)
    # a system-wide install: site-packages is read-only for the user
    monkeypatch.setattr(onnx_export, "_writable", lambda d: not d.is_relative_to(bare_model))
    path = onnx_export.export(bare_model, tmp_path / "home")
    assert path.is_relative_to(tmp_path / "home")
    emb = MiniLMEmbedder(bare_model, data_dir=tmp_path / "home")
    assert emb.onnx_file() == path
    assert len(emb.embed_query("pay in Germany")) == 384


def test_the_export_name_follows_the_weights(bare_model: Path, tmp_path: Path) -> None:
    """Another model's weights never pair with this export: the fingerprint is in the name."""
    before = onnx_export.fingerprint(bare_model)
    weights = bare_model / "model.safetensors"
    data = bytearray(weights.read_bytes()[: 4 << 20])
    data[-1] ^= 0xFF
    weights.unlink()
    weights.write_bytes(bytes(data))
    assert onnx_export.fingerprint(bare_model) != before
