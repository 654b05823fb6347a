"""Retrieval benchmark: ingest throughput, unchanged re-ingest, warm query latency, and quality.

    python evals/bench_retrieval.py            # a table
    python evals/bench_retrieval.py --json     # the same numbers as JSON

Runs the real Tutor (MiniLM, local Chroma, SQLite) on a fresh temporary home over the shipped
corpus and the labelled questions in evals/retrieval_questions.jsonl. A question counts as hit
at rank r when the r-th passage is one of its gold (guide, heading) sections; MRR is over the
top 10. Exit status 1 when a target is missed.
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
QUESTIONS = ROOT / "evals" / "retrieval_questions.jsonl"
MODES = ("dense", "bm25", "hybrid")
MRR_DEPTH = 10

TARGETS = {
    "warm_p50_ms": 20.0,  # warm search p50 at most
    "reingest_seconds": 2.0,  # unchanged re-ingest at most, with 0 embeddings
}


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: not JSON ({exc})") from exc
    return rows


def rank_of(hits: list[Any], gold: list[dict[str, str]]) -> int | None:
    """1-based rank of the first passage from a gold section, or None."""
    wanted = {(g["guide"], g["heading"]) for g in gold}
    for i, h in enumerate(hits, 1):
        if (h.chunk.guide, h.chunk.heading) in wanted:
            return i
    return None


def score(tutor: Any, questions: list[dict[str, Any]], mode: str) -> dict[str, float]:
    ranks = [
        rank_of(tutor.search(q["question"], role=q.get("role"), k=MRR_DEPTH, mode=mode), q["gold"])
        for q in questions
    ]
    n = len(ranks)
    out = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 3, 5)}
    out["mrr"] = sum(1 / r for r in ranks if r) / n
    return out


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    i = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[i]


def run(rounds: int, corpus: Path, questions_path: Path) -> dict[str, Any]:
    shared_cache = ROOT.parent / "shared" / "tiktoken-cache"  # as the Makefile does
    if shared_cache.is_dir():
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(shared_cache))
    from tutor.embedding import MiniLMEmbedder
    from tutor.index import Index
    from tutor.settings import Settings
    from tutor.tutor import Tutor

    questions = load_questions(questions_path)
    with tempfile.TemporaryDirectory(prefix="tutor-bench-") as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            home=Path(tmp),
            corpus_dir=corpus,
            engine="offline",
            openai_api_key=None,
            openai_base_url=None,
            chroma_url=None,
            embedder="minilm",
        )
        embedder = MiniLMEmbedder()
        t0 = time.perf_counter()
        embedder.embed_documents(["load the model before timing the ingest"])
        model_load = time.perf_counter() - t0

        tutor = Tutor(settings, index=Index(settings, embedder=embedder))
        try:
            first = tutor.ingest()
            calls = embedder.embed_calls
            again = tutor.ingest()
            reingest_embeddings = embedder.embed_calls - calls

            # first sight of each question: embeds it (the query cache is empty)
            cold: list[float] = []
            for q in questions:
                t0 = time.perf_counter()
                tutor.search(q["question"], role=q.get("role"))
                cold.append((time.perf_counter() - t0) * 1000)
            warm: list[float] = []
            for _ in range(rounds):
                for q in questions:
                    t0 = time.perf_counter()
                    tutor.search(q["question"], role=q.get("role"))
                    warm.append((time.perf_counter() - t0) * 1000)

            quality = {mode: score(tutor, questions, mode) for mode in MODES}
        finally:
            tutor.close()

    return {
        "corpus": str(corpus),
        "questions": len(questions),
        "rounds": rounds,
        "cpu_count": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "model_load_seconds": round(model_load, 3),
        "ingest": {
            "files": first.files,
            "chunks": first.chunks,
            "embedded": first.embedded,
            "seconds": round(first.seconds, 3),
            "chunks_per_second": round(first.chunks / first.seconds, 1),
        },
        "reingest_unchanged": {
            "seconds": round(again.seconds, 3),
            "embedded": again.embedded,
            "embed_calls": reingest_embeddings,
        },
        "latency_ms": {
            "first_query_p50": round(statistics.median(cold), 2),
            "first_query_p95": round(_percentile(cold, 95), 2),
            "warm_p50": round(statistics.median(warm), 2),
            "warm_p95": round(_percentile(warm, 95), 2),
            "warm_samples": len(warm),
        },
        "quality": {m: {k: round(v, 3) for k, v in s.items()} for m, s in quality.items()},
    }


def check(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    q, lat, re_ = result["quality"], result["latency_ms"], result["reingest_unchanged"]
    return [
        (
            f"warm search p50 <= {TARGETS['warm_p50_ms']:.0f} ms",
            lat["warm_p50"] <= TARGETS["warm_p50_ms"],
            f"{lat['warm_p50']} ms",
        ),
        (
            "hybrid MRR >= dense MRR",
            q["hybrid"]["mrr"] >= q["dense"]["mrr"],
            f"{q['hybrid']['mrr']} vs {q['dense']['mrr']}",
        ),
        (
            f"unchanged re-ingest <= {TARGETS['reingest_seconds']:.0f} s with 0 embeddings",
            re_["seconds"] <= TARGETS["reingest_seconds"]
            and re_["embedded"] == 0
            and re_["embed_calls"] == 0,
            f"{re_['seconds']} s, {re_['embedded']} embedded",
        ),
    ]


def render(result: dict[str, Any]) -> str:
    ing, re_, lat = result["ingest"], result["reingest_unchanged"], result["latency_ms"]
    lines = [
        f"corpus {result['corpus']}: {ing['files']} files, {ing['chunks']} chunks; "
        f"{result['questions']} labelled questions; {result['cpu_count']} CPUs, "
        f"load average {result['load_average']}",
        f"model load          {result['model_load_seconds']:.2f} s (once per process)",
        f"ingest (fresh)      {ing['seconds']:.2f} s, {ing['chunks_per_second']:.1f} chunks/s, "
        f"{ing['embedded']} embedded",
        f"re-ingest unchanged {re_['seconds']:.3f} s, {re_['embedded']} embedded",
        f"search, first sight p50 {lat['first_query_p50']:.1f} ms, p95 {lat['first_query_p95']:.1f} ms"
        " (embeds the question)",
        f"search, warm        p50 {lat['warm_p50']:.1f} ms, p95 {lat['warm_p95']:.1f} ms "
        f"({lat['warm_samples']} searches, {result['rounds']} rounds)",
        "",
        f"{'mode':<8}{'hit@1':>8}{'hit@3':>8}{'hit@5':>8}{'MRR@' + str(MRR_DEPTH):>9}",
    ]
    for mode in MODES:
        s = result["quality"][mode]
        lines.append(
            f"{mode:<8}{s['hit@1']:>8.3f}{s['hit@3']:>8.3f}{s['hit@5']:>8.3f}{s['mrr']:>9.3f}"
        )
    lines.append("")
    for name, ok, value in check(result):
        lines.append(f"{'PASS' if ok else 'MISS'}  {name}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--rounds", type=int, default=5, help="warm rounds over the questions")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    args = ap.parse_args(argv)
    result = run(args.rounds, args.corpus, args.questions)
    result["targets"] = [{"target": n, "met": ok, "value": v} for n, ok, v in check(result)]
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0 if all(t["met"] for t in result["targets"]) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
