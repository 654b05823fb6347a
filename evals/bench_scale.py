"""The knowledge base at scale: 100, 3,000 and 50,000 chunks of a synthetic corpus.

    python evals/bench_scale.py                      # all three sizes, a table
    python evals/bench_scale.py --sizes 100 3000     # some of them; --json for numbers

For each size, in fresh processes over a fresh TUTOR_HOME: ingest (chunks/s, peak RSS), an
unchanged re-ingest, a cold `tutor search` and `tutor ask` (process start to exit, median of
3, and RSS), and warm search latency (p50/p95) inside one process. The corpus comes from
evals/synthetic.py. Up to --real-max chunks the real MiniLM embeds everything; above it a
hashing embedder stands in (embedding 50,000 chunks would take about 20 minutes here), so the
ingest pipeline, Chroma, FTS5, the fusion and the manifest are measured at that size while
the model is not. Prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    q["question"]
    for q in map(
        json.loads,
        (ROOT / "evals" / "retrieval_questions.jsonl").read_text(encoding="utf-8").splitlines(),
    )
]
TARGETS = {
    "reingest_s": 2.0,
    "ingest_chunks_per_s_at_3000": 40.0,
    "warm_p50_ms_at_50000": 30.0,
    "cold_search_s_at_50000": 2.0,
}


class HashingEmbedder:
    """A stand-in for MiniLM above --real-max: hashed word counts projected to 384 unit
    vectors. Same interface and token counts (the real tokenizer), about 2,000 texts/s."""

    name = "bench-hashing-384"
    batch_size = 32

    def __init__(self) -> None:
        from tutor.embedding import MiniLMEmbedder

        self._real = MiniLMEmbedder()
        self.max_tokens = self._real.max_tokens
        self.embed_calls = 0

    def count_tokens(self, text: str) -> int:
        return self._real.count_tokens(text)

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * 384
        for w in re.findall(r"[a-z0-9]+", text.lower()):
            h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
            v[h % 384] += 1.0 if h & 1 << 20 else -1.0
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.embed_calls += len(texts)
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


def _child(spec: str) -> int:
    """Run one `tutor` command in this process and report its peak RSS (for the parent)."""
    args = json.loads(spec)
    if args["standin"]:
        import tutor.index

        tutor.index.make_embedder = lambda settings: HashingEmbedder()  # type: ignore[assignment]
    from tutor import cli

    code = 0
    try:
        cli.main(args["argv"], standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"rss_mb": rss, "exit": code}), file=sys.stderr)
    if cli._leave_fast:  # end as the `tutor` console script does (tutor.cli.entry)
        cli.leave_now(code)
    return code


def run_tutor(argv: list[str], env: dict[str, str], standin: bool) -> dict[str, Any]:
    spec = json.dumps({"argv": argv, "standin": standin})
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, __file__, "--child", spec],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=3600,
    )
    wall = time.perf_counter() - t0
    tail = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "{}"
    try:
        info = json.loads(tail)
    except json.JSONDecodeError:
        info = {}
    if p.returncode != 0 or not info:
        raise SystemExit(f"`tutor {' '.join(argv)}` failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return {"wall_s": wall, "stdout": p.stdout, **info}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def warm_search(home: Path, corpus: Path, standin: bool, rounds: int) -> dict[str, float]:
    from tutor.index import Index
    from tutor.settings import Settings
    from tutor.tutor import Tutor

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=home, corpus_dir=corpus, engine="offline", chroma_url=None
    )
    index = Index(settings, embedder=HashingEmbedder() if standin else None)
    t = Tutor(settings, index=index)
    try:
        for q in QUESTIONS:  # first sight: embeds each question once
            t.search(q, k=5)
        times = []
        for _ in range(rounds):
            for q in QUESTIONS:
                t0 = time.perf_counter()
                t.search(q, k=5)
                times.append((time.perf_counter() - t0) * 1000)
        lex = []
        for q in QUESTIONS:
            t0 = time.perf_counter()
            t.search(q, k=5, mode="bm25")
            lex.append((time.perf_counter() - t0) * 1000)
    finally:
        t.close()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(pct(times, 95), 2),
        "bm25_p50_ms": round(statistics.median(lex), 2),
        "n": len(times),
    }


def measure(n: int, standin: bool, rounds: int, tmp: Path) -> dict[str, Any]:
    from evals.synthetic import generate

    corpus, home = tmp / f"corpus-{n}", tmp / f"home-{n}"
    generate(n, corpus)
    env = {
        **os.environ,
        "TUTOR_HOME": str(home),
        "TUTOR_CORPUS": str(corpus),
        "TUTOR_ENGINE": "offline",
        "TUTOR_EMBEDDER": "minilm",
    }
    env.pop("TUTOR_CHROMA_URL", None)
    first = run_tutor(["ingest", "--json"], env, standin)
    rep = json.loads(first["stdout"])
    again = run_tutor(["ingest", "--json"], env, standin)
    rep2 = json.loads(again["stdout"])
    cold_search = [run_tutor(["search", QUESTIONS[i], "--json"], env, standin) for i in range(3)]
    cold_ask = [run_tutor(["ask", QUESTIONS[i], "--json"], env, standin) for i in range(3)]
    warm = warm_search(home, corpus, standin, rounds)
    return {
        "chunks": rep["chunks"],
        "files": rep["files"],
        "embedder": "hashing stand-in" if standin else "MiniLM (onnxruntime)",
        "ingest": {
            "seconds": round(rep["seconds"], 2),
            "process_s": round(first["wall_s"], 2),
            "chunks_per_s": round(rep["chunks"] / rep["seconds"], 1),
            "duplicates_dropped": rep["duplicates_dropped"],
            "rss_mb": first["rss_mb"],
        },
        "reingest": {
            "seconds": round(rep2["seconds"], 3),
            "process_s": round(again["wall_s"], 2),
            "embedded": rep2["embedded"],
            "rss_mb": again["rss_mb"],
        },
        "cold_search": {
            "median_s": round(statistics.median(r["wall_s"] for r in cold_search), 2),
            "rss_mb": max(r["rss_mb"] for r in cold_search),
        },
        "cold_ask": {
            "median_s": round(statistics.median(r["wall_s"] for r in cold_ask), 2),
            "rss_mb": max(r["rss_mb"] for r in cold_ask),
        },
        "warm_search": warm,
    }


def render(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'chunks':>7} {'embedder':<21}{'ingest s':>9}{'chunk/s':>8}{'RSS MB':>7}"
        f"{'re-ingest s':>12}{'cold search':>12}{'cold ask':>9}{'RSS MB':>7}"
        f"{'warm p50':>9}{'p95 ms':>7}{'bm25 p50':>9}"
    )
    lines = [head]
    for r in rows:
        i, re_, cs, ca, w = (
            r["ingest"],
            r["reingest"],
            r["cold_search"],
            r["cold_ask"],
            r["warm_search"],
        )
        lines.append(
            f"{r['chunks']:>7} {r['embedder']:<21}{i['seconds']:>9.1f}{i['chunks_per_s']:>8.1f}"
            f"{i['rss_mb']:>7}{re_['seconds']:>12.2f}{cs['median_s']:>12.2f}{ca['median_s']:>9.2f}"
            f"{cs['rss_mb']:>7}{w['p50_ms']:>9.1f}{w['p95_ms']:>7.1f}{w['bm25_p50_ms']:>9.1f}"
        )
    lines.append("")
    lines.append(
        "ingest s: the report's own time; re-ingest: unchanged corpus; cold: a new process from "
        "start to exit (median of 3); RSS: peak resident memory of that process."
    )
    for name, ok, value in check(rows):
        lines.append(f"{'PASS' if ok else 'MISS'}  {name}: {value}")
    return "\n".join(lines)


def check(rows: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    out = []
    for r in rows:
        out.append(
            (
                f"unchanged re-ingest <= 2 s at {r['chunks']}",
                r["reingest"]["seconds"] <= TARGETS["reingest_s"]
                and r["reingest"]["embedded"] == 0,
                f"{r['reingest']['seconds']} s",
            )
        )
        if 2500 <= r["chunks"] <= 3500 and r["embedder"].startswith("MiniLM"):
            out.append(
                (
                    "ingest >= 40 chunks/s at 3,000",
                    r["ingest"]["chunks_per_s"] >= TARGETS["ingest_chunks_per_s_at_3000"],
                    f"{r['ingest']['chunks_per_s']} chunks/s",
                )
            )
        if r["chunks"] >= 40000:
            out.append(
                (
                    "warm search p50 <= 30 ms at 50,000",
                    r["warm_search"]["p50_ms"] <= TARGETS["warm_p50_ms_at_50000"],
                    f"{r['warm_search']['p50_ms']} ms",
                )
            )
            out.append(
                (
                    "cold search process < 2 s at 50,000",
                    r["cold_search"]["median_s"] < TARGETS["cold_search_s_at_50000"],
                    f"{r['cold_search']['median_s']} s",
                )
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 3000, 50000])
    ap.add_argument("--real-max", type=int, default=5000, help="largest size MiniLM embeds")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args.child)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for n in args.sizes:
            rows.append(measure(n, n > args.real_max, args.rounds, Path(tmp)))
            print(f"... {n} chunks done", file=sys.stderr)
    if args.json:
        print(json.dumps({"rows": rows, "targets": check(rows)}, indent=2))
    else:
        print(render(rows))
    return 0 if all(ok for _, ok, _ in check(rows)) else 1


if __name__ == "__main__":
    sys.exit(main())
