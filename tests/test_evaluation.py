"""Unit tests for the eval metrics, on hand-made answers: no model, no index."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings

from tutor.evaluation.cases import CATEGORIES, EvalSetError, load_cases, load_set, parse_case
from tutor.evaluation.grounding import (
    Evidence,
    check_grounding,
    cohen_kappa,
    contains,
    normalize,
    sentences,
    support,
    support_agreement,
)
from tutor.evaluation.judge import Judge, parse_score
from tutor.evaluation.metrics import (
    CaseResult,
    aggregate,
    evaluate_case,
    fact_matches,
    forbidden_hits,
    hit_at_k,
    mrr,
    ndcg_at_k,
    recall_at_k,
    relevance,
    retrieval_metrics,
)
from tutor.evaluation.reports import export_rows, junit, markdown, terminal
from tutor.evaluation.runner import (
    BASELINE_PATH,
    EXIT_BELOW,
    EXIT_ERROR,
    EXIT_PASS,
    EvalRun,
    RunnerError,
    Thresholds,
    baseline_payload,
    check_thresholds,
    diff_baseline,
    load_baseline,
    load_thresholds,
    verdict,
)
from tutor.settings import PROJECT_ROOT

EVALS = PROJECT_ROOT / "evals"
CORPUS = PROJECT_ROOT / "corpus"

US_G1 = (
    "The GTM career path page puts mid-level Customer Success Manager pay in the United States at $110k a year. "
    "The GTM career path page gives no separate entry-level or senior US pay numbers for the Customer Success "
    "Manager role."
)
US_G2 = (
    "According to Glassdoor (June 2026, 31,467 salaries), a US Customer Success Manager typically earns "
    "$111,717 to $193,527 a year, the 25th to 75th percentile."
)
INDIA = (
    "This GTM career path page puts mid-level Customer Success Manager pay in India at ₹22L a year. "
    "The GTM career path page gives no entry-level or senior India pay numbers for the Customer Success Manager role."
)


def passage(pid: str, guide: str, heading: str, text: str) -> dict[str, Any]:
    return {
        "id": pid,
        "guide": guide,
        "heading": heading,
        "text": text,
        "role": "customer-success-manager",
    }


def cite(n: int, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "n": n,
        "guide": p["guide"],
        "heading": p["heading"],
        "text": p["text"],
        "chunk_id": p["id"],
        "kind": "guide",
    }


P1 = passage("c1", "csm-gtm-career-path", "Pay in the United States", US_G1)
P2 = passage("c2", "csm-career-guide-2026", "Pay in the United States", US_G2)
P3 = passage("c3", "csm-gtm-career-path", "Pay in India", INDIA)


def answer(
    text: str, cites: list[dict[str, Any]], passages: list[dict[str, Any]], abstained: bool = False
) -> dict[str, Any]:
    return {
        "answer": text,
        "citations": cites,
        "passages": passages,
        "abstained": abstained,
        "engine": "offline",
    }


def mkcase(**kw: Any) -> Any:
    base = {
        "id": "t-1",
        "category": "pay",
        "question": "q?",
        "role": "customer-success-manager",
        "answerable": True,
    }
    base.update(kw)
    return parse_case(base)


# --- retrieval ---------------------------------------------------------------------------------


def test_retrieval_metrics_known_values() -> None:
    assert mrr([0, 0, 0]) == 0.0  # a miss
    assert hit_at_k([0, 0, 0]) == 0.0
    assert ndcg_at_k([1, 1], 2, 5) == pytest.approx(1.0)  # perfect ranking
    assert mrr([0, 1, 0]) == 0.5
    assert ndcg_at_k([0, 1, 0], 1, 5) == pytest.approx(1 / math.log2(3))
    assert recall_at_k([1, 0, 0], 2) == 0.5
    # two gold sections, found at ranks 1 and 3: DCG = 1 + 1/2, IDCG = 1 + 1/log2(3)
    assert ndcg_at_k([1, 0, 1], 2, 5) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))


def test_relevance_matches_guide_and_heading_and_counts_a_section_once() -> None:
    ps = [P2, P1, P1, P3]
    gold = [("csm-gtm-career-path", "Pay in the United States")]
    assert relevance(ps, gold, 5) == [0, 1, 0, 0]
    assert relevance(ps, gold, 1) == [0]
    m = retrieval_metrics(ps, gold, 5)
    assert m is not None and m["mrr"] == 0.5 and m["ranks"] == [2]
    assert retrieval_metrics(ps, [], 5) is None  # no gold: not scored
    # the same heading in another guide is not a match
    assert relevance([P2], gold, 5) == [0]


# --- facts and forbidden claims -----------------------------------------------------------------


def test_fact_variants_dashes_boundaries_and_plurals() -> None:
    case = mkcase(
        facts=[
            {"fact": "range", "variants": ["3-9 months"]},
            {"fact": "chatbot", "variants": ["Ada"]},
            {"fact": "figure", "variants": ["$111,717", "111,717"]},
            {"fact": "qbr", "variants": ["QBR"]},
        ]
    )
    found, missing = fact_matches(case, "Expect 3–9 months [1]. Run QBRs. Pay is $111,717 [2].")
    assert found == ["range", "figure", "qbr"] and missing == ["chatbot"]
    # "Ada" must not match inside "Canada"
    assert not contains(normalize("pay in Canada"), "Ada")
    assert contains(normalize("3 - 9 months"), "3–9 months")


def test_forbidden_text_and_regex_with_negation_guard() -> None:
    neg = r"(?:(?!\b(?:no|not|nothing|only|don't|doesn't|isn't|without)\b)[^.;\n])"
    case = mkcase(
        forbidden=[
            {"text": "$1M"},
            {
                "regex": r"entry[- ]level" + neg + r"{0,60}?₹\s?\d",
                "why": "no entry-level India pay",
            },
        ]
    )
    assert (
        forbidden_hits(
            case, "My guides give no entry-level figure in India. Mid-level pay is ₹22L [1]."
        )
        == []
    )
    hits = forbidden_hits(case, "Entry-level CSMs in India earn ₹22L [1]. Some say $1M.")
    assert [h["claim"] for h in hits] == ["'$1M'", "/" + case.forbidden[1].pattern + "/"]


# --- citations, support, numeric fidelity --------------------------------------------------------


def test_grounded_answer_passes_every_check() -> None:
    text = "The GTM page puts mid-level US pay at $110k a year [1]. Glassdoor gives $111,717 to $193,527 [2]."
    g = check_grounding(answer(text, [cite(1, P1), cite(2, P2)], [P1, P2]))
    assert (g.coverage, g.validity, g.support_rate, g.fidelity) == (1.0, 1.0, 1.0, 1.0)
    assert g.numbers == 3  # 110000, 111717, 193527


def test_uncited_claim_and_dangling_marker_break_citation_validity() -> None:
    text = "The GTM page puts mid-level US pay at $110k a year [1]. Senior CSMs earn a lot. Glassdoor says $111,717 [3]."
    g = check_grounding(
        answer(text, [cite(1, P1), {**cite(3, P2), "chunk_id": "not-retrieved"}], [P1])
    )
    assert g.claims == 3 and g.cited_claims == 2
    assert g.markers == 2 and g.valid_markers == 1
    failed = {s.text: s.failed for s in g.sentences}
    assert "no_citation" in failed["Senior CSMs earn a lot."]
    assert "invalid_citation" in failed["Glassdoor says $111,717."]
    assert (
        g.faithful_numbers == 1 and g.numbers == 2
    )  # $111,717 is in no passage it (validly) cites


def test_unsupported_number_is_caught_by_support_and_fidelity() -> None:
    text = "The GTM page puts mid-level US pay at $125k a year [1]."
    g = check_grounding(answer(text, [cite(1, P1)], [P1]))
    assert g.support_rate == 0.0 and g.fidelity == 0.0
    assert "support:numbers" in g.sentences[0].failed and "numeric" in g.sentences[0].failed


def test_same_value_written_differently_is_faithful() -> None:
    g = check_grounding(
        answer("Mid-level CSMs in the United States earn $110,000 a year [1].", [cite(1, P1)], [P1])
    )
    assert g.fidelity == 1.0 and g.support_rate == 1.0
    g = check_grounding(
        answer("In India a mid-level CSM earns 22 lakh a year [1].", [cite(1, P3)], [P3])
    )
    assert g.fidelity == 1.0


def test_abstention_framing_and_hints_need_no_citation() -> None:
    g = check_grounding(
        answer("My guides don't cover that. They cover pay and tools.", [], [], abstained=True)
    )
    assert g.claims == 0 and g.coverage is None
    s = sentences("Set your own weekly hours for a personal estimate.\nCSMs earn well.")
    assert [x.claim for x in s] == [False, True]
    # but a number in an abstention still needs a citation
    g = check_grounding(
        answer("My guides give no figure for Canada. The US gets $110k.", [], [], abstained=True)
    )
    assert g.claims == 1 and g.cited_claims == 0


def test_progress_citations_count_as_evidence() -> None:
    prog = {
        "n": 1,
        "kind": "progress",
        "heading": "Pace",
        "text": "8 × 10/5 = 16 months.",
        "chunk_id": None,
    }
    g = check_grounding(answer("At 5 hours a week the plan takes about 16 months [1].", [prog], []))
    assert g.validity == 1.0 and g.fidelity == 1.0


@pytest.mark.parametrize(
    ("sentence", "evidence", "failed"),
    [
        (
            "A customer success manager in Canada earns about $110k a year.",
            [Evidence(US_G1, "csm-gtm-career-path")],
            "terms",
        ),
        (
            "Entry-level CSMs in India earn ₹22L a year.",
            [Evidence(INDIA, "csm-gtm-career-path")],
            "negation",
        ),
        (
            "Senior CSMs in the US earn $110k a year.",
            [Evidence(US_G1, "csm-gtm-career-path")],
            "qualifier_conflict",
        ),
        (
            "The GTM page says US CSMs earn $111,717 to $193,527.",
            [Evidence(US_G2, "csm-career-guide-2026")],
            "attribution",
        ),
        (
            "The GTM page puts mid-level US pay at $120k.",
            [Evidence(US_G1, "csm-gtm-career-path")],
            "numbers",
        ),
        (
            "Zendesk and Freshdesk are the main helpdesk tools.",
            [Evidence(US_G1, "csm-gtm-career-path")],
            "content",
        ),
    ],
)
def test_support_check_catches(sentence: str, evidence: list[Evidence], failed: str) -> None:
    v = support(sentence, evidence)
    assert not v.supported and failed in v.failed, v


def test_support_check_accepts_paraphrase_and_acronyms() -> None:
    nrr = "The second Phase 3 milestone is driving 110%+ net revenue retention across the accounts a Customer Success Manager owns."
    assert support(
        "In phase 3 a CSM should reach 110% NRR on their accounts.", [Evidence(nrr)]
    ).supported
    assert support(
        "Mid-level CSMs in the US earn $110,000.", [Evidence(US_G1, "csm-gtm-career-path")]
    ).supported


def test_support_check_matches_word_forms_by_stem() -> None:
    """A list of nouns restating "you lead ... communicate clearly ... negotiate" is supported."""
    soft = (
        "You lead and motivate a team. You communicate clearly and can resolve conflicts and "
        "negotiate. You think critically and solve problems."
    )
    assert support(
        "Soft skills: leading and motivating a team, clear communication, conflict resolution, "
        "negotiation, critical thinking and problem solving.",
        [Evidence(soft)],
    ).supported


def test_a_sentence_naming_only_its_source_is_attribution() -> None:
    ev = [Evidence(US_G1, "csm-gtm-career-path", source="GTM career path page")]
    assert support("- **GTM career path page** [1].", ev).supported
    # named against a guide that is not cited, it is still an attribution failure
    assert "attribution" in support("The GTM page says so.", [Evidence(US_G2, "x")]).failed


def test_a_section_citation_is_checked_against_every_chunk_it_shows() -> None:
    """A composed answer cites a whole section; its second chunk holds the sentence's words."""
    first = "At fast-growing tech companies a certification in a CRM gives you an edge."
    second = "Coaching and conflict resolution are learned in workshops and webinars."
    passages = [
        {"id": "a", "guide": "g", "section_path": ["Certs"], "heading": "Certs", "text": first},
        {"id": "b", "guide": "g", "section_path": ["Certs"], "heading": "Certs", "text": second},
        {"id": "c", "guide": "g", "section_path": ["Other"], "heading": "Other", "text": second},
    ]
    sentence = "Coaching and conflict resolution are learned in workshops and webinars [1]."

    def answer(shown: str) -> dict[str, Any]:
        cite = {"n": 1, "guide": "g", "chunk_id": "a", "text": shown, "kind": "guide"}
        return {"answer": sentence, "citations": [cite], "passages": passages}

    assert check_grounding(answer(f"{first}\n\n{second}")).support_rate == 1.0
    # a chunk the citation does not show is not evidence, even from the same section
    assert check_grounding(answer(first)).support_rate == 0.0


