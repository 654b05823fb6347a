"""Issue 9, point 6: the role selected on the page is a default, not an override. The role a
question names wins, and a decline names that role and the regions its own guides give."""

from __future__ import annotations

import re
from pathlib import Path

SUP = "customer-support-manager"

DATA_ANALYST = """---
id: data-analyst-guide
role: data-analyst
role_title: Data Analyst
title: "Data analyst career guide (test)"
source: "Test page"
as_of: "2026"
---

# Data analyst career guide (test)

## Pay in the United States

In the United States, a data analyst earns a median of $82,000 a year, according to the test page.

## Pay in the United Kingdom

In the United Kingdom, data analysts earn about £38,000 a year.
"""


def test_a_role_the_question_names_wins_over_the_page(make_tutor, copy_corpus: Path) -> None:
    (copy_corpus / "guides" / "data-analyst.md").write_text(DATA_ANALYST, encoding="utf-8")
    t = make_tutor(corpus=copy_corpus)
    t.ingest()

    # with Customer Support Manager selected, a nurse question is about nurses
    nurse = t.ask("What does a nurse earn in France?", role=SUP)
    assert nurse.abstained and "nurse" in nurse.answer
    assert "Customer Support Manager pay figure for France" not in nurse.answer
    assert not re.search(r"[$€£]\s?\d", nurse.answer), nurse.answer

    # the ingested role is answered from its own guide, whatever the page shows
    us = t.ask("What does a data analyst earn in the US?", role=SUP)
    assert us.role == "data-analyst" and not us.abstained and "$82,000" in us.answer
    assert {c.guide for c in us.citations} == {"data-analyst-guide"}

    # a region its guide does not give: declined, naming the role and the regions it does give
    canada = t.ask("What does a data analyst earn in Canada?", role=SUP)
    assert canada.abstained and canada.role == "data-analyst"
    assert "data analyst" in canada.answer.lower() and "Canada" in canada.answer
    assert "United Kingdom" in canada.answer and "United States" in canada.answer
    assert "support manager" not in canada.answer.lower()
    assert not re.search(r"[$€£]\s?\d", canada.answer), canada.answer
