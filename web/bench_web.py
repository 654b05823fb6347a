"""Measure the web app: time to first streamed token, page weight, 20 concurrent learners.

    python -m web.bench_web [--questions 40] [--learners 20] [--turns 3] [--json out.json]

Ingests the shipped corpus into a temporary TUTOR_HOME, starts ``tutor serve`` as a separate
process on 127.0.0.1 (so the client's threads do not share a GIL with the server) with the
offline engine, then:

1. time to first token: sequential questions, each from a fresh learner, timed from sending
   POST /api/chat to the first ``token`` event (target p50 <= 150 ms);
2. page weight: the HTML of ``/`` plus every static asset it loads, uncompressed (<= 100 KB);
3. concurrency: N learners at once, each asking a few questions in one conversation, ticking
   a milestone and reading the conversation back; every request must succeed (0 errors).

Only 127.0.0.1 is contacted, and every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tutor.settings import PROJECT_ROOT

QUESTIONS = [
    "How much does a CSM earn in Germany?",
    "How long does it take to become a Customer Success Manager?",
    "What skills does a Customer Success Manager need?",
    "What does a Customer Support Manager earn in the US?",
    "Which tools should a CSM learn?",
    "How is a Customer Success Manager different from a Customer Support Manager?",
    "What is a QBR?",
    "Is Customer Success a growing field?",
    "How do I move from support into customer success?",
    "What certifications help a Customer Support Manager?",
]
# Each measured question is asked once: no embedding-cache hits flatter the timing.
PREFIXES = ["", "Quick question: ", "I am curious, ", "Could you tell me: "]
WARM_UP = ["What does a CSM do?", "Customer support manager pay in India?", "What is NRR?"]
FOLLOW_UPS = ["And in the US?", "How long would that take?", "What should I learn first?"]
MILESTONES = ["csm-m-run-10-qbrs", "csm-m-health-framework-adopted", "csm-m-strategic-upsell"]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Learner:
    """One browser's worth of state: a cookie jar and its CSRF token."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60)
        token = self.client.get("/api/session").raise_for_status().json()["csrf_token"]
        self.client.headers["X-CSRF-Token"] = token

    def chat(self, message: str, **body: Any) -> dict[str, Any]:
        """Stream one answer; returns timings and the final events."""
        t0 = time.perf_counter()
        first_token = None
        events: dict[str, Any] = {}
        name = None
        with self.client.stream("POST", "/api/chat", json={"message": message, **body}) as r:
            if r.status_code != 200:
                r.read()
                raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
            for line in r.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                    if name == "token" and first_token is None:
                        first_token = time.perf_counter() - t0
                elif line.startswith("data:") and name and name != "token":
                    events[name] = json.loads(line[5:])
        total = time.perf_counter() - t0
        if "answer" not in events:
            raise RuntimeError(f"no answer event: {events.get('error')}")
        return {"first_token": first_token, "total": total, **events}

    def close(self) -> None:
        self.client.close()


def start_server(
    home: Path,
    port: int,
    workers: int = 1,
    env_extra: dict[str, str] | None = None,
    ingest: bool = True,
    cpus: set[int] | None = None,
) -> subprocess.Popen[bytes]:
    """`tutor serve` over ``home`` (after ingesting the shipped corpus into it), in its own
    process group; returns once /healthz answers."""
    env = {
        **os.environ,
        **(env_extra or {}),
        "TUTOR_HOME": str(home),
        "TUTOR_CORPUS": str(PROJECT_ROOT / "corpus"),
        "TUTOR_ENGINE": "offline",
        "OPENAI_API_KEY": "",
        "OPENAI_BASE_URL": "",
        # every simulated learner comes from 127.0.0.1: lift the per-address limits
        "TUTOR_CHAT_RATE_PER_ADDRESS": "100000",
        "TUTOR_WRITE_RATE_PER_ADDRESS": "100000",
        "TUTOR_NEW_LEARNERS_PER_HOUR": "100000",
    }
    env.pop("TUTOR_CHROMA_URL", None)
    cmd = [sys.executable, "-m", "tutor.cli"]
    if ingest:
        subprocess.run(
            [*cmd, "ingest"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # the load test keeps its own client off the server's cores (evals/bench_load.py --pin)
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {server_log(home)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    stop_server(proc)
    raise SystemExit("the server did not start in 180 s")


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group: `tutor serve` and its uvicorn workers."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group (uvicorn's workers too), then SIGKILL after 20 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def server_log(home: Path, lines: int = 12) -> str:
    """The first traceback in the server's log (or its last lines when there is none)."""
    path = home / "server.log"
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()
    first = next((i for i, line in enumerate(text) if line.startswith("Traceback")), None)
    if first is None:
        return "\n".join(text[-lines:])
    end = next(
        (i for i in range(first + 1, len(text)) if text[i] and not text[i].startswith(" ")),
        len(text) - 1,
    )  # the exception line closes the traceback: show its innermost frames
    return "\n".join([text[first - 1], *text[max(first, end - lines) : end + 1]])


def bench_first_token(base: str, n: int) -> dict[str, Any]:
    for q in WARM_UP:  # loads the model and the BM25 index paths: not counted
        w = Learner(base)
        w.chat(q)
        w.close()
    unique = [p + q[0].lower() + q[1:] if p else q for p in PREFIXES for q in QUESTIONS]
    firsts, totals = [], []
    for i in range(min(n, len(unique))):
        learner = Learner(base)
        try:
            r = learner.chat(unique[i])
        finally:
            learner.close()
        firsts.append(r["first_token"] * 1000)
        totals.append(r["total"] * 1000)
    return {
        "questions": len(firsts),
        "first_token_ms": {
            "p50": statistics.median(firsts),
            "p95": pct(firsts, 95),
            "max": max(firsts),
        },
        "full_answer_ms": {"p50": statistics.median(totals), "p95": pct(totals, 95)},
    }


def bench_page_weight(base: str) -> dict[str, Any]:
    with httpx.Client(base_url=base) as c:
        html = c.get("/").text
        sizes = {"/": len(html.encode())}
        for ref in sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))):
            r = c.get(ref)
            r.raise_for_status()
            sizes[ref.split("?")[0]] = len(r.content)
    return {"bytes": sizes, "total_bytes": sum(sizes.values())}