def test_support_agreement_with_hand_labels() -> None:
    rows = [
        json.loads(x)
        for x in (EVALS / "support_labels.jsonl").read_text().splitlines()
        if x.strip()
    ]
    assert (
        len(rows) >= 40
        and sum(r["supported"] for r in rows) >= 15
        and sum(not r["supported"] for r in rows) >= 15
    )
    r = support_agreement()
    assert r["n"] == len(rows)
    assert r["accuracy"] >= 0.85 and r["kappa"] >= 0.7, r


def test_cohen_kappa_known_values() -> None:
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert cohen_kappa([True, True, False, False], [True, False, True, False]) == 0.0
    assert cohen_kappa([], []) is None


# --- aggregation ---------------------------------------------------------------------------------


def test_abstention_precision_and_recall() -> None:
    yes = mkcase(id="a", answerable=True)
    no = mkcase(id="b", answerable=False)
    either = mkcase(id="c", answerable=None)
    refuse = answer("My guides don't cover that.", [], [], abstained=True)
    reply = answer("The GTM page puts mid-level US pay at $110k a year [1].", [cite(1, P1)], [P1])
    results = [
        evaluate_case(no, refuse),  # true positive
        evaluate_case(no, reply),  # false negative
        evaluate_case(yes, refuse),  # false positive
        evaluate_case(yes, reply),
        evaluate_case(either, refuse),  # not counted
    ]
    agg = aggregate(results)
    assert agg["abstention_precision"] == 0.5 and agg["abstention_recall"] == 0.5
    assert results[0].passed and not results[1].passed and results[4].passed
    assert "abstention" in results[2].failed


