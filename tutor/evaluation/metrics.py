"""Per-case metrics (pure: a Case and an Answer dict in, numbers out) and their aggregation."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .cases import CATEGORIES, Case
from .grounding import Grounding, check_grounding, contains, normalize, strip_markers

# --- retrieval --------------------------------------------------------------------------------


def relevance(
    passages: Sequence[dict[str, Any]], gold: Sequence[tuple[str, str]], k: int
) -> list[int]:
    """Binary relevance of the top-k passages; a gold section counts once, at its first rank."""
    wanted = set(gold)
    seen: set[tuple[str, str]] = set()
    rels = []
    for p in passages[:k]:
        key = (str(p.get("guide")), str(p.get("heading")))
        if key in wanted and key not in seen:
            seen.add(key)
            rels.append(1)
        else:
            rels.append(0)
    return rels


def hit_at_k(rels: Sequence[int]) -> float:
    return 1.0 if any(rels) else 0.0


def recall_at_k(rels: Sequence[int], n_gold: int) -> float:
    return sum(rels) / n_gold if n_gold else 0.0


def mrr(rels: Sequence[int]) -> float:
    for i, r in enumerate(rels, 1):
        if r:
            return 1.0 / i
    return 0.0


def ndcg_at_k(rels: Sequence[int], n_gold: int, k: int) -> float:
    dcg = sum(r / math.log2(i + 1) for i, r in enumerate(rels[:k], 1))
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_gold, k) + 1))
    return dcg / ideal if ideal else 0.0


def retrieval_metrics(
    passages: Sequence[dict[str, Any]], gold: Sequence[tuple[str, str]], k: int
) -> dict[str, Any] | None:
    if not gold:
        return None
    n_gold = len(set(gold))
    rels = relevance(passages, gold, k)
    return {
        "hit": hit_at_k(rels),
        "recall": recall_at_k(rels, n_gold),
        "mrr": mrr(rels),
        "ndcg": ndcg_at_k(rels, n_gold, k),
        "ranks": [i for i, r in enumerate(rels, 1) if r],
        "retrieved": [f"{p.get('guide')} › {p.get('heading')}" for p in passages[:k]],
    }


# --- answers ----------------------------------------------------------------------------------


def fact_matches(case: Case, answer_text: str) -> tuple[list[str], list[str]]:
    """(found, missing) fact names; a fact is found when any variant is in the answer."""
    text = normalize(strip_markers(answer_text))
    found: list[str] = []
    missing: list[str] = []
    for f in case.facts:
        (found if any(contains(text, v) for v in f.variants) else missing).append(f.fact)
    return found, missing


def forbidden_hits(case: Case, answer_text: str) -> list[dict[str, str]]:
    plain = strip_markers(answer_text)
    norm = normalize(plain)
    hits = []
    for f in case.forbidden:
        if f.regex:
            m = re.search(f.pattern, plain, re.I) or re.search(f.pattern, norm, re.I)
            if m:
                hits.append({"claim": f.label, "match": m.group(0), "why": f.why})
        elif contains(norm, f.pattern):
            hits.append({"claim": f.label, "match": f.pattern, "why": f.why})
    return hits


@dataclass
class CaseResult:
    case: Case
    answer: dict[str, Any] | None
    error: str | None = None
    retrieval: dict[str, Any] | None = None
    facts_found: list[str] = field(default_factory=list)
    facts_missing: list[str] = field(default_factory=list)
    forbidden: list[dict[str, str]] = field(default_factory=list)
    grounding: Grounding | None = None
    judge: dict[str, Any] | None = None

    @property
    def abstained(self) -> bool:
        return bool(self.answer and self.answer.get("abstained"))

    @property
    def fact_recall(self) -> float | None:
        n = len(self.case.facts)
        if not n or self.answer is None or self.case.answerable is False:
            return None
        if self.case.answerable is None and self.abstained:
            return None  # a refusal is acceptable here, and it carries no facts
        return len(self.facts_found) / n

    @property
    def words(self) -> int:
        text = strip_markers(str((self.answer or {}).get("answer") or ""))
        return len(re.findall(r"[\w$€£₹%'’.,–-]*\w[\w$€£₹%'’.,–-]*", text))

    @property
    def length_ok(self) -> bool | None:
        c = self.case
        if self.answer is None or (c.min_words is None and c.max_words is None):
            return None
        return (c.min_words or 0) <= self.words <= (c.max_words or 10**9)

    @property
    def useful(self) -> bool | None:
        """Every key point, no forbidden phrase, a length within bounds (the learners set)."""
        if self.case.min_words is None and self.case.max_words is None:
            return None
        if self.error is not None or self.answer is None:
            return False
        return not self.facts_missing and not self.forbidden and self.length_ok is not False

    @property
    def checks(self) -> dict[str, bool | None]:
        """Each answer-level check: True pass, False fail, None not applicable."""
        if self.error is not None or self.answer is None:
            return {"error": False}
        g = self.grounding
        a = self.case.answerable
        return {
            "abstention": None if a is None else (self.abstained == (not a)),
            "facts": None if self.fact_recall is None else not self.facts_missing,
            "forbidden": not self.forbidden if self.case.forbidden else None,
            "citations": None
            if g is None or (g.claims == 0 and g.markers == 0)
            else (g.cited_claims == g.claims and g.valid_markers == g.markers),
            "support": None if g is None or not g.checked else g.supported == g.checked,
            "numbers": None if g is None or not g.numbers else g.faithful_numbers == g.numbers,
            "length": self.length_ok,
        }

    @property
    def failed(self) -> list[str]:
        return [k for k, v in self.checks.items() if v is False]

    @property
    def passed(self) -> bool:
        return not self.failed

    def metrics(self) -> dict[str, Any]:
        g = self.grounding
        r = self.retrieval or {}
        return {
            "hit_at_k": r.get("hit"),
            "recall_at_k": r.get("recall"),
            "mrr": r.get("mrr"),
            "ndcg_at_k": r.get("ndcg"),
            "fact_recall": self.fact_recall,
            "forbidden": bool(self.forbidden) if self.case.forbidden else None,
            "abstained": self.abstained if self.answer is not None else None,
            "citation_coverage": g.coverage if g else None,
            "citation_validity": g.validity if g else None,
            "citation_support": g.support_rate if g else None,
            "numeric_fidelity": g.fidelity if g else None,
            "useful": self.useful,
            "words": self.words if self.answer is not None else None,
        }

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        c = self.case
        out: dict[str, Any] = {
            "id": c.id,
            "category": c.category,
            "role": c.role,
            "question": c.question,
            "turns": list(c.turns),
            "answerable": c.answerable,
            "passed": self.passed,
            "failed": self.failed,
            "error": self.error,
            "metrics": {k: _r(v) for k, v in self.metrics().items()},
            "facts_found": self.facts_found,
            "facts_missing": self.facts_missing,
            "forbidden_hits": self.forbidden,
        }
        if self.retrieval:
            out["retrieval"] = {k: _r(v) for k, v in self.retrieval.items()}
        if self.judge is not None:
            out["judge"] = self.judge
        if evidence and self.answer is not None:
            out["answer"] = self.answer.get("answer")
            out["abstained"] = self.abstained
            out["intent"] = self.answer.get("intent")
            out["engine"] = self.answer.get("engine")
            out["notice"] = self.answer.get("notice")
            out["sentences"] = (
                [s.to_dict() for s in self.grounding.sentences] if self.grounding else []
            )
        return out


def evaluate_case(case: Case, answer: dict[str, Any], k: int = 5) -> CaseResult:
    """Every offline metric for one case. Pure: no model, no index, no I/O."""
    text = str(answer.get("answer") or "")
    found, missing = fact_matches(case, text)
    return CaseResult(
        case=case,
        answer=answer,
        retrieval=retrieval_metrics(answer.get("passages") or [], case.gold, k),
        facts_found=found,
        facts_missing=missing,
        forbidden=forbidden_hits(case, text),
        grounding=check_grounding(answer),
    )


# --- aggregation ------------------------------------------------------------------------------

# Metrics where lower is better; every other metric is better when higher.
LOWER_IS_BETTER = {"forbidden_claim_rate", "errors"}
METRICS = (
    "pass_rate",
    "hit_at_k",
    "recall_at_k",
    "mrr",
    "ndcg_at_k",
    "fact_recall",
    "forbidden_claim_rate",
    "abstention_precision",
    "abstention_recall",
    "citation_coverage",
    "citation_validity",
    "citation_valid_rate",
    "citation_support",
    "numeric_fidelity",
    "usefulness",
    "judge_faithfulness",
    "judge_relevance",
    "judge_spread",
)


def _r(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def _mean(values: list[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def aggregate(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Macro averages: each case weighs the same; a metric skips cases it does not apply to."""
    ok = [r for r in results if r.error is None and r.answer is not None]
    ms = [r.metrics() for r in ok]
    labelled = [r for r in ok if r.case.answerable is not None]
    tp = sum(1 for r in labelled if r.case.answerable is False and r.abstained)
    fp = sum(1 for r in labelled if r.case.answerable is True and r.abstained)
    fn = sum(1 for r in labelled if r.case.answerable is False and not r.abstained)
    cite_ok = [r.checks["citations"] for r in ok if r.checks["citations"] is not None]
    out: dict[str, Any] = {
        "cases": len(results),
        "passed": sum(1 for r in results if r.passed),
        "errors": sum(1 for r in results if r.error is not None),
        "pass_rate": round(sum(1 for r in results if r.passed) / len(results), 4)
        if results
        else None,
    }
    for key in ("hit_at_k", "recall_at_k", "mrr", "ndcg_at_k", "fact_recall"):
        out[key] = _mean([m[key] for m in ms])
    out["forbidden_claim_rate"] = _mean(
        [None if m["forbidden"] is None else float(m["forbidden"]) for m in ms]
    )
    out["abstention_precision"] = round(tp / (tp + fp), 4) if tp + fp else None
    out["abstention_recall"] = round(tp / (tp + fn), 4) if tp + fn else None
    for key in ("citation_coverage", "citation_validity", "citation_support", "numeric_fidelity"):
        out[key] = _mean([m[key] for m in ms])
    out["citation_valid_rate"] = round(sum(cite_ok) / len(cite_ok), 4) if cite_ok else None
    useful = [r.useful for r in results if r.useful is not None]
    out["usefulness"] = round(sum(useful) / len(useful), 4) if useful else None
    judged = [r.judge for r in ok if r.judge]
    if judged:
        out["judge_faithfulness"] = _mean([j.get("faithfulness", {}).get("mean") for j in judged])
        out["judge_relevance"] = _mean([j.get("relevance", {}).get("mean") for j in judged])
        spreads = [
            j[m].get("spread") for j in judged for m in ("faithfulness", "relevance") if m in j
        ]
        out["judge_spread"] = _mean(spreads)
    return out


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    cats = {c: [r for r in results if r.case.category == c] for c in CATEGORIES}
    return {
        "overall": aggregate(results),
        "categories": {c: aggregate(rs) for c, rs in cats.items() if rs},
    }
