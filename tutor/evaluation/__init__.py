"""Evaluation suites for grounded answers (issue #4): `tutor eval`.

- cases: the JSONL case schema (evals/README.md), loading and validation
- metrics: pure per-case metrics (case + Answer dict -> numbers) and their aggregation
- grounding: citation validity, the offline citation-support check, numeric fidelity
- runner: the cases through the real Tutor API, thresholds, baseline diff, exit code
- judge: the optional LLM-judge tier, cached by content hash
- reports: terminal table, Markdown/HTML, JUnit XML, RAGAS/DeepEval export
"""

from .cases import CATEGORIES, DEFAULT_SETS, EVALS_DIR, Case, EvalSetError, load_cases, parse_case
from .grounding import check_grounding, support, support_agreement
from .judge import Judge, judge_configured
from .metrics import CaseResult, evaluate_case, summarize
from .runner import (
    BASELINE_PATH,
    THRESHOLDS_PATH,
    EvalRun,
    RunnerError,
    Verdict,
    load_baseline,
    load_thresholds,
    run_eval,
    verdict,
    write_baseline,
)

__all__ = [
    "BASELINE_PATH",
    "CATEGORIES",
    "DEFAULT_SETS",
    "EVALS_DIR",
    "THRESHOLDS_PATH",
    "Case",
    "CaseResult",
    "EvalRun",
    "EvalSetError",
    "Judge",
    "RunnerError",
    "Verdict",
    "check_grounding",
    "evaluate_case",
    "judge_configured",
    "load_baseline",
    "load_cases",
    "load_thresholds",
    "parse_case",
    "run_eval",
    "summarize",
    "support",
    "support_agreement",
    "verdict",
    "write_baseline",
]