def test_case_result_checks_and_errors() -> None:
    case = mkcase(facts=[{"fact": "us", "variants": ["$110k"]}], forbidden=["$1M"])
    good = evaluate_case(
        case, answer("The GTM page puts mid-level US pay at $110k a year [1].", [cite(1, P1)], [P1])
    )
    assert good.passed and good.fact_recall == 1.0
    bad = evaluate_case(case, answer("Pay is $1M [1].", [cite(1, P1)], [P1]))
    assert set(bad.failed) >= {"facts", "forbidden", "support", "numbers"}
    crashed = CaseResult(case, None, error="RuntimeError: boom")
    assert crashed.failed == ["error"]
    agg = aggregate([good, bad, crashed])
    assert agg["errors"] == 1 and agg["cases"] == 3 and agg["passed"] == 1
    assert agg["forbidden_claim_rate"] == 0.5


# --- case files ----------------------------------------------------------------------------------


def test_shipped_sets_cover_every_category() -> None:
    cases, used = load_cases()
    assert used == ["grounded", "conversation", "adversarial", "learners"]
    assert len(cases) >= 350
    counts = Counter(c.category for c in cases)
    assert set(counts) == set(CATEGORIES) and min(counts.values()) >= 6, counts
    assert (
        any(c.turns for c in cases)
        and any(c.states for c in cases)
        and any(c.hours_per_week for c in cases)
    )
    assert any(c.answerable is False for c in cases) and any(c.answerable is None for c in cases)


