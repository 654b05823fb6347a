"""Run cases through the real Tutor API, then gate on thresholds and diff against a baseline."""

from __future__ import annotations

import json
import time
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TutorError
from .cases import CATEGORIES, EVALS_DIR, Case, EvalSetError
from .grounding import support_agreement
from .judge import Judge
from .metrics import LOWER_IS_BETTER, METRICS, CaseResult, evaluate_case, summarize

THRESHOLDS_PATH = EVALS_DIR / "thresholds.toml"
BASELINE_PATH = EVALS_DIR / "baseline.json"
DEFAULT_K = 5

EXIT_PASS, EXIT_BELOW, EXIT_ERROR = 0, 1, 2


class RunnerError(Exception):
    """The run cannot produce trustworthy numbers (exit code 2)."""


# --- running ----------------------------------------------------------------------------------


def _as_dict(answer: Any) -> dict[str, Any]:
    return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)


def answer_case(tutor: Any, case: Case, run_id: str) -> dict[str, Any]:
    """One case through the public API: progress in a fresh learner, earlier turns first.

    The learner is deleted afterwards, so runs leave nothing behind in TUTOR_HOME.
    """
    try:
        return _answer_case(tutor, case, run_id)
    finally:
        if case.needs_learner:
            tutor.delete_learner(f"eval-{run_id}-{case.id}"[:64])


def _answer_case(tutor: Any, case: Case, run_id: str) -> dict[str, Any]:
    learner = None
    if case.needs_learner:
        learner = f"eval-{run_id}-{case.id}"[:64]
        tutor.ensure_learner(learner)
        if case.hours_per_week:
            tutor.set_hours(learner, case.hours_per_week)
        for milestone, state in case.states.items():
            tutor.set_progress(learner, milestone, state)
    if case.call == "next_steps":
        return _as_dict(tutor.next_steps(learner, case.role))
    conversation = None
    if case.turns:
        conversation = tutor.new_conversation(learner, case.role)["id"]
        for turn in case.turns:
            tutor.ask(turn, role=case.role, learner_id=learner, conversation_id=conversation)
    return _as_dict(
        tutor.ask(case.question, role=case.role, learner_id=learner, conversation_id=conversation)
    )


def preflight(tutor: Any, cases: Sequence[Case]) -> None:
    """Stop before the first case when the index is empty or a case names an unknown role/milestone."""
    tutor.retriever.refresh()
    tutor.index.require_ready()  # raises IndexNotReady
    roles = {r["slug"] for r in tutor.roles()}
    for c in cases:
        if c.role and c.role not in roles:
            raise EvalSetError(
                f"{c.source}: unknown role '{c.role}' (known: {', '.join(sorted(roles))})"
            )
        if c.states:
            rm = tutor.roadmap(c.role)
            ids = {m["id"] for p in rm["phases"] for m in p["milestones"]}
            bad = sorted(set(c.states) - ids)
            if bad:
                raise EvalSetError(
                    f"{c.source}: milestone(s) not in the {c.role} roadmap: {', '.join(bad)}"
                )


@dataclass
class EvalRun:
    results: list[CaseResult]
    sets: list[str]
    k: int
    seconds: float
    support_check: dict[str, Any]
    judge: dict[str, Any] | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = summarize(self.results)

    @property
    def errors(self) -> list[CaseResult]:
        return [r for r in self.results if r.error is not None]


