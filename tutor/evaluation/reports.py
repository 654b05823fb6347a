"""Reports: a terminal table, Markdown/HTML (failures first, with evidence), JUnit XML, exports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .metrics import CaseResult
from .runner import Verdict

# (summary key, column label, format)
COLUMNS = [
    ("cases", "n", "d"),
    ("pass_rate", "pass", "p"),
    ("hit_at_k", "hit@k", "f"),
    ("mrr", "MRR", "f"),
    ("ndcg_at_k", "nDCG", "f"),
    ("fact_recall", "facts", "f"),
    ("forbidden_claim_rate", "forbid", "f"),
    ("abstention_precision", "absP", "f"),
    ("abstention_recall", "absR", "f"),
    ("citation_valid_rate", "citeOK", "f"),
    ("citation_support", "support", "f"),
    ("numeric_fidelity", "nums", "f"),
]
JUDGE_COLUMNS = [
    ("judge_faithfulness", "jFaith", "f"),
    ("judge_relevance", "jRel", "f"),
    ("judge_spread", "jSD", "f"),
]


def _fmt(v: Any, kind: str) -> str:
    if v is None:
        return "–"
    if kind == "d":
        return str(v)
    if kind == "p":
        return f"{100 * v:.0f}%"
    return f"{v:.2f}"


def _columns(v: Verdict) -> list[tuple[str, str, str]]:
    return COLUMNS + (JUDGE_COLUMNS if v.run.judge else [])


def _rows(v: Verdict) -> list[tuple[str, dict[str, Any]]]:
    s = v.run.summary
    return [*s["categories"].items(), ("overall", s["overall"])]


def terminal(v: Verdict, max_failures: int = 15) -> str:
    cols = _columns(v)
    header = ["scope", *(c[1] for c in cols)]
    body = [[name, *(_fmt(m.get(k), f) for k, _, f in cols)] for name, m in _rows(v)]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)
        )

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body[:-1]]
    out += ["  ".join("-" * w for w in widths), line(body[-1])]
    sc = v.run.support_check
    out.append("")
    out.append(
        f"Support check vs {sc['n']} hand labels: accuracy {_fmt(sc['accuracy'], 'f')}, "
        f"Cohen's kappa {_fmt(sc['kappa'], 'f')}"
    )
    if v.run.judge:
        j = v.run.judge
        out.append(
            f"Judge {j['model']} x{j['repeats']}: {j['requests']} requests, {j['cache_hits']} cached, "
            f"{j['failures']} failed"
        )
    failing = [r for r in v.run.results if not r.passed]
    if failing:
        out.append("")
        out.append(f"Failing cases ({len(failing)}):")
        w = max(len(r.case.id) for r in failing[:max_failures])
        for r in failing[:max_failures]:
            why = r.error or ", ".join(r.failed)
            out.append(f"  {r.case.id:<{w}}  {r.case.category:<13} {why}")
        if len(failing) > max_failures:
            out.append(f"  ... and {len(failing) - max_failures} more (see --report)")
    below = [t for t in v.thresholds if t["passed"] is False]
    out.append("")
    checked = sum(1 for t in v.thresholds if t["passed"] is not None)
    if below:
        out.append(f"Below threshold ({len(below)} of {checked} checked):")
        out += [
            f"  {t['scope']}.{t['metric']} = {t['actual']:.4f} (needs {'>=' if t['op'] == 'min' else '<='} {t['value']})"
            for t in below
        ]
    else:
        out.append(f"All {checked} thresholds met.")
    if v.baseline:
        d = v.baseline
        out.append(
            f"Against the baseline: {d['improved_metrics']} metric(s) improved, {d['regressed_metrics']} regressed; "
            f"cases improved {len(d['cases']['improved'])}, regressed {len(d['cases']['regressed'])}"
            + ("" if d["same_sets"] else " (the baseline ran other sets)")
        )
        for m in [m for m in d["metrics"] if m["change"] == "regressed"][:10]:
            out.append(f"  regressed {m['scope']}.{m['metric']}: {m['baseline']} -> {m['current']}")
        if d["cases"]["regressed"]:
            out.append("  regressed cases: " + ", ".join(d["cases"]["regressed"][:20]))
        if d["cases"]["improved"]:
            out.append("  improved cases: " + ", ".join(d["cases"]["improved"][:20]))
    return "\n".join(out)


# --- Markdown / HTML -----------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _quote(text: str, limit: int = 700) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "> " + text


def _case_md(r: CaseResult) -> list[str]:
    c = r.case
    status = "PASS" if r.passed else "FAIL"
    out = [f"### {status} `{c.id}` ({c.category})", ""]
    out.append(f"- **Question:** {c.question}")
    if c.turns:
        out.append("- **Earlier turns:** " + " / ".join(c.turns))
    if c.states or c.hours_per_week:
        out.append(f"- **Progress:** {json.dumps(c.states)}; hours/week: {c.hours_per_week}")
    out.append(f"- **Role:** {c.role or '(none)'} · **answerable:** {c.answerable}")
    if r.error:
        out += [f"- **Error:** `{r.error}`", ""]
        return out
    out.append(f"- **Failed checks:** {', '.join(r.failed) or 'none'}")
    if r.facts_missing:
        out.append(
            "- **Missing facts:** "
            + "; ".join(
                f"{f.fact} (any of {', '.join(repr(x) for x in f.variants)})"
                for f in c.facts
                if f.fact in r.facts_missing
            )
        )
    for h in r.forbidden:
        out.append(
            f"- **Forbidden claim** {h['claim']} matched `{h['match']}`"
            + (f": {h['why']}" if h["why"] else "")
        )
    if r.retrieval:
        rt = r.retrieval
        out.append(
            f"- **Retrieval:** hit {rt['hit']:.0f}, MRR {rt['mrr']:.2f}, nDCG {rt['ndcg']:.2f}; gold: "
            + "; ".join(f"{g} › {h}" for g, h in c.gold)
        )
    ans = r.answer or {}
    out.append(f"- **Abstained:** {bool(ans.get('abstained'))} · **intent:** {ans.get('intent')}")
    lines = [x.strip() for x in str(ans.get("answer") or "(empty)").split("\n") if x.strip()]
    out += ["", "**Answer:**", "", "\n>\n".join(_quote(x, 1200) for x in lines), ""]
    if r.grounding:
        bad = [s for s in r.grounding.sentences if s.failed]
        good = [s for s in r.grounding.sentences if not s.failed]
        for s in [*bad, *good]:
            if not s.failed and r.passed:
                continue
            mark = "✗" if s.failed else "✓"
            out.append(f"- {mark} *{_md_escape(s.text)}*")
            if s.failed:
                out.append(
                    f"  - failed: {', '.join(s.failed)}"
                    + (f" {json.dumps(s.detail, ensure_ascii=False)}" if s.detail else "")
                )
            if s.unfaithful_numbers:
                out.append(f"  - numbers in no cited passage: {s.unfaithful_numbers}")
            for e in s.evidence:
                out.append(f"  - [{e['n']}] {e['guide'] or e['kind']} › {e['heading']}")
                if s.failed:
                    out.append("    " + _quote(e["text"], 600))
            if s.invalid_markers:
                out.append(f"  - markers pointing at no retrieved passage: {s.invalid_markers}")
        out.append("")
    return out


def markdown(v: Verdict) -> str:
    run = v.run
    cols = _columns(v)
    out = ["# Eval report", ""]
    out.append(
        f"Sets: {', '.join(run.sets) or '(custom)'} · {len(run.results)} cases · k = {run.k} · "
        f"exit code {v.exit_code} · {run.seconds:.1f} s"
    )
    if v.reasons:
        out += ["", "**Why it did not pass:**", ""] + [f"- {x}" for x in v.reasons]
    out += ["", "## Scores", ""]
    out.append("| scope | " + " | ".join(c[1] for c in cols) + " |")
    out.append("|---|" + "---:|" * len(cols))
    for name, m in _rows(v):
        out.append(f"| {name} | " + " | ".join(_fmt(m.get(k), f) for k, _, f in cols) + " |")
    sc = run.support_check
    out += [
        "",
        f"Support check against {sc['n']} hand-labelled pairs (evals/support_labels.jsonl): "
        f"accuracy {_fmt(sc['accuracy'], 'f')}, Cohen's kappa {_fmt(sc['kappa'], 'f')}, "
        f"precision {_fmt(sc['precision'], 'f')}, recall {_fmt(sc['recall'], 'f')}.",
    ]
    out += [
        "",
        "## Thresholds",
        "",
        "| scope | metric | rule | actual | result |",
        "|---|---|---|---:|---|",
    ]
    for t in sorted(
        v.thresholds, key=lambda t: (t["passed"] is not False, t["scope"], t["metric"])
    ):
        res = {True: "pass", False: "**FAIL**", None: "n/a"}[t["passed"]]
        rule = f"{'≥' if t['op'] == 'min' else '≤'} {t['value']}"
        out.append(f"| {t['scope']} | {t['metric']} | {rule} | {_fmt(t['actual'], 'f')} | {res} |")
    if v.baseline:
        d = v.baseline
        out += ["", "## Against the baseline", ""]
        if not d["same_sets"]:
            out.append(
                "_The baseline was made from other sets; overall numbers are not comparable._\n"
            )
        if d["metrics"]:
            out += ["| scope | metric | baseline | now | change |", "|---|---|---:|---:|---|"]
            for m in d["metrics"]:
                out.append(
                    f"| {m['scope']} | {m['metric']} | {m['baseline']} | {m['current']} | {m['change']} ({m['delta']:+}) |"
                )
        else:
            out.append("No metric moved.")
        for kind in ("regressed", "improved", "new", "missing"):
            if d["cases"][kind]:
                out.append(
                    f"\n{kind.capitalize()} cases: " + ", ".join(f"`{c}`" for c in d["cases"][kind])
                )
    if run.judge:
        j = run.judge
        out += [
            "",
            "## Judge",
            "",
            f"Model `{j['model']}`, {j['repeats']} repeats: {j['requests']} requests, "
            f"{j['cache_hits']} from the cache, {j['failures']} failures.",
        ]
    failing = [r for r in run.results if not r.passed]
    passing = [r for r in run.results if r.passed]
    out += ["", f"## Failing cases ({len(failing)})", ""]
    for r in failing:
        out += _case_md(r)
    out += ["", f"## Passing cases ({len(passing)})", ""]
    for r in passing:
        m = r.metrics()
        out.append(
            f"- `{r.case.id}` ({r.case.category}): facts {_fmt(m['fact_recall'], 'f')}, "
            f"support {_fmt(m['citation_support'], 'f')}, MRR {_fmt(m['mrr'], 'f')}"
        )
    return "\n".join(out) + "\n"


def html(v: Verdict) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown(v))
    style = (
        "body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
        "blockquote{color:#444;border-left:3px solid #ccc;margin:.3rem 0;padding-left:.6rem}"
    )
    return f'<!doctype html><html><head><meta charset="utf-8"><title>Eval report</title><style>{style}</style></head><body>{body}</body></html>\n'


def write_report(v: Verdict, path: Path) -> None:
    text = html(v) if path.suffix.lower() in (".html", ".htm") else markdown(v)
    path.write_text(text, encoding="utf-8")


# --- JUnit ----------------------------------------------------------------------------------------


def junit(v: Verdict) -> str:
    run = v.run
    root = ET.Element("testsuites", name="tutor-eval", time=f"{run.seconds:.2f}")
    cats: dict[str, list[CaseResult]] = {}
    for r in run.results:
        cats.setdefault(r.case.category, []).append(r)
    for cat, rs in cats.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"eval.{cat}",
            tests=str(len(rs)),
            failures=str(sum(1 for r in rs if not r.passed and not r.error)),
            errors=str(sum(1 for r in rs if r.error)),
        )
        for r in rs:
            tc = ET.SubElement(suite, "testcase", classname=f"eval.{cat}", name=r.case.id)
            if r.error:
                ET.SubElement(tc, "error", message=r.error).text = r.error
            elif not r.passed:
                detail = [
                    f"question: {r.case.question}",
                    f"answer: {(r.answer or {}).get('answer')}",
                ]
                if r.facts_missing:
                    detail.append("missing facts: " + "; ".join(r.facts_missing))
                detail += [f"forbidden: {h['claim']} matched {h['match']!r}" for h in r.forbidden]
                if r.grounding:
                    detail += [
                        f"sentence: {s.text} -> {', '.join(s.failed)}"
                        for s in r.grounding.sentences
                        if s.failed
                    ]
                ET.SubElement(tc, "failure", message=", ".join(r.failed)).text = "\n".join(detail)
    rows = v.thresholds
    suite = ET.SubElement(
        root,
        "testsuite",
        name="eval.thresholds",
        tests=str(len(rows)),
        failures=str(sum(1 for t in rows if t["passed"] is False)),
        errors="0",
        skipped=str(sum(1 for t in rows if t["passed"] is None)),
    )
    for t in rows:
        tc = ET.SubElement(
            suite,
            "testcase",
            classname="eval.thresholds",
            name=f"{t['scope']}.{t['metric']}.{t['op']}",
        )
        if t["passed"] is None:
            ET.SubElement(tc, "skipped", message="no applicable cases in this run")
        elif not t["passed"]:
            msg = f"{t['actual']} {'<' if t['op'] == 'min' else '>'} {t['value']}"
            ET.SubElement(tc, "failure", message=msg).text = msg
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- exports --------------------------------------------------------------------------------------


def gold_contexts(tutor: Any, results: Iterable[CaseResult]) -> dict[tuple[str, str], list[str]]:
    """Text of each gold section, from the live index (all its chunks, in order)."""
    wanted = {g for r in results for g in r.case.gold}
    out: dict[tuple[str, str], list[str]] = {}
    for c in sorted(tutor.retriever.chunks, key=lambda c: (c.guide, c.position)):
        key = (c.guide, c.heading)
        if key in wanted:
            out.setdefault(key, []).append(c.text)
    return out


def export_rows(
    fmt: str, results: Iterable[CaseResult], gold: dict[tuple[str, str], list[str]]
) -> list[dict[str, Any]]:
    """RAGAS (SingleTurnSample) or DeepEval (LLMTestCase) field names, one row per answered case."""
    rows: list[dict[str, Any]] = []
    for r in results:
        if r.answer is None:
            continue
        ctx = [str(p.get("text") or "") for p in r.answer.get("passages") or []]
        ref_ctx = [t for g in r.case.gold for t in gold.get(g, [])]
        response = str(r.answer.get("answer") or "")
        reference = r.case.reference_answer()
        if fmt == "ragas":
            rows.append(
                {
                    "user_input": r.case.question,
                    "retrieved_contexts": ctx,
                    "reference_contexts": ref_ctx,
                    "response": response,
                    "reference": reference,
                }
            )
        elif fmt == "deepeval":
            rows.append(
                {
                    "input": r.case.question,
                    "actual_output": response,
                    "expected_output": reference,
                    "retrieval_context": ctx,
                    "context": ref_ctx,
                    "name": r.case.id,
                    "additional_metadata": {
                        "category": r.case.category,
                        "answerable": r.case.answerable,
                    },
                }
            )
        else:
            raise ValueError(f"unknown export format {fmt!r}")
    return rows


def write_export(fmt: str, rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