def test_learners_set_has_the_mix_issue_8_asks_for() -> None:
    cases, _ = load_cases(["learners"])
    assert len(cases) >= 150
    assert sum(c.casual for c in cases) >= len(cases) / 3
    assert sum(bool(c.turns) for c in cases) >= 10
    assert sum(c.answerable is False for c in cases) >= 20
    assert sum(c.category == "next" and bool(c.states) for c in cases) >= 15
    intents = {i for c in cases for i in c.intents} | {c.category for c in cases}
    assert {
        "start",
        "switch",
        "fit",
        "compare",
        "pay",
        "time",
        "skills",
        "tools",
        "portfolio",
        "interview",
        "day",
        "myths",
        "education",
        "outlook",
        "next",
        "decline",
    } <= intents
    assert all(c.facts or c.answerable is False for c in cases)
    assert all(c.max_words for c in cases)


def _headings() -> set[tuple[str, str]]:
    out = set()
    for p in (CORPUS / "guides").glob("*.md"):
        for line in p.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^#{2,6}\s+(.*)", line)
            if m:
                out.add((p.stem, m.group(1).strip()))
    return out


def test_gold_passages_and_milestones_exist_in_the_corpus() -> None:
    import yaml

    heads = _headings()
    milestones = {
        m["id"]
        for p in (CORPUS / "roadmaps").glob("*.yaml")
        for ph in yaml.safe_load(p.read_text())["phases"]
        for m in ph["milestones"]
    }
    cases, _ = load_cases()
    for c in cases:
        for g in c.gold:
            assert g in heads, (c.id, g)
        assert set(c.states) <= milestones, c.id