def run_eval(
    tutor: Any,
    cases: Sequence[Case],
    *,
    sets: Sequence[str] = (),
    k: int = DEFAULT_K,
    judge: Judge | None = None,
    progress: Callable[[int, int, CaseResult], None] | None = None,
) -> EvalRun:
    """Ask every case, score it, and (optionally) have the judge grade it."""
    started = time.perf_counter()
    preflight(tutor, cases)
    run_id = uuid.uuid4().hex[:8]
    results: list[CaseResult] = []
    for i, case in enumerate(cases, 1):
        try:
            answer = answer_case(tutor, case, run_id)
        except TutorError as exc:
            result = CaseResult(case, None, error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a crash in the engine is reported per case, then exit 2
            result = CaseResult(case, None, error=f"{type(exc).__name__}: {exc}")
        else:
            result = evaluate_case(case, answer, k)
            if judge is not None and not result.abstained:
                contexts = [str(p.get("text") or "") for p in answer.get("passages") or []][:k]
                result.judge = judge.judge(case.question, str(answer.get("answer") or ""), contexts)
        results.append(result)
        if progress:
            progress(i, len(cases), result)
    return EvalRun(
        results=results,
        sets=list(sets),
        k=k,
        seconds=round(time.perf_counter() - started, 2),
        support_check=support_agreement(),
        judge=judge.stats() if judge else None,
    )


# --- thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    scope: str  # "overall" or a category
    metric: str
    op: str  # "min" or "max"
    value: float


@dataclass
class Thresholds:
    k: int
    rules: list[Rule]
    path: str = ""


def load_thresholds(path: Path = THRESHOLDS_PATH) -> Thresholds:
    """evals/thresholds.toml: `k`, `[overall.min]`, `[overall.max]`, `[categories.<cat>.min]`..."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RunnerError(f"{path}: cannot read the thresholds ({exc})") from exc
    k = data.get("k", DEFAULT_K)
    if not isinstance(k, int) or k < 1:
        raise RunnerError(f"{path}: k must be a positive integer")
    rules: list[Rule] = []

    def take(scope: str, table: Any, where: str) -> None:
        if not isinstance(table, dict) or set(table) - {"min", "max"}:
            raise RunnerError(f"{path}: [{where}] may only hold 'min' and 'max' tables")
        for op in ("min", "max"):
            for metric, value in (table.get(op) or {}).items():
                if metric not in METRICS and metric != "errors":
                    raise RunnerError(f"{path}: unknown metric '{metric}' in [{where}.{op}]")
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise RunnerError(f"{path}: [{where}.{op}] {metric} must be a number")
                rules.append(Rule(scope, metric, op, float(value)))

    unknown = set(data) - {"k", "overall", "categories"}
    if unknown:
        raise RunnerError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    if "overall" in data:
        take("overall", data["overall"], "overall")
    for cat, table in (data.get("categories") or {}).items():
        if cat not in CATEGORIES:
            raise RunnerError(f"{path}: unknown category '{cat}'")
        take(cat, table, f"categories.{cat}")
    return Thresholds(k, rules, str(path))


def check_thresholds(summary: dict[str, Any], thresholds: Thresholds) -> list[dict[str, Any]]:
    """One row per rule; a metric with no applicable cases in this run is skipped, not failed."""
    rows = []
    for r in thresholds.rules:
        scope = summary["overall"] if r.scope == "overall" else summary["categories"].get(r.scope)
        value = None if scope is None else scope.get(r.metric)
        if value is None:
            rows.append({**r.__dict__, "actual": None, "passed": None})
            continue
        ok = value >= r.value - 1e-9 if r.op == "min" else value <= r.value + 1e-9
        rows.append({**r.__dict__, "actual": value, "passed": ok})
    return rows


# --- baseline ---------------------------------------------------------------------------------


def _offline_metrics(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if not k.startswith("judge_")}


def baseline_payload(run: EvalRun) -> dict[str, Any]:
    """What --update-baseline writes: deterministic (no times, no ids that change per run)."""
    return {
        "version": 1,
        "k": run.k,
        "sets": run.sets,
        "summary": {
            "overall": _offline_metrics(run.summary["overall"]),
            "categories": {c: _offline_metrics(m) for c, m in run.summary["categories"].items()},
        },
        "cases": {
            r.case.id: {
                "category": r.case.category,
                "passed": r.passed,
                "failed": r.failed,
                "metrics": {k: v for k, v in r.to_dict(evidence=False)["metrics"].items()},
            }
            for r in run.results
        },
    }


def load_baseline(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunnerError(f"{path}: cannot read the baseline ({exc})") from exc
    if not isinstance(data, dict) or data.get("version") != 1:
        raise RunnerError(f"{path}: not a version-1 eval baseline")
    return data


def write_baseline(run: EvalRun, path: Path) -> None:
    path.write_text(
        json.dumps(baseline_payload(run), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


def diff_baseline(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Metrics and cases that moved; direction-aware (a lower forbidden-claim rate is better)."""
    metrics = []
    scopes = [("overall", current["summary"]["overall"], baseline["summary"].get("overall", {}))]
    for cat, m in current["summary"]["categories"].items():
        scopes.append((cat, m, baseline["summary"].get("categories", {}).get(cat, {})))
    for scope, cur, base in scopes:
        for key in [*METRICS, "errors"]:
            a, b = base.get(key), cur.get(key)
            if a is None or b is None or abs(a - b) < 1e-4:
                continue
            better = (b < a) if key in LOWER_IS_BETTER else (b > a)
            metrics.append(
                {
                    "scope": scope,
                    "metric": key,
                    "baseline": a,
                    "current": b,
                    "delta": round(b - a, 4),
                    "change": "improved" if better else "regressed",
                }
            )
    cur_cases, base_cases = current["cases"], baseline.get("cases", {})
    regressed = sorted(
        c
        for c in cur_cases
        if c in base_cases and base_cases[c]["passed"] and not cur_cases[c]["passed"]
    )
    improved = sorted(
        c
        for c in cur_cases
        if c in base_cases and not base_cases[c]["passed"] and cur_cases[c]["passed"]
    )
    return {
        "metrics": metrics,
        "regressed_metrics": sum(1 for m in metrics if m["change"] == "regressed"),
        "improved_metrics": sum(1 for m in metrics if m["change"] == "improved"),
        "cases": {
            "regressed": regressed,
            "improved": improved,
            "new": sorted(set(cur_cases) - set(base_cases)),
            "missing": sorted(set(base_cases) - set(cur_cases)),
        },
        "same_sets": sorted(current.get("sets", [])) == sorted(baseline.get("sets", [])),
    }


# --- the verdict ------------------------------------------------------------------------------


@dataclass
class Verdict:
    run: EvalRun
    thresholds: list[dict[str, Any]]
    baseline: dict[str, Any] | None
    exit_code: int
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        r = self.run
        return {
            "version": 1,
            "exit_code": self.exit_code,
            "reasons": self.reasons,
            "k": r.k,
            "sets": r.sets,
            "summary": r.summary,
            "thresholds": self.thresholds,
            "baseline_diff": self.baseline,
            "support_check": r.support_check,
            "judge": r.judge,
            "cases": [c.to_dict() for c in r.results],
            "timing": {"seconds": r.seconds},
        }


def verdict(
    run: EvalRun, thresholds: Thresholds, baseline: dict[str, Any] | None = None
) -> Verdict:
    rows = check_thresholds(run.summary, thresholds)
    diff = diff_baseline(baseline_payload(run), baseline) if baseline else None
    reasons = []
    code = EXIT_PASS
    below = [r for r in rows if r["passed"] is False]
    if below:
        code = EXIT_BELOW
        reasons += [
            f"{r['scope']} {r['metric']} = {r['actual']} ({'<' if r['op'] == 'min' else '>'} {r['value']})"
            for r in below
        ]
    if run.errors:
        code = EXIT_ERROR
        reasons.append(
            f"{len(run.errors)} case(s) crashed: " + ", ".join(r.case.id for r in run.errors[:5])
        )
    if (
        run.judge
        and run.judge["failures"]
        and not any(r.judge and r.judge["faithfulness"]["n"] for r in run.results)
    ):
        code = EXIT_ERROR
        reasons.append(
            "the judge tier failed on every request: " + "; ".join(run.judge["errors"][:2])
        )
    return Verdict(run, rows, diff, code, reasons)
