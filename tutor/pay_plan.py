"""The pay plan: the guides' figures for the asked region and level, one line per region, the
guides' disagreements side by side, and what is missing said plainly (tutor/plans.py routes
every other intent)."""

from __future__ import annotations

from typing import Any

from .asks import Ask, Plan
from .profiles import Pay, Profile
from .taxonomy import Taxonomy


def _pay_by_region(p: Profile, tax: Taxonomy, region: str) -> list[Pay]:
    """Figures for the region or, for a city or country, for the region it is part of? No:
    a parent region's figure is not the child's. A child's figures answer a parent question."""
    wanted = {region, *tax.children(region)}
    return [x for x in p.pay if x.region in wanted]


def pay_regions(p: Profile, tax: Taxonomy) -> list[str]:
    return list(dict.fromkeys(tax.display(x.region) for x in p.pay))


def plan_pay(p: Profile, ask: Ask, tax: Taxonomy) -> Plan:
    base = {"region": ask.region, "region_name": tax.display(ask.region) if ask.region else None}
    if not p.pay:
        return Plan("decline_missing", {**base, "what": "pay", "have": []}, abstained=True)
    missing: list[str] = []
    if ask.region:
        figures = []
        for r in ask.regions or [ask.region]:
            found = _pay_by_region(p, tax, r)
            figures += found
            if not found:
                missing.append(tax.display(r))
        if not figures:
            # "and for directors?" after "what about europe?": the level is named too, and
            # whether the guides give it anywhere
            level = tax.levels[ask.level].label if ask.level in tax.levels else None
            return Plan(
                "decline_missing",
                {
                    **base,
                    "what": "pay",
                    "have": pay_regions(p, tax),
                    "level_label": level,
                    "level_elsewhere": [
                        tax.display(r)
                        for r in dict.fromkeys(x.region for x in p.pay if x.level == ask.level)
                    ],
                },
                abstained=True,
            )
    else:
        # no region named: every region the guides give, the most complete first
        figures = list(p.pay)
    level_missing = False
    level_only: list[str] = []
    if ask.level:
        at_level = [x for x in figures if x.level == ask.level]
        if at_level:
            # "senior csm salary" with no region, and only Germany gives a senior figure:
            # say so, or the answer reads as if it were the whole picture
            if not ask.region and {x.region for x in at_level} != {x.region for x in figures}:
                level_only = [tax.display(r) for r in dict.fromkeys(x.region for x in at_level)]
            # a band the guide gives for two levels at once is said as shared: "entry-level and
            # mid-level CSMs in Germany: EUR 55,000-70,000", not as an entry-level figure alone
            shared = [
                x
                for x in figures
                if x not in at_level
                and any(x.region == y.region and x.display == y.display for y in at_level)
            ]
            figures = at_level + shared
        else:
            level_missing = True
    # "starting salary in the US?" with no entry-level figure: a span from the start of the
    # career path to its top answers it with its low end (the highest level, its high end)
    span, span_end = None, ""
    if level_missing and ask.level in tax.levels:
        ranks = [lv.rank for lv in tax.levels.values()]
        rank = tax.levels[ask.level].rank
        span_end = "low" if rank == min(ranks) else "high" if rank == max(ranks) else ""
        if span_end and ask.region:
            span = next((x for x in figures if x.basis == "career-span" and x.low and x.high), None)
    # "senior csm pay in the us?" with no senior figure: what the guides say of that level
    # there ("senior and strategic-account CSMs ... sit at the top of the US range") comes first
    level_note = None
    if level_missing and ask.level and ask.region:
        level_note = next(
            (
                n
                for n in p.pay_notes
                if ask.level in {m.value for m in tax.level_gazetteer.find(n.text)}
                and _about_region(f"{n.text} {n.cite}", ask.region, tax)
            ),
            None,
        )
    # one line per region, the guides' disagreements side by side
    regions: dict[str, list[Pay]] = {}
    for x in figures:
        regions.setdefault(x.region, []).append(x)
    groups = [
        {
            "name": tax.display(r),
            "rows": _pay_rows(xs, tax),
            "guides": sorted({x.guide for x in xs}),
        }
        for r, xs in regions.items()
    ]
    # a learner who names no region gets each region's headline, not every band
    compact = ask.brief or (not ask.region and len(groups) > 1)
    level_label = tax.levels[ask.level].label if ask.level in tax.levels else ask.level
    return Plan(
        "pay",
        {
            **base,
            "groups": groups,
            "level": ask.level,
            "level_label": level_label,
            "level_missing": level_missing,
            "level_only": level_only,
            "span": span,
            "span_end": span_end,
            "level_note": level_note,
            "levels_given": sorted(
                {tax.levels[x.level].label for x in figures if x.level in tax.levels}
            ),
            "compact": compact,
            "missing_regions": missing,
            "have": pay_regions(p, tax),
            # a note speaks of the regions it or its section names: "the best-paying
            # employers", from "Pay in the United States", is not said of Germany
            "notes": [
                n
                for n in p.pay_notes
                if n is not level_note
                and any(
                    _about_region(f"{n.text} {n.cite}", r, tax)
                    for r in ([ask.region] if ask.region else list(regions))
                )
            ],
        },
        abstained=level_missing and span is None,
    )


# The figure that best answers "what does it pay?" first: a survey's middle half, then a
# median, a typical or mid-level figure, an average; spans and top-earner floors last.
_BASIS_ORDER = [
    "percentile-25-75",
    "median",
    "typical",
    "average",
    "range",
    "career-span",
    "top-10-percent",
]


def _about_region(text: str, region: str | None, tax: Taxonomy) -> bool:
    """A note that names regions speaks only of those ("the top of the US range")."""
    named = tax.regions_in(text)
    return not region or not named or region in named


def _basis_rank(basis: str) -> int:
    return _BASIS_ORDER.index(basis) if basis in _BASIS_ORDER else len(_BASIS_ORDER)


def _pay_rows(figures: list[Pay], tax: Taxonomy) -> list[dict[str, Any]]:
    """One row per figure; a band the guide gives for two levels is one row naming both."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in figures:
        key = (f.display, f.cite, f.basis)
        row = rows.setdefault(key, {"fact": f, "labels": [], "also": []})
        if f.level in tax.levels:
            row["labels"].append(tax.levels[f.level].label)

    # "the median is $85,000" and "mid-level managers earn $85,000" from one section: one row
    for twin_key, row in list(rows.items()):
        f = row["fact"]
        if f.basis == "median" or not row["labels"]:
            continue
        twin = next(
            (
                r
                for r in rows.values()
                if r["fact"].basis == "median"
                and r["fact"].display == f.display
                and r["fact"].cite == f.cite
                and not r["labels"]
            ),
            None,
        )
        if twin is not None:
            twin["also"] = row["labels"]
            del rows[twin_key]

    def rank(row: dict[str, Any]) -> tuple[int, int]:
        f = row["fact"]
        level = tax.levels[f.level].rank if f.level in tax.levels else 0
        # the one all-levels figure first, then entry -> mid -> senior -> the top
        return (0 if f.level == "all" and f.basis != "range" else 1, level)

    ordered = sorted(rows.values(), key=lambda r: (rank(r), _basis_rank(r["fact"].basis)))
    # the headline's disagreement partner: the best figure from another guide comes second
    if len(ordered) > 2:
        other = next((r for r in ordered[1:] if r["fact"].guide != ordered[0]["fact"].guide), None)
        if other is not None:
            ordered.remove(other)
            ordered.insert(1, other)
    return ordered