def test_required_facts_are_in_the_guides() -> None:
    """Each fact has a variant the guides (or roadmaps) actually contain; next-step pace and
    progress wording come from the tutor's own calculation, so those cases are exempt."""
    text = normalize(
        " ".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*")) if p.is_file())
    )
    cases, _ = load_cases()
    for c in cases:
        if c.category == "next":
            continue
        for f in c.facts:
            assert any(contains(text, v) for v in f.variants), (c.id, f)


def test_bad_case_files_are_runner_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "x-1", "category": "pay", "question": "q", "answerable": true}\n{not json\n'
    )
    with pytest.raises(EvalSetError, match="bad.jsonl:2"):
        load_set(bad)
    bad.write_text('{"id": "x-1", "category": "salsa", "question": "q", "answerable": true}\n')
    with pytest.raises(EvalSetError, match="category"):
        load_set(bad)
    bad.write_text(
        '{"id": "x-1", "category": "pay", "question": "q", "answerable": true, "forbidden": [{"regex": "("}]}\n'
    )
    with pytest.raises(EvalSetError, match="regex"):
        load_set(bad)
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "x-1", "category": "pay", "question": "q", "answerable": true}\n' * 2)
    with pytest.raises(EvalSetError, match="duplicate"):
        load_cases([dup])
    with pytest.raises(EvalSetError, match="Unknown eval set"):
        load_cases(["no-such-set"])


# --- thresholds, baseline, reports ----------------------------------------------------------------


def _run(results: list[CaseResult]) -> EvalRun:
    return EvalRun(
        results,
        ["unit"],
        5,
        0.1,
        {"n": 0, "accuracy": None, "kappa": None, "precision": None, "recall": None},
    )


def test_thresholds_file_and_checks(tmp_path: Path) -> None:
    th = load_thresholds()
    assert th.k == 5 and any(r.metric == "citation_support" for r in th.rules)
    bad = tmp_path / "t.toml"
    bad.write_text("[overall.min]\nvibes = 1\n")
    with pytest.raises(RunnerError, match="unknown metric"):
        load_thresholds(bad)
    case = mkcase(facts=[{"fact": "us", "variants": ["$110k"]}])
    good = evaluate_case(
        case, answer("The GTM page puts mid-level US pay at $110k a year [1].", [cite(1, P1)], [P1])
    )
    bad_r = evaluate_case(
        mkcase(id="t-2", facts=[{"fact": "us", "variants": ["$999"]}]), good.answer or {}
    )
    run = _run([good, bad_r])
    from tutor.evaluation.runner import Rule

    rules = Thresholds(
        5,
        [
            Rule("overall", "fact_recall", "min", 0.9),
            Rule("overall", "numeric_fidelity", "min", 1.0),
            Rule("time", "fact_recall", "min", 0.9),
        ],
    )
    rows = check_thresholds(run.summary, rules)
    assert [r["passed"] for r in rows] == [False, True, None]  # time: no cases, skipped
    v = verdict(run, rules)
    assert v.exit_code == EXIT_BELOW and "fact_recall" in v.reasons[0]
    assert verdict(_run([good]), rules).exit_code == EXIT_PASS
    assert (
        verdict(_run([good, CaseResult(case, None, error="x")]), Thresholds(5, [])).exit_code
        == EXIT_ERROR
    )


