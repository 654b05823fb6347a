"""The extractive path on small passages of our own: label/value lines, lists, region and
level, what comes first, and the names a raw page's role answers to.

tests/test_generalisation.py runs the same code on the real seed pages; these cases pin each
rule down on text written for this file.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import CORPUS

from tutor.chunking import Chunk
from tutor.compose import Sources
from tutor.extractive import Wanted, extractive_answer, search_query
from tutor.retrieval import Hit
from tutor.roles import with_found_names
from tutor.statements import first_of_sequence, statements
from tutor.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy(CORPUS)


def chunk(heading: str, text: str, position: int = 0, guide: str = "g") -> Chunk:
    meta = {"guide": guide, "role": "data-analyst", "title": "Data analyst guide", "file": "g.md"}
    return Chunk(f"{guide}-{position}", text, heading, (heading,), position, meta)


def said(c: Chunk) -> list[str]:
    return [s.text for s in statements(c)]


def no_sections(guide: str, path: tuple[str, ...]) -> list[Chunk]:
    return []


# --- statements -------------------------------------------------------------------------------


def test_a_label_over_its_figure_is_one_statement() -> None:
    c = chunk("Key numbers", "- Mid pay (UK)\n- £41k\n- Time to first job\n- 5 months")
    assert said(c) == ["Mid pay (UK): £41k", "Time to first job: 5 months"]


def test_a_figure_over_its_caption_is_not_paired_with_the_next_figure() -> None:
    c = chunk("At a glance", "12%\njob growth\n$71,000\ntypical pay\nremote-friendly")
    assert said(c) == ["Job growth: 12%", "Typical pay: $71,000"]


def test_a_lone_figure_takes_its_heading_and_a_labelled_line_is_named_by_it() -> None:
    assert said(chunk("Entry-Level", "$48,250")) == ["Entry-Level: $48,250"]
    tier = chunk("Junior Analyst", "Experience: 0-2 years\n\nJuniors clean data for the team.")
    assert said(tier)[0] == "Junior Analyst, experience: 0-2 years"


def test_a_heading_figure_the_text_lacks_is_not_put_in_a_quote() -> None:
    """A quoted line is checked against its passage: "2031" is only in the heading."""
    assert said(chunk("Becoming an analyst in 2031", "$48,250")) == []


def test_questions_are_never_statements() -> None:
    c = chunk("FAQ", "What does an analyst earn in a year?\nMost earn a steady salary early on.")
    assert said(c) == ["Most earn a steady salary early on."]


def test_a_list_is_quoted_whole_and_item_by_item() -> None:
    c = chunk("Core skills", "Abilities you need early.\n\n- SQL queries\n- Spreadsheets\n- Charts")
    found = statements(c)
    whole = [s.text for s in found if s.whole]
    items = [s.text for s in found if s.group is not None and not s.whole]
    assert whole == ["Core skills: SQL queries, Spreadsheets, Charts"]
    assert items == ["SQL queries", "Spreadsheets", "Charts"]


# --- region and level ---------------------------------------------------------------------------


def pay_hits() -> list[Hit]:
    return [
        Hit(chunk("Pay", "In the US, analysts earn $80,000 a year.", 0), 1.0),
        Hit(chunk("Pay in India", "Analysts earn about ₹9L a year.", 1), 0.9),
        Hit(chunk("Senior-Level", "$120,500", 2), 0.8),
        Hit(chunk("Entry-Level", "$61,500", 3), 0.7),
    ]


def before_of(chunks: list[Chunk]) -> Callable[[Chunk, int], list[Chunk]]:
    def before(c: Chunk, n: int) -> list[Chunk]:
        return [x for x in reversed(chunks) if x.position < c.position][:n]

    return before


def ask(tax: Taxonomy, text: str, region: str | None = None, level: str | None = None) -> str:
    want = Wanted(text, "pay", region, level, {"analyst", "analysts"}, tax)
    got = extractive_answer(want, pay_hits(), Sources(no_sections))
    assert not got.declined, got
    return got.text


def test_only_the_region_asked_is_shown(tax: Taxonomy) -> None:
    text = ask(tax, "how much do analysts earn in india", "India")
    assert "₹9L" in text and "$80,000" not in text


def test_a_region_the_passages_do_not_give_is_declined_naming_what_they_give(
    tax: Taxonomy,
) -> None:
    want = Wanted("analyst pay in germany", "pay", "Germany", None, set(), tax)
    got = extractive_answer(want, pay_hits(), Sources(no_sections))
    assert got.declined and got.text == "" and got.missing == ["Germany"]
    assert got.have == ["India", "the United States"]


def test_of_two_regions_asked_the_one_given_is_answered_and_the_other_named(
    tax: Taxonomy,
) -> None:
    want = Wanted("analyst pay india vs germany", "pay", "India", None, set(), tax)
    want.regions = ["India", "Germany"]
    got = extractive_answer(want, pay_hits(), Sources(no_sections))
    assert not got.declined and "₹9L" in got.text and "$80,000" not in got.text
    assert got.missing == ["Germany"]


def test_another_levels_figure_is_left_out(tax: Taxonomy) -> None:
    text = ask(tax, "entry level analyst salary", level="entry")
    assert "Entry-Level: $61,500" in text and "$120,500" not in text


def test_a_level_the_region_lacks_gets_the_figure_it_has_named_by_its_level(
    tax: Taxonomy,
) -> None:
    """Not a decline that says India has no figure: the page's one names its own level."""
    hits = [Hit(chunk("Key numbers", "- Mid pay (India)\n- ₹9L\n- Mid pay (US)\n- $80k"), 1.0)]
    want = Wanted("senior analyst pay in india", "pay", "India", "senior", set(), tax)
    got = extractive_answer(want, hits, Sources(no_sections))
    assert got.text == "Mid pay (India): ₹9L [1]." and not got.missing


