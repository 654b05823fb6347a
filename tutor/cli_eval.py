"""`tutor eval`: run the eval suites through the real Tutor API and gate on evals/thresholds.toml.

Exit codes: 0 every threshold met, 1 a metric below its threshold, 2 the runner could not
produce trustworthy numbers (bad set or thresholds file, empty index, a case crashed).
The lead registers it with ``main.add_command(eval_command)``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .evaluation.cases import EvalSetError, load_cases
from .evaluation.judge import Judge, JudgeError, judge_configured
from .evaluation.reports import (
    export_rows,
    gold_contexts,
    junit,
    terminal,
    write_export,
    write_report,
)
from .evaluation.runner import (
    BASELINE_PATH,
    EXIT_ERROR,
    THRESHOLDS_PATH,
    RunnerError,
    load_baseline,
    load_thresholds,
    run_eval,
    verdict,
    write_baseline,
)


def make_tutor() -> Any:
    """The Tutor to evaluate; tests replace this to reuse an already-built index and model."""
    from .tutor import Tutor

    return Tutor.from_settings()


def _fail(message: str, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps({"error": "eval_runner", "message": message, "exit_code": EXIT_ERROR})
        )
    else:
        click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(EXIT_ERROR)


@click.command("eval")
@click.argument("sets", nargs=-1)
@click.option(
    "--category", "categories", multiple=True, help="Only cases of this category (repeatable)."
)
@click.option("--case", "case_ids", multiple=True, help="Only the case with this id (repeatable).")
@click.option(
    "-k",
    "k",
    type=click.IntRange(1, 50),
    default=None,
    help="Rank cut-off for retrieval metrics [thresholds.toml k].",
)
@click.option(
    "--thresholds",
    "thresholds_path",
    type=click.Path(path_type=Path),
    default=THRESHOLDS_PATH,
    show_default="evals/thresholds.toml",
    help="The committed gate.",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path),
    default=BASELINE_PATH,
    show_default="evals/baseline.json",
    help="Diff the run against this baseline.",
)
@click.option("--no-baseline", is_flag=True, help="Skip the baseline diff.")
@click.option("--update-baseline", is_flag=True, help="Rewrite the baseline file from this run.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the full result as JSON instead of the table."
)
@click.option(
    "--out-json", type=click.Path(path_type=Path), help="Also write the full JSON result here."
)
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    help="Write a Markdown (.md) or HTML (.html) report, failures first.",
)
@click.option(
    "--junit", "junit_path", type=click.Path(path_type=Path), help="Write JUnit XML here."
)
@click.option(
    "--export",
    "export",
    nargs=2,
    type=(click.Choice(["ragas", "deepeval"]), click.Path(path_type=Path)),
    default=None,
    metavar="ragas|deepeval FILE",
    help="Write cases and results as JSONL for RAGAS or DeepEval.",
)
@click.option(
    "--judge/--no-judge",
    "use_judge",
    default=None,
    help="LLM-judge tier [default: on when TUTOR_JUDGE_MODEL and an endpoint are set].",
)
@click.option(
    "--judge-repeats",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Judgments per answer and metric.",
)
def eval_command(
    sets: tuple[str, ...],
    categories: tuple[str, ...],
    case_ids: tuple[str, ...],
    k: int | None,
    thresholds_path: Path,
    baseline_path: Path,
    no_baseline: bool,
    update_baseline: bool,
    as_json: bool,
    out_json: Path | None,
    report: Path | None,
    junit_path: Path | None,
    export: tuple[str, Path] | None,
    use_judge: bool | None,
    judge_repeats: int,
) -> None:
    """Run the eval SETS (default: grounded, conversation, adversarial) and gate on thresholds.

    A SET is a name in evals/ or a path to a .jsonl file. Exit 0: pass; 1: below a threshold;
    2: runner error.
    """
    try:
        cases, used = load_cases(sets, categories, case_ids)
        thresholds = load_thresholds(thresholds_path)
        baseline = None if no_baseline else load_baseline(baseline_path)
    except (EvalSetError, RunnerError) as exc:
        _fail(str(exc), as_json)
    try:
        tutor = make_tutor()
        judge = None
        if use_judge or (use_judge is None and judge_configured(tutor.settings)):
            if not judge_configured(tutor.settings):
                raise JudgeError(
                    "--judge needs TUTOR_JUDGE_MODEL plus OPENAI_BASE_URL or OPENAI_API_KEY."
                )
            judge = Judge(tutor.settings, repeats=judge_repeats)
        show = not as_json and sys.stderr.isatty()

        def progress(i: int, n: int, result: Any) -> None:
            if show:
                click.echo(f"\r[{i}/{n}] {result.case.id:<24}", nl=False, err=True)

        run = run_eval(tutor, cases, sets=used, k=k or thresholds.k, judge=judge, progress=progress)
        if show:
            click.echo("\r" + " " * 40 + "\r", nl=False, err=True)
        v = verdict(run, thresholds, baseline)
        if export:
            fmt, path = export
            write_export(
                fmt, export_rows(fmt, run.results, gold_contexts(tutor, run.results)), path
            )
    except (EvalSetError, RunnerError, JudgeError) as exc:
        _fail(str(exc), as_json)
    except Exception as exc:  # IndexNotReady and any crash: no trustworthy numbers
        _fail(f"{type(exc).__name__}: {exc}", as_json)

    payload = v.to_dict()
    if out_json:
        out_json.write_text(
            json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    if report:
        write_report(v, report)
    if junit_path:
        junit_path.write_text(junit(v), encoding="utf-8")
    if update_baseline:
        write_baseline(run, baseline_path)
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        click.echo(terminal(v))
        if update_baseline:
            click.echo(f"Baseline written to {baseline_path}.")
        status = {0: "PASS", 1: "FAIL (below threshold)", 2: "ERROR"}[v.exit_code]
        click.echo(
            f"{len(run.results)} cases in {run.seconds:.1f} s: {status} (exit {v.exit_code})"
        )
        for reason in v.reasons if v.exit_code == EXIT_ERROR else []:
            click.echo(f"  {reason}", err=True)
    sys.exit(v.exit_code)