def bench_concurrency(base: str, learners: int, turns: int) -> dict[str, Any]:
    errors: list[str] = []
    latencies: list[float] = []
    firsts: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(learners)

    def run(i: int) -> None:
        try:
            learner = Learner(base)
        except Exception as exc:
            with lock:
                errors.append(f"learner {i}: session: {exc!r}")
            barrier.abort()
            return
        try:
            barrier.wait(timeout=60)
            cid = None
            for t in range(turns):
                q = (
                    QUESTIONS[(i + t) % len(QUESTIONS)]
                    if t == 0
                    else FOLLOW_UPS[(t - 1) % len(FOLLOW_UPS)]
                )
                r = learner.chat(q, conversation_id=cid, role="customer-success-manager")
                cid = r["meta"]["conversation_id"]
                with lock:
                    latencies.append(r["total"] * 1000)
                    firsts.append(r["first_token"] * 1000)
            c = learner.client
            c.put(
                "/api/progress", json={"milestone_id": MILESTONES[i % 3], "state": "done"}
            ).raise_for_status()
            p = c.get("/api/progress/customer-success-manager").raise_for_status().json()
            if p["states"] != {MILESTONES[i % 3]: "done"}:
                raise RuntimeError(f"progress leaked or lost: {p['states']}")
            conv = c.get(f"/api/conversations/{cid}").raise_for_status().json()
            if len(conv["messages"]) != 2 * turns:
                raise RuntimeError(f"{len(conv['messages'])} messages stored, expected {2 * turns}")
            if len(c.get("/api/conversations").raise_for_status().json()) != 1:
                raise RuntimeError("another learner's conversation is visible")
        except Exception as exc:
            with lock:
                errors.append(f"learner {i}: {exc!r}")
        finally:
            learner.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(learners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - t0
    return {
        "learners": learners,
        "turns_each": turns,
        "answers": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "wall_s": wall,
        "answer_ms": {"p50": statistics.median(latencies), "p95": pct(latencies, 95)}
        if latencies
        else None,
        "first_token_ms_under_load": {"p50": statistics.median(firsts), "p95": pct(firsts, 95)}
        if firsts
        else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--learners", type=int, default=20)
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="tutor-bench-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        print("ingesting the shipped corpus and starting the server…", flush=True)
        proc = start_server(Path(tmp), port)
        try:
            results: dict[str, Any] = {
                "first_token": bench_first_token(base, args.questions),
                "page_weight": bench_page_weight(base),
                "concurrency": bench_concurrency(base, args.learners, args.turns),
            }
            if results["concurrency"]["errors"]:
                print("server log (tail):\n" + server_log(Path(tmp)))
        finally:
            stop_server(proc)

    results["load_average_1m"] = os.getloadavg()[0]
    ft = results["first_token"]["first_token_ms"]
    pw = results["page_weight"]
    cc = results["concurrency"]
    print(
        f"time to first token p50  {ft['p50']:7.1f} ms  (p95 {ft['p95']:.1f}, max {ft['max']:.1f}; target <= 150)"
    )
    print(
        f"page HTML+CSS+JS         {pw['total_bytes'] / 1000:7.1f} KB  "
        + ", ".join(f"{k} {v / 1000:.1f}" for k, v in pw["bytes"].items())
        + "  (target <= 100)"
    )
    print(
        f"{cc['learners']} concurrent learners   {cc['errors']:7d} errors  "
        f"({cc['answers']} answers in {cc['wall_s']:.1f} s; answer p50 {cc['answer_ms']['p50']:.0f} ms, "
        f"p95 {cc['answer_ms']['p95']:.0f} ms)"
        if cc["answer_ms"]
        else f"{cc['learners']} concurrent learners: {cc['errors']} errors {cc['error_samples']}"
    )
    for e in cc["error_samples"]:
        print("  ", e)
    print(
        f"(load average {results['load_average_1m']:.2f} on {os.cpu_count()} CPUs: timings vary with it)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = ft["p50"] <= 150 and pw["total_bytes"] <= 100_000 and cc["errors"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
