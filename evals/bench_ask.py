"""Benchmark the offline `ask`: warm latency inside one process, and a cold `tutor ask`.

Prints numbers; it is not a test (timings flake on shared machines).
Usage: python evals/bench_ask.py [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tutor.settings import Settings  # noqa: E402
from tutor.tutor import Tutor  # noqa: E402

QUESTIONS = [
    "How much does a customer success manager earn?",
    "How much does a CSM make in Germany?",
    "What's the CSM salary in India?",
    "How long does it take to become a CSM?",
    "What tools does a customer support manager use?",
    "How much does a customer support manager make?",
    "What are the phases of the CSM roadmap?",
    "Customer success manager vs customer support manager salary",
    "Is customer success just support?",
    "Which cities hire support managers in Latin America?",
    "What is a QBR?",
    "How much does a CSM make in Canada?",
]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    settings = Settings(
        _env_file=None, home=home, engine="offline", openai_api_key=None, openai_base_url=None
    )  # type: ignore[call-arg]
    t = Tutor(settings)
    t.ingest()
    for q in QUESTIONS:  # warm-up: model, BM25, engine caches
        t.ask(q)
    from tutor.embedding import _QueryCache

    times, uncached = [], []
    for _ in range(args.rounds):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            t.ask(q)
            times.append((time.perf_counter() - t0) * 1000)
        emb = t.index.embedder
        emb._cache = _QueryCache()  # type: ignore[attr-defined]  # a new question every time
        for q in QUESTIONS:
            t0 = time.perf_counter()
            t.ask(q)
            uncached.append((time.perf_counter() - t0) * 1000)
            emb._cache = _QueryCache()  # type: ignore[attr-defined]
    learner = "bench"
    t.set_progress(learner, "csm-m-run-10-qbrs", "done")
    nxt = []
    for _ in range(args.rounds * 4):
        t0 = time.perf_counter()
        t.next_steps(learner, "customer-success-manager")
        nxt.append((time.perf_counter() - t0) * 1000)
    t.close()
    env = {**os.environ, "TUTOR_HOME": str(home), "TUTOR_ENGINE": "offline"}
    colds = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tutor.cli", "ask", QUESTIONS[1], "--json"],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        colds.append(time.perf_counter() - t0)
    out = {
        "warm_ask_ms": {
            "n": len(times),
            "p50": round(pct(times, 50), 2),
            "p95": round(pct(times, 95), 2),
        },
        "warm_ask_uncached_ms": {
            "n": len(uncached),
            "p50": round(pct(uncached, 50), 2),
            "p95": round(pct(uncached, 95), 2),
        },
        "warm_next_ms": {
            "n": len(nxt),
            "p50": round(pct(nxt, 50), 2),
            "p95": round(pct(nxt, 95), 2),
        },
        "cold_cli_ask_s": {
            "runs": [round(x, 2) for x in colds],
            "median": round(statistics.median(colds), 2),
        },
    }
    if args.json:
        print(json.dumps(out))
        return
    print(
        f"warm offline ask: p50 {out['warm_ask_ms']['p50']} ms, p95 {out['warm_ask_ms']['p95']} ms "
        f"over {len(times)} asks (target p50 <= 50 ms)"
    )
    print(
        f"warm offline ask, query embedding not cached: p50 {out['warm_ask_uncached_ms']['p50']} ms, "
        f"p95 {out['warm_ask_uncached_ms']['p95']} ms"
    )
    print(
        f"warm next steps:  p50 {out['warm_next_ms']['p50']} ms, p95 {out['warm_next_ms']['p95']} ms"
    )
    print(
        f"cold `tutor ask` (process start, model load): median {out['cold_cli_ask_s']['median']} s "
        f"{out['cold_cli_ask_s']['runs']}"
    )


if __name__ == "__main__":
    main()
