"""Load test of `tutor serve`: 20, 50, 100 and 200 learners following the chat page's flow.

    python evals/bench_load.py [--learners 20 50 100 200] [--workers 1] [--questions 2] [--json]

Ingests the shipped corpus into a temporary TUTOR_HOME, starts `tutor serve --workers N` on
127.0.0.1 with the offline engine, and runs each level of learners against it with an httpx
asyncio client. Each learner does what the page does: GET / (the cookie), GET /api/session
(the CSRF token), then asks its questions in one conversation (POST /api/chat, the SSE stream
read to the end), with 5 to 15 s between questions (reading, typing; --pause), arriving over
10 s (--ramp), ticks a roadmap milestone
(PUT /api/progress) and reads its progress and conversation back, which must hold exactly what
it wrote (no lost progress across worker processes). Reported per level: answers completed,
errors by HTTP status (429s are deliberate rate limiting and listed apart), time to first
token and answer time p50/p95, the server's peak RSS (all its processes together), and any
"database is locked" in the server log.

Rate limits are raised for the run through TUTOR_CHAT_RATE (one learner asks a few questions;
the limit is per learner per minute); any other TUTOR_* variable in the environment reaches the
server unchanged, so a deployment's own limits can be load-tested as they are. Only 127.0.0.1
is contacted; every learner's loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from web.bench_web import (  # noqa: E402
    QUESTIONS,
    free_port,
    group_pids,
    pct,
    start_server,
    stop_server,
)

MILESTONES = ["csm-m-run-10-qbrs", "csm-m-health-framework-adopted", "csm-m-strategic-upsell"]
FOLLOW_UPS = ["And in the US?", "How long would that take?", "What should I learn first?"]
# Every simulated learner comes from 127.0.0.1, so the per-address limits would be the only
# thing measured; lift them (and the per-learner ones) so that only deliberate 429s remain.
LIMITS = {
    "TUTOR_CHAT_RATE": "100000",
    "TUTOR_CHAT_RATE_PER_ADDRESS": "1000000",
    "TUTOR_WRITE_RATE": "100000",
    "TUTOR_WRITE_RATE_PER_ADDRESS": "1000000",
    "TUTOR_NEW_LEARNERS_PER_HOUR": "1000000",
}


class Failed(Exception):
    def __init__(self, status: int | str, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


async def learner(
    base: str, i: int, questions: int, pause: tuple[float, float], rng: random.Random
) -> dict[str, Any]:
    """One page's worth of traffic; returns timings or raises Failed."""
    out: dict[str, Any] = {"first_token": [], "answer": []}
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:

        async def check(r: httpx.Response) -> httpx.Response:
            if r.status_code >= 400:
                raise Failed(r.status_code, r.text[:200])
            return r

        await check(await c.get("/"))
        token = (await check(await c.get("/api/session"))).json()["csrf_token"]
        c.headers["X-CSRF-Token"] = token
        cid = None
        for t in range(questions):
            if t:
                await asyncio.sleep(rng.uniform(*pause))  # reading the answer
            q = QUESTIONS[(i + t) % len(QUESTIONS)] if t == 0 else FOLLOW_UPS[t % 3]
            body = {"message": q, "conversation_id": cid, "role": "customer-success-manager"}
            t0 = time.perf_counter()
            first = None
            events: dict[str, Any] = {}
            name = None
            async with c.stream("POST", "/api/chat", json=body) as r:
                if r.status_code != 200:
                    await r.aread()
                    raise Failed(r.status_code, r.text[:200])
                async for line in r.aiter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                        if name == "token" and first is None:
                            first = time.perf_counter() - t0
                    elif line.startswith("data:") and name and name != "token":
                        events[name] = json.loads(line[5:])
            if "answer" not in events:
                raise Failed("no-answer", str(events.get("error"))[:200])
            out["first_token"].append((first or 0.0) * 1000)
            out["answer"].append((time.perf_counter() - t0) * 1000)
            cid = events["meta"]["conversation_id"]
        milestone = MILESTONES[i % 3]
        await check(await c.put("/api/progress", json={"milestone_id": milestone, "state": "done"}))
        got = (await check(await c.get("/api/progress/customer-success-manager"))).json()
        if got["states"] != {milestone: "done"}:
            raise Failed("lost-progress", str(got["states"]))
        conv = (await check(await c.get(f"/api/conversations/{cid}"))).json()
        if len(conv["messages"]) != 2 * questions:
            raise Failed("lost-messages", f"{len(conv['messages'])} of {2 * questions}")
    return out