def test_baseline_diff_is_direction_aware() -> None:
    case = mkcase(facts=[{"fact": "us", "variants": ["$110k"]}], forbidden=["Canada"])
    ok = evaluate_case(
        case, answer("The GTM page puts mid-level US pay at $110k a year [1].", [cite(1, P1)], [P1])
    )
    worse = evaluate_case(case, answer("In Canada pay is $110k [1].", [cite(1, P1)], [P1]))
    base = baseline_payload(_run([ok]))
    d = diff_baseline(baseline_payload(_run([worse])), base)
    assert d["cases"]["regressed"] == ["t-1"] and d["cases"]["improved"] == []
    changes = {(m["metric"], m["change"]) for m in d["metrics"] if m["scope"] == "overall"}
    assert ("forbidden_claim_rate", "regressed") in changes and (
        "pass_rate",
        "regressed",
    ) in changes
    d2 = diff_baseline(base, baseline_payload(_run([worse])))
    assert d2["cases"]["improved"] == ["t-1"]


def test_committed_baseline_matches_the_case_sets() -> None:
    base = load_baseline(BASELINE_PATH)
    assert base is not None
    cases, used = load_cases()
    assert sorted(base["cases"]) == sorted(c.id for c in cases) and base["sets"] == used


def test_reports_put_failures_first_and_export_field_names() -> None:
    case = mkcase(
        facts=[{"fact": "us", "variants": ["$110k"]}],
        gold=[{"guide": "csm-gtm-career-path", "heading": "Pay in the United States"}],
    )
    ok = evaluate_case(
        case, answer("The GTM page puts mid-level US pay at $110k a year [1].", [cite(1, P1)], [P1])
    )
    bad = evaluate_case(mkcase(id="t-bad"), answer("US pay is $125k [1].", [cite(1, P1)], [P1]))
    v = verdict(_run([ok, bad]), Thresholds(5, []))
    md = markdown(v)
    assert md.index("`t-bad`") < md.index("`t-1`")
    assert "$125k" in md and "support:numbers" in md and "Pay in the United States" in md
    root = ET.fromstring(junit(v))
    fails = [tc.get("name") for tc in root.iter("testcase") if tc.find("failure") is not None]
    assert fails == ["t-bad"]
    assert "t-bad" in terminal(v)
    gold = {("csm-gtm-career-path", "Pay in the United States"): [US_G1]}
    ragas = export_rows("ragas", [ok], gold)[0]
    assert set(ragas) == {
        "user_input",
        "retrieved_contexts",
        "reference_contexts",
        "response",
        "reference",
    }
    assert ragas["retrieved_contexts"] == [US_G1] and ragas["reference_contexts"] == [US_G1]
    deep = export_rows("deepeval", [ok], gold)[0]
    assert {"input", "actual_output", "expected_output", "retrieval_context", "context"} <= set(
        deep
    )


# --- judge ----------------------------------------------------------------------------------------


def test_parse_score() -> None:
    assert parse_score('{"score": 0.75, "reason": "ok"}') == (0.75, "ok")
    assert parse_score('Sure! ```json\n{"score": 1}\n```') == (1.0, "")
    assert parse_score('{"score": 7}') is None and parse_score("no json") is None


class _StubClient:
    """Just enough of openai.OpenAI for the judge: scores cycle through `scores`."""

    def __init__(self, scores: list[float]) -> None:
        self.scores = scores
        self.calls = 0
        self.chat = self
        self.completions = self

    def create(self, **kw: Any) -> Any:
        s = self.scores[self.calls % len(self.scores)]
        self.calls += 1
        msg = type("M", (), {"content": json.dumps({"score": s, "reason": "r"})})
        return type("R", (), {"choices": [type("C", (), {"message": msg})]})


def test_judge_repeats_report_spread_and_cache(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", judge_model="judge-x")
    stub = _StubClient([1.0, 0.5, 0.0])
    j = Judge(settings, repeats=3, client=stub)
    out = j.judge("q?", "answer", ["ctx"])
    assert out["faithfulness"]["scores"] == [1.0, 0.5, 0.0]
    assert out["faithfulness"]["mean"] == 0.5 and out["faithfulness"]["spread"] == pytest.approx(
        0.4082, abs=1e-4
    )
    assert stub.calls == 6 and j.requests == 6
    again = Judge(settings, repeats=3, client=stub)
    assert again.judge("q?", "answer", ["ctx"]) == out
    assert stub.calls == 6 and again.requests == 0 and again.cache_hits == 6
    assert (settings.home / "judge-cache").is_dir()
