"""The eval gate end to end: the full offline suite passes the committed thresholds, and the gate
really fails (exit 1) when grounding breaks, or errors (exit 2) when it cannot run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI, Reply

from tutor import cli_eval
from tutor.evaluation import load_cases, load_thresholds, run_eval, verdict
from tutor.evaluation.runner import EXIT_BELOW, EXIT_ERROR, EXIT_PASS, baseline_payload

pytestmark = pytest.mark.slow

GLASSDOOR_US = (
    "Glassdoor's June 2026 data (31,467 salaries) shows the middle half of US customer success "
    "managers earning a salary of $111,717–$193,527 a year, the 25th to 75th percentile."
)


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli_eval.eval_command, args, catch_exceptions=False)


def _failed_rules(v: Any) -> set[str]:
    return {f"{t['scope']}.{t['metric']}" for t in v.thresholds if t["passed"] is False}


def test_offline_suite_meets_committed_thresholds(shipped: Any) -> None:
    cases, used = load_cases()
    th = load_thresholds()
    run = run_eval(shipped, cases, sets=used, k=th.k)
    v = verdict(run, th)
    print(
        f"\n{len(cases)} cases in {run.seconds:.1f} s; overall: {json.dumps(run.summary['overall'])}"
    )
    assert not run.errors, [(r.case.id, r.error) for r in run.errors]
    assert v.exit_code == EXIT_PASS, v.reasons


def test_offline_runs_are_reproducible(shipped: Any) -> None:
    cases, used = load_cases(["conversation"])
    first = baseline_payload(run_eval(shipped, cases, sets=used))
    second = baseline_payload(run_eval(shipped, cases, sets=used))
    assert first == second


def test_gate_fails_when_a_key_fact_is_removed(
    copy_corpus: Path, make_tutor: Any, monkeypatch: Any
) -> None:
    guide = copy_corpus / "guides" / "csm-career-guide-2026.md"
    text = guide.read_text(encoding="utf-8")
    assert GLASSDOOR_US in text
    guide.write_text(text.replace(GLASSDOOR_US, ""), encoding="utf-8")
    t = make_tutor(copy_corpus)
    t.ingest()
    cases, used = load_cases(categories=("pay", "conflict"))
    v = verdict(run_eval(t, cases, sets=used), load_thresholds())
    assert v.exit_code == EXIT_BELOW
    assert {"conflict.fact_recall"} <= _failed_rules(v), v.reasons
    # the same through the command
    monkeypatch.setattr(cli_eval, "make_tutor", lambda: t)
    res = _invoke(["--category", "pay", "--category", "conflict", "--no-baseline"])
    assert res.exit_code == EXIT_BELOW, res.output
    assert "conflict.fact_recall" in res.output


def _sabotaged_failures(
    shipped: Any, monkeypatch: Any, edit: Any, categories: tuple[str, ...]
) -> tuple[set[str], set[str]]:
    """Rules failed by the intact engine and by the engine with `edit` applied to every answer."""
    cases, used = load_cases(categories=categories)
    th = load_thresholds()
    intact = verdict(run_eval(shipped, cases, sets=used), th)
    ask, nxt = shipped.ask, shipped.next_steps
    monkeypatch.setattr(shipped, "ask", lambda *a, **k: edit(ask(*a, **k).to_dict()))
    monkeypatch.setattr(shipped, "next_steps", lambda *a, **k: edit(nxt(*a, **k).to_dict()))
    broken = verdict(run_eval(shipped, cases, sets=used), th)
    assert intact.exit_code == EXIT_PASS, intact.reasons
    assert broken.exit_code == EXIT_BELOW
    return _failed_rules(intact), _failed_rules(broken)


def test_gate_fails_when_the_engine_adds_an_unsupported_number(
    shipped: Any, monkeypatch: Any
) -> None:
    def invent(d: dict[str, Any]) -> dict[str, Any]:
        if d["citations"]:
            d["answer"] += " Most newcomers earn $987,654 in their first year [1]."
        return d

    intact, broken = _sabotaged_failures(shipped, monkeypatch, invent, ("conflict",))
    assert not intact and {"overall.numeric_fidelity", "overall.citation_support"} <= broken, broken


def test_gate_fails_when_the_engine_drops_citations(shipped: Any, monkeypatch: Any) -> None:
    def strip(d: dict[str, Any]) -> dict[str, Any]:
        d["answer"] = re.sub(r"\s*\[\d+\]", "", d["answer"])
        return d

    intact, broken = _sabotaged_failures(shipped, monkeypatch, strip, ("conflict",))
    assert not intact and {"overall.citation_coverage", "overall.numeric_fidelity"} <= broken, (
        broken
    )


# --- the command ----------------------------------------------------------------------------------


def test_cli_reports_exports_and_baseline(shipped: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(cli_eval, "make_tutor", lambda: shipped)
    out, md, xml, ragas = (
        tmp_path / "r.json",
        tmp_path / "r.md",
        tmp_path / "j.xml",
        tmp_path / "ragas.jsonl",
    )
    res = _invoke(
        [
            "--category",
            "conflict",
            "--no-baseline",
            "--out-json",
            str(out),
            "--report",
            str(md),
            "--junit",
            str(xml),
            "--export",
            "ragas",
            str(ragas),
        ]
    )
    assert res.exit_code == EXIT_PASS, res.output
    assert re.search(r"13 cases in [\d.]+ s: PASS \(exit 0\)", res.output)
    data = json.loads(out.read_text())
    assert (
        data["exit_code"] == 0
        and len(data["cases"]) == 13
        and data["summary"]["overall"]["cases"] == 13
    )
    assert md.read_text().startswith("# Eval report") and "<testsuites" in xml.read_text()
    rows = [json.loads(x) for x in ragas.read_text().splitlines()]
    assert (
        len(rows) == 13
        and rows[0]["response"]
        and rows[0]["retrieved_contexts"]
        and rows[0]["reference_contexts"]
    )

    base, html, deep = tmp_path / "base.json", tmp_path / "r.html", tmp_path / "deep.jsonl"
    res = _invoke(
        [
            "--category",
            "conflict",
            "--baseline",
            str(base),
            "--update-baseline",
            "--report",
            str(html),
            "--export",
            "deepeval",
            str(deep),
            "--json",
        ]
    )
    assert res.exit_code == EXIT_PASS
    assert json.loads(res.output)["baseline_diff"] is None  # nothing to diff against yet
    assert html.read_text().startswith("<!doctype html>")
    assert set(json.loads(deep.read_text().splitlines()[0])) >= {
        "input",
        "actual_output",
        "expected_output",
        "retrieval_context",
        "context",
    }
    written = json.loads(base.read_text())
    assert sorted(written["cases"]) == sorted(c["id"] for c in data["cases"])
    res = _invoke(["--category", "conflict", "--baseline", str(base), "--json"])
    diff = json.loads(res.output)["baseline_diff"]
    assert diff["metrics"] == [] and diff["cases"]["regressed"] == [] and diff["same_sets"]


def test_cli_exit_2_on_a_bad_set_file(tmp_path: Path, monkeypatch: Any) -> None:
    def no_tutor() -> None:
        raise AssertionError("the set file is checked before the tutor is built")

    monkeypatch.setattr(cli_eval, "make_tutor", no_tutor)
    bad = tmp_path / "broken.jsonl"
    bad.write_text(
        '{"id": "b-1", "category": "pay", "question": "q?", "answerable": true}\n{oops\n'
    )
    res = _invoke([str(bad)])
    assert res.exit_code == EXIT_ERROR and "broken.jsonl:2" in res.output
    assert _invoke(["no-such-set"]).exit_code == EXIT_ERROR


def test_cli_exit_2_when_the_index_is_missing(make_tutor: Any, monkeypatch: Any) -> None:
    t = make_tutor()  # a fresh home, never ingested
    monkeypatch.setattr(cli_eval, "make_tutor", lambda: t)
    res = _invoke(["--category", "pay", "--json"])
    assert res.exit_code == EXIT_ERROR
    assert json.loads(res.output)["error"] == "eval_runner"


def test_judge_tier_against_fake_openai_and_its_cache(
    shipped: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(cli_eval, "make_tutor", lambda: shipped)
    assert (
        _invoke(["--category", "conflict", "--judge", "--no-baseline"]).exit_code == EXIT_ERROR
    )  # not configured
    with FakeOpenAI(default=Reply('{"score": 0.9, "reason": "supported"}')) as srv:
        srv.script(
            Reply('{"score": 0.5, "reason": "partly"}'), Reply('{"score": 0.7, "reason": "mostly"}')
        )
        judged = shipped.settings.model_copy(
            update={
                "judge_model": "fake-judge",
                "openai_base_url": srv.base_url,
                "openai_api_key": "test",
                "home": tmp_path / "judge-home",
            }
        )
        monkeypatch.setattr(shipped, "settings", judged)
        args = ["--category", "conflict", "--judge-repeats", "2", "--no-baseline", "--json"]
        first = json.loads(_invoke(args).output)
        calls = len(srv.requests_to("/chat/completions"))
        answered = sum(1 for c in first["cases"] if not c["abstained"])
        assert first["judge"]["requests"] == calls
        # 2 metrics x 2 repeats per answered case, less judgments whose prompt is identical to
        # one already asked (two questions with the same answer share a faithfulness verdict)
        assert answered * 2 <= calls <= answered * 2 * 2
        assert first["summary"]["overall"]["judge_faithfulness"] is not None
        assert first["summary"]["overall"]["judge_spread"] > 0  # the scripted 0.5/0.7 disagree
        one = next(c for c in first["cases"] if "judge" in c)
        assert len(one["judge"]["faithfulness"]["scores"]) == 2
        second = json.loads(_invoke(args).output)
        assert len(srv.requests_to("/chat/completions")) == calls  # a rerun is free
        assert second["judge"]["requests"] == 0 and second["judge"]["cache_hits"] >= calls
        assert second["summary"] == first["summary"]
        assert (tmp_path / "judge-home" / "judge-cache").is_dir()