def test_a_label_section_takes_its_region_from_the_heading_above(tax: Taxonomy) -> None:
    above = [chunk("Salary (US, USD)", "Median: $90,000", 0), chunk("Mid-Level", "$90,000", 1)]
    senior = chunk("Senior-Level", "$120,500", 2)
    want = Wanted("senior analyst pay in the US", "pay", "United States", "senior", set(), tax)
    got = extractive_answer(want, [Hit(senior, 1.0)], Sources(no_sections), before_of(above))
    assert "Senior-Level: $120,500" in got.text
    lone = extractive_answer(want, [Hit(senior, 1.0)], Sources(no_sections))
    assert lone.missing == ["United States"]  # without the heading above, no country


def test_the_search_says_what_a_terse_question_is_about(tax: Taxonomy) -> None:
    want = Wanted("analyst pay?", "pay", "India", None, {"analyst", "pay"}, tax, about="salary")
    assert search_query(want, "Data Analyst") == "analyst pay? Data Analyst salary India"
    wordy = Wanted("how long does the job search take", "time", about="pace at N hours")
    assert "pace" not in search_query(wordy, "Data Analyst")


# --- what comes first -------------------------------------------------------------------------


def test_the_first_section_of_a_sequence_is_found() -> None:
    path = [
        chunk("Overview", "What the job is.", 0),
        chunk("Weeks 1-4 Basics", "Learn spreadsheets.", 1),
        chunk("Weeks 5-8 SQL", "Learn SQL.", 2),
        chunk("Weeks 9-12 Projects", "Build two dashboards.", 3),
    ]
    first = first_of_sequence(path[3], before_of(path))
    assert first is not None and first.section_path == ("Weeks 1-4 Basics",)
    assert first_of_sequence(path[1], before_of(path)) is None


# --- the names a raw page's role answers to ---------------------------------------------------


def test_a_title_end_no_other_title_shares_and_no_other_job_is_a_name(tax: Taxonomy) -> None:
    roles = {
        "product-marketing-manager": {"title": "Product Marketing Manager", "aliases": []},
        "customer-support-manager": {"title": "Customer Support Manager", "aliases": []},
        "data-analyst": {"title": "Data Analyst", "aliases": []},
    }
    out = with_found_names(roles, {"pmm": "product marketing manager"}, tax)
    assert out["customer-support-manager"]["aliases"] == ["support manager"]
    # "marketing manager" is a job of its own (corpus/taxonomy/occupations.yaml)
    assert out["product-marketing-manager"]["aliases"] == ["pmm"]
    assert out["data-analyst"]["aliases"] == []
