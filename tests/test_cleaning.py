"""Cleaning scraped pages: the real defects of the three seed pages, plus small cases of our own.

The seed tests read the raw pages from ../shared/seeds (and skip without them); every other
string here is written for this file, never copied from a seed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import seed_path

from tutor.errors import CorpusError
from tutor.ingestion import (
    _MOJI,
    Document,
    clean_text,
    drop_chrome,
    drop_repeats,
    infer_role,
    load_document,
    repair_mojibake,
)

CSM = "customer-success-manager"
SUPPORT = "customer-support-manager"

CHROME = [
    "Unlock all 3 phases",
    "Share career guide",
    "Go to account",
    "Jobicy+ Subscription",
    "USD $8/month",
    "professionals pay to access",
    "Ready to start your",
]


def doc_text(doc: Document) -> str:
    """Everything a loaded document will show a learner: title, headings and text."""
    parts = [doc.title]
    for s in doc.sections:
        parts.append(" > ".join(s.path))
        parts.append(s.text)
    return "\n".join(parts)


def raw(prefix: str) -> str:
    return seed_path(prefix).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed002() -> str:
    return doc_text(load_document(seed_path("002")))


# --- seed 002: UTF-8 read as Windows-1253 ---------------------------------------------------


def test_seed_002_mojibake_dashes_become_em_dashes(seed002: str) -> None:
    assert "β€”" in raw("002"), "the raw page has the defect this test is about"
    assert "β€" not in seed002
    assert "60,000—110,000" in seed002  # the salary range, with its dash repaired


def test_seed_002_sao_paulo_is_repaired(seed002: str) -> None:
    assert "SΓ£o Paulo" in raw("002")
    assert "São Paulo" in seed002
    assert "SΓ£o" not in seed002


def test_seed_002_mojibake_emoji_are_repaired_or_stripped(seed002: str) -> None:
    page = raw("002")
    assert "πŸ“ˆ" in page and "πŸ‡ΊπŸ‡Έ" in page
    assert "πŸ" not in seed002 and "Ÿ" not in seed002
    # the flag before this heading went; the heading stayed
    assert "Annual Salary (US, USD)" in seed002
    assert any(
        s.path == ["Annual Salary (US, USD)"] for s in load_document(seed_path("002")).sections
    )


def test_seed_002_short_salary_facts_are_kept() -> None:
    """A label over a one-figure line ("Entry-Level" / "$67,500") used to vanish as too short."""
    assert "Entry-Level\n$67,500" in raw("002")
    doc = load_document(seed_path("002"))
    sections = {tuple(s.path): s.text for s in doc.sections}
    assert sections[("Entry-Level",)] == "$67,500"
    assert sections[("Mid-Level",)] == "$85,000"


def test_seed_002_curly_apostrophes_survive(seed002: str) -> None:
    assert "organization’s" in raw("002")
    assert re.search(r"organization['’]s service standards", seed002)


def test_seed_002_has_no_mojibake_left_anywhere(seed002: str) -> None:
    assert "β€" not in seed002 and "Γ" not in seed002
    # a careers page in English has no Greek letters; every one of them was mojibake
    assert not re.search("[\u0370-\u03ff]", seed002), re.findall(
        ".{20}[\u0370-\u03ff].{20}", seed002
    )
    assert "\ufffd" not in seed002


# --- seed 001: every roadmap block captured twice --------------------------------------------


@pytest.mark.parametrize("months", ["Months 1–2", "Months 3–5", "Months 6–8", "Months 9+"])
def test_seed_001_repeated_roadmap_blocks_appear_once(months: str) -> None:
    page = raw("001")
    assert page.count(months) == 2, "the raw page repeats the block"
    doc = load_document(seed_path("001"))
    text = doc_text(doc)
    assert text.count(months) == 1
    section = next(s for s in doc.sections if s.path and s.path[0].startswith(months))
    first_sentence = section.text.split(". ")[0]
    assert len(first_sentence) > 20
    assert page.count(first_sentence) == 2
    assert text.count(first_sentence) == 1


# --- page chrome, all three seeds ------------------------------------------------------------


def test_every_chrome_string_is_really_on_a_seed_page() -> None:
    pages = "\n".join(raw(p) for p in ("000", "001", "002"))
    for chrome in CHROME:
        assert chrome in pages, chrome


@pytest.mark.parametrize("prefix", ["000", "001", "002"])
def test_seed_page_chrome_is_dropped(prefix: str) -> None:
    text = doc_text(load_document(seed_path(prefix))).lower()
    for chrome in CHROME:
        assert chrome.lower() not in text, chrome
    assert "you'll unlock" not in text
    assert "personalized roadmap" not in text


@pytest.mark.parametrize(("prefix", "role"), [("000", CSM), ("001", CSM), ("002", SUPPORT)])
def test_seed_role_is_inferred_from_the_title(prefix: str, role: str) -> None:
    assert load_document(seed_path(prefix)).role == role


def test_raw_seeds_ingest_with_the_tutor_api_for_both_roles(make_tutor, tmp_path: Path) -> None:
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    t = make_tutor(corpus=empty)
    report = t.ingest([seed_path("000"), seed_path("001"), seed_path("002")])
    assert report.files == 3 and report.embedded == report.chunks > 0
    assert set(t.index.roles()) == {CSM, SUPPORT}
    guides = {g["guide"]: g["role"] for g in t.index.guides()}
    assert sorted(guides.values()) == [CSM, CSM, SUPPORT]

    hits = t.search("support hubs in Latin America", role=SUPPORT, k=3)
    assert hits and all(h.chunk.role == SUPPORT for h in hits)
    assert any("São Paulo" in h.chunk.text for h in hits)
    hits = t.search("what do you learn in the first two months", role=CSM, k=3)
    assert hits and all(h.chunk.role == CSM for h in hits)
    assert hits[0].chunk.guide.startswith("001")

    for c in t.index.live_chunks():
        assert "β€" not in c.text and "Γ" not in c.text
        assert not any(chrome.lower() in c.embed_text.lower() for chrome in CHROME)


# --- our own small cases ---------------------------------------------------------------------


def _as_1253_mojibake(s: str) -> str:
    """What our scraper did: UTF-8 bytes shown one character per byte, Windows-1253 first."""
    by_byte = {b: ch for ch, b in _MOJI.items()}
    return "".join(by_byte[b] if b >= 0x80 else chr(b) for b in s.encode("utf-8"))


def test_synthetic_windows_1253_mojibake_is_repaired() -> None:
    good = "Café in São Paulo — a naïve plan, 📈 up 5 € in 10–20 days"
    broken = _as_1253_mojibake(good)
    assert broken != good and "β€" in broken
    assert repair_mojibake(broken) == good


def test_synthetic_windows_1252_mojibake_is_repaired() -> None:
    good = "Résumé tips — it’s fine"
    broken = good.encode("utf-8").decode("cp1252")
    assert "â€" in broken
    assert repair_mojibake(broken) == "Résumé tips — it's fine"


def test_good_unicode_is_left_alone() -> None:
    good = "Pay: €55,000–€70,000 in Kraków, ₹22L in Pune — and São Paulo 🚀"
    assert repair_mojibake(good) == good


def test_synthetic_repeated_blocks_are_kept_once() -> None:
    intro = (
        "Quarter one: learn spreadsheets, pivot tables and the basic charts a team reads weekly."
    )
    detail = "Practise with two public datasets and write a one-page summary of each finding."
    far = (
        "This long paragraph shows up twice on the page, once near the top and again much later on."
    )
    lines = [
        "Study plan",
        intro,
        detail,
        intro,
        detail,
        intro,  # a third copy
        detail,
        far,
        "Myth",
        "Short lines like this repeat on purpose.",
        "Myth",
        "Another short line.",
        far,
        "The end of the page.",
    ]
    out = drop_repeats(lines)
    assert out.count(intro) == 1 and out.count(detail) == 1
    assert out.count(far) == 1
    assert out.count("Myth") == 2  # short repeated labels are content, not scraper noise
    assert out == [
        "Study plan",
        intro,
        detail,
        far,
        "Myth",
        "Short lines like this repeat on purpose.",
        "Myth",
        "Another short line.",
        "The end of the page.",
    ]


def test_synthetic_chrome_lines_and_pricing_tail_are_dropped() -> None:
    lines = [
        "Data Analyst Guide",
        "Sign up",
        "Share career guide",
        "- Analysts clean data and build reports.",
        "Ready to start your Data Analyst career?",
        "More useful text about dashboards.",
        "Acme+ Subscription",
        "Everything below is a price table.",
    ]
    assert drop_chrome(lines) == [
        "Data Analyst Guide",
        "- Analysts clean data and build reports.",
        "More useful text about dashboards.",
    ]


def test_synthetic_short_labelled_figures_in_a_txt_page_are_kept(tmp_path: Path) -> None:
    page = tmp_path / "pay.txt"
    page.write_text(
        "How to Become a Data Analyst in 2026\n\n"
        "Analysts answer questions with data for the rest of the company.\n\n"
        "Pay by level\n\nJunior\n$48,000\nSenior\n$91,000\n\n"
        "Figures are yearly and made up for this test.\n",
        encoding="utf-8",
    )
    sections = {tuple(s.path): s.text for s in load_document(page).sections}
    assert sections[("Junior",)] == "$48,000"
    assert sections[("Senior",)].startswith("$91,000")


def test_synthetic_bullets_and_whitespace_are_normalised() -> None:
    lines = clean_text("Title\r\n\r\n  • first   point\u00a0here\n· second\u200b point\n")
    assert "- first point here" in lines
    assert "- second point" in lines


HTML = """<!doctype html>
<html><head><title>How to Become a Data Analyst in 2026</title>
<script>var tracking = "pixel-should-never-appear";</script>
<style>.x { color: red }</style></head>
<body>
<nav><a href="/">Home</a> | <a href="/jobs">Jobs navigation link</a></nav>
<header>Site banner text</header>
<main>
<h1>How to Become a Data Analyst in 2026</h1>
<p>Data analysts turn raw tables into decisions that a team can act on.</p>
<h2>Salary</h2>
<p>A junior analyst earns roughly 50k a year in the example city.</p>
<h2>Skills</h2>
<h3>Tools</h3>
<ul><li>SQL for pulling data</li><li>Spreadsheets &amp; charts for sharing it</li></ul>
</main>
<footer>Copyright footer text</footer>
<script>console.log("second-script-body")</script>
</body></html>
"""


def test_synthetic_html_becomes_headed_sections(tmp_path: Path) -> None:
    page = tmp_path / "data-analyst.html"
    page.write_text(HTML, encoding="utf-8")
    doc = load_document(page)
    assert doc.title == "How to Become a Data Analyst in 2026"
    assert doc.role == "data-analyst"
    paths = [s.path for s in doc.sections]
    assert paths == [[], ["Salary"], ["Skills", "Tools"]]
    tools = doc.sections[-1].text
    assert "- SQL for pulling data" in tools and "- Spreadsheets & charts for sharing it" in tools
    text = doc_text(doc)
    for junk in (
        "pixel-should-never-appear",
        "second-script-body",
        "color: red",
        "Jobs navigation",
        "Site banner",
        "Copyright footer",
    ):
        assert junk not in text, junk


def test_synthetic_front_matter_sets_the_metadata(tmp_path: Path) -> None:
    page = tmp_path / "ux.md"
    page.write_text(
        "---\n"
        "id: ux-researcher-handbook\n"
        "role: ux-researcher\n"
        "role_title: UX Researcher\n"
        'title: "UX Researcher handbook"\n'
        "source: Our own notes\n"
        "source_url: https://example.org/ux\n"
        'as_of: "2026-01"\n'
        "---\n\n"
        "# UX Researcher handbook\n\n"
        "## Methods\n\nInterviews, usability tests and diary studies are the core methods.\n\n"
        "### Interviews\n\nKeep questions open and let the participant talk.\n",
        encoding="utf-8",
    )
    doc = load_document(page, root=tmp_path)
    assert (doc.id, doc.role, doc.role_title, doc.title) == (
        "ux-researcher-handbook",
        "ux-researcher",
        "UX Researcher",
        "UX Researcher handbook",
    )
    assert (doc.source, doc.source_url, doc.as_of, doc.file) == (
        "Our own notes",
        "https://example.org/ux",
        "2026-01",
        "ux.md",
    )
    assert [s.path for s in doc.sections] == [["Methods"], ["Methods", "Interviews"]]
    assert "---" not in doc_text(doc) and "role_title" not in doc_text(doc)


def test_synthetic_markdown_without_front_matter_uses_the_file_stem_as_id(tmp_path: Path) -> None:
    page = tmp_path / "Product_Designer guide.md"
    page.write_text(
        "# Product Designer Guide\n\n## Portfolio\n\nShow three case studies with outcomes.\n"
    )
    doc = load_document(page)
    assert doc.id == "product-designer-guide"
    assert doc.role == "product-designer"
    assert doc.role_title == "Product Designer"
    assert doc.as_of == "undated"


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("How to Become a Data Analyst in 2026", "data-analyst"),
        ("How to become an Account Executive", "account-executive"),
        ("Customer Support Manager Career Path Guide", "customer-support-manager"),
        ("Site Reliability Engineer career guide", "site-reliability-engineer"),
        ("Nurse Practitioner role guide", "nurse-practitioner"),
        ("Product Designer Guide", "product-designer"),
        ("Become a Data Engineer", "data-engineer"),
        ("Weekly newsletter, issue 12", None),
        ("About us", None),
    ],
)
def test_role_is_inferred_from_the_title(title: str, role: str | None) -> None:
    assert infer_role(title) == role


def test_txt_without_an_inferable_role_needs_one(tmp_path: Path) -> None:
    page = tmp_path / "notes.txt"
    page.write_text(
        "Meeting notes\n\nWe talked about quarterly planning and hiring for the team.\n"
    )
    with pytest.raises(CorpusError) as err:
        load_document(page)
    assert "notes.txt" in err.value.message and "--role" in (err.value.hint or "")
    doc = load_document(page, role="team-lead")
    assert doc.role == "team-lead" and doc.role_title == "Team Lead"
