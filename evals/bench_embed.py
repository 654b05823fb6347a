"""Document embedding: onnxruntime against torch (sentence-transformers), same texts, same model.

    python evals/bench_embed.py [--rounds 3] [--json]

Embeds the shipped corpus's chunks (their embed_text, as ingest does) with each runtime in
turn, alternating rounds so a busy machine slows both alike; prints texts/s (median round)
and the worst cosine between the two. Ingest uses onnxruntime when it is at
least as fast at parity. Prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def texts() -> list[str]:
    from tutor.index import Index
    from tutor.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, home=Path(tmp), corpus_dir=ROOT / "corpus")  # type: ignore[call-arg]
        index = Index(settings)
        chunks, _ = index.chunk(index.load()[0])
        index.close()
    return [c.embed_text for c in chunks]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    import numpy as np

    from tutor.embedding import MiniLMEmbedder

    docs = texts()
    threads = os.cpu_count() or 1
    onnx = MiniLMEmbedder()
    onnx.load(for_documents=True)

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    st = SentenceTransformer(str(onnx.model_dir), device="cpu")

    def run_onnx() -> Any:
        return np.array(onnx.embed_documents(docs))

    def run_torch() -> Any:
        return st.encode(
            docs, batch_size=onnx.batch_size, normalize_embeddings=True, show_progress_bar=False
        )

    run_onnx(), run_torch()  # warm-up
    speed: dict[str, list[float]] = {"onnxruntime": [], "torch": []}
    got: dict[str, Any] = {}
    for _ in range(args.rounds):
        for name, fn in (("onnxruntime", run_onnx), ("torch", run_torch)):
            t0 = time.perf_counter()
            got[name] = fn()
            speed[name].append(len(docs) / (time.perf_counter() - t0))
    cos = float((got["onnxruntime"] * got["torch"]).sum(axis=1).min())
    result = {
        "texts": len(docs),
        "threads": threads,
        "batch_size": onnx.batch_size,
        "texts_per_s": {k: round(statistics.median(v), 1) for k, v in speed.items()},
        "min_cosine": round(cos, 7),
        "load_average": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        tps = result["texts_per_s"]
        print(
            f"{len(docs)} chunks, {threads} threads, {onnx.batch_size} texts a call, "
            f"{args.rounds} alternating rounds (load average {result['load_average']})"
        )
        for name in ("onnxruntime", "torch"):
            print(f"{name:<12} {tps[name]:>7.1f} texts/s")
        print(f"parity: worst cosine {cos:.7f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