async def level(
    base: str, n: int, questions: int, pause: tuple[float, float], ramp: float
) -> dict[str, Any]:
    rng = random.Random(n)
    statuses: Counter[str] = Counter()
    firsts: list[float] = []
    answers: list[float] = []
    samples: list[str] = []

    async def one(i: int) -> None:
        await asyncio.sleep(rng.uniform(0, ramp))  # learners arrive over the ramp, not at once
        try:
            r = await learner(base, i, questions, pause, random.Random(i))
        except Failed as exc:
            statuses[str(exc.status)] += 1
            samples.append(str(exc))
            return
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1
            samples.append(repr(exc))
            return
        firsts.extend(r["first_token"])
        answers.extend(r["answer"])

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return {
        "learners": n,
        "answers": len(answers),
        "expected_answers": n * questions,
        "errors_by_status": dict(statuses),
        "errors": sum(v for k, v in statuses.items() if k != "429"),
        "deliberate_429": statuses.get("429", 0),
        "error_samples": samples[:3],
        "first_token_ms": {"p50": statistics.median(firsts), "p95": pct(firsts, 95)}
        if firsts
        else None,
        "answer_ms": {"p50": statistics.median(answers), "p95": pct(answers, 95)}
        if answers
        else None,
        "wall_s": round(time.perf_counter() - t0, 1),
    }


class RssSampler:
    """Peak resident memory of the server's whole process group (workers included)."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.peak_mb = pgid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> float:
        total = 0
        for pid in group_pids(self.pgid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
                0,
            )
        return total / 1024

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, self._rss())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak_mb, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, nargs="+", default=[20, 50, 100, 200])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--questions", type=int, default=2, help="questions per learner")
    # a learner reads the answer and types the next question: 5 to 15 s; --pause 1 4 --ramp 5
    # is a stress run (on 2 shared cores, 200 learners then wait up to 1.6 s for a first token)
    ap.add_argument(
        "--pause", type=float, nargs=2, default=[5.0, 15.0], help="between questions, s"
    )
    ap.add_argument("--ramp", type=float, default=10.0, help="arrivals spread over this many s")
    ap.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run this client on the last CPU and the server on the others, so that the "
        "server's latency is not the client's share of the CPU [default: on, with 2+ CPUs]",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    server_cpus: set[int] | None = None
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if args.pin and len(cpus) >= 2:
        # on 2 cores the 200-learner client takes most of one: unpinned, the server's first
        # token p95 was 0.7-2.9 s from run to run; pinned, 0.2-0.4 s
        server_cpus = set(cpus[:-1])
        os.sched_setaffinity(0, {cpus[-1]})
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        home, port = Path(tmp), free_port()
        proc = start_server(home, port, args.workers, env_extra=LIMITS, cpus=server_cpus)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(level(base, 5, 1, (0, 0), 0))  # warm-up: not counted
            for n in args.learners:
                sampler = RssSampler(proc.pid)
                row = asyncio.run(level(base, n, args.questions, tuple(args.pause), args.ramp))
                row["server_rss_mb"] = sampler.stop()
                rows.append(row)
                print(f"... {n} learners done", file=sys.stderr)
        finally:
            stop_server(proc)
        log = (home / "server.log").read_text(errors="replace")
    locked = log.count("database is locked")
    if any(r["errors"] for r in rows):  # what the server said about them
        notable = [
            line
            for line in log.splitlines()
            if any(w in line for w in ("Error", "error", "died", "Killed", "Traceback", "WARNING"))
        ]
        print("server log, notable lines (last 15):", *notable[-15:], sep="\n  ", file=sys.stderr)
    result = {
        "workers": args.workers,
        "server_cpus": sorted(server_cpus) if server_cpus else "all (shared with the client)",
        "questions_per_learner": args.questions,
        "limits_raised": LIMITS,
        "database_is_locked": locked,
        "load_average_1m": os.getloadavg()[0],
        "levels": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"tutor serve --workers {args.workers}, offline engine, {args.questions} questions "
            f"per learner, server CPUs: {result['server_cpus']}, limits raised: {LIMITS}"
        )
        print(
            f"{'learners':>8}{'answers':>9}{'errors':>8}{'429':>6}{'TTFT p50':>10}{'p95 ms':>8}"
            f"{'answer p50':>11}{'p95 ms':>8}{'RSS MB':>8}  errors by status"
        )
        for r in rows:
            ft, an = r["first_token_ms"] or {}, r["answer_ms"] or {}
            print(
                f"{r['learners']:>8}{r['answers']:>5}/{r['expected_answers']:<3}{r['errors']:>8}"
                f"{r['deliberate_429']:>6}{ft.get('p50', 0):>10.0f}{ft.get('p95', 0):>8.0f}"
                f"{an.get('p50', 0):>11.0f}{an.get('p95', 0):>8.0f}{r['server_rss_mb']:>8.0f}"
                f"  {r['errors_by_status'] or '-'}"
            )
            for s in r["error_samples"]:
                print(f"{'':>10}{s}")
        print(f'"database is locked" in the server log: {locked}')
        print(f"(load average {result['load_average_1m']:.2f} on {os.cpu_count()} CPUs)")
    worst = rows[-1] if rows else None
    ok = (
        worst is not None
        and all(r["errors"] == 0 for r in rows)
        and locked == 0
        and (worst["first_token_ms"] or {}).get("p95", 1e9) <= 1000
        and worst["server_rss_mb"] <= 1024
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
