"""Near-duplicate removal at 750, 3,000 and 12,000 chunks: time, and growth against n log n.

    python evals/bench_dedup.py [--sizes 750 3000 12000] [--json]

Chunks come from the synthetic corpus (evals/synthetic.py), chunked as ingest chunks them;
only `dedupe` is timed. Prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.synthetic import generate  # noqa: E402


def chunks_for(n: int, tmp: Path) -> list[Any]:
    from tutor.chunking import chunk_document
    from tutor.embedding import MiniLMEmbedder
    from tutor.ingestion import discover, load_document

    corpus = tmp / f"corpus-{n}"
    generate(n, corpus)
    count = MiniLMEmbedder().count_tokens  # the tokenizer only: no model is loaded
    out: list[Any] = []
    for path in discover(corpus):
        out.extend(chunk_document(load_document(path, corpus), 200, count))
    return out


def run(sizes: list[int]) -> list[dict[str, Any]]:
    from tutor import chunking

    dedupe = chunking.dedupe
    if hasattr(chunking, "Deduper"):
        chunking.Deduper()  # import datasketch (and scipy) before the clock starts
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        for n in sizes:
            chunks = chunks_for(n, Path(tmp))
            t0 = time.perf_counter()
            kept, dropped = dedupe(chunks)
            rows.append(
                {
                    "chunks": len(chunks),
                    "kept": len(kept),
                    "dropped": dropped,
                    "seconds": round(time.perf_counter() - t0, 3),
                }
            )
    base = rows[0]
    for r in rows:
        ratio = r["chunks"] / base["chunks"]
        r["growth"] = round(r["seconds"] / base["seconds"], 2) if base["seconds"] else None
        r["n_log_n_growth"] = round(ratio * math.log(r["chunks"]) / math.log(base["chunks"]), 2)
        r["quadratic_growth"] = round(ratio**2, 1)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[750, 3000, 12000])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = run(args.sizes)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'chunks':>8}{'dropped':>9}{'seconds':>10}{'growth':>9}{'n log n':>9}{'n^2':>8}")
    for r in rows:
        print(
            f"{r['chunks']:>8}{r['dropped']:>9}{r['seconds']:>10.3f}{r['growth']:>9}"
            f"{r['n_log_n_growth']:>9}{r['quadratic_growth']:>8}"
        )
    worst = rows[-1]
    ok = worst["growth"] is not None and worst["growth"] <= worst["n_log_n_growth"]
    print(
        f"{'PASS' if ok else 'MISS'}  dedup growth <= n log n: {worst['growth']} vs {worst['n_log_n_growth']}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
