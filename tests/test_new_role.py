"""The new-role test (issue 8, point 9): a third role added as files only is answered across the
intents.

A fictional Implementation Consultant (``tests/fixtures/new_role``: a guide, a profile and a
roadmap) is copied into a copy of the shipped corpus, with no other change, and ingested with the
real embedder and the real Chroma. Its figures are invented and differ from the shipped roles'
figures, so an answer that borrows another role's figures shows it.

A case the engine gets wrong is marked ``xfail(strict=True)`` with the defect named: when the
engine is fixed the case passes, the strict mark fails the run, and the mark comes off.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import json_out, run_cli
from conftest import CORPUS, make_settings

from tutor.citations import Answer
from tutor.embedding import MiniLMEmbedder
from tutor.index import Index
from tutor.profiles import Profile, load_profile, load_profiles, validate_corpus
from tutor.roadmaps import load_roadmaps
from tutor.tutor import Tutor

FIXTURE = Path(__file__).parent / "fixtures" / "new_role"
IC = "implementation-consultant"
GUIDE = "ic-implementation-guide-2026"
CSM = "customer-success-manager"
SUPPORT = "customer-support-manager"


def _shipped_figures() -> list[str]:
    """Every pay and time figure of the shipped roles, as their guides write it."""
    out: list[str] = []
    for p in load_profiles(CORPUS).values():
        out += [x.display for x in p.pay]
        out += [d.display for d in (*p.time.training, *p.time.job_search, *p.time.senior)]
    return sorted(set(out))


SHIPPED_FIGURES = _shipped_figures()
SHIPPED_TOOLS = ["Gainsight", "Custify", "Zendesk", "Freshdesk", "Intercom", "amoCRM"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus plus the fixture's three files, copied: nothing else changes."""
    dst = tmp_path_factory.mktemp("new-role") / "corpus"
    shutil.copytree(CORPUS, dst)
    for sub in ("guides", "profiles", "roadmaps"):
        for f in (FIXTURE / sub).iterdir():
            shutil.copy(f, dst / sub / f.name)
    return dst


@pytest.fixture(scope="module")
def tutor(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder
) -> Iterator[Tutor]:
    """One ingest for the module; every test reads from it (learners are per test)."""
    settings = make_settings(tmp_path_factory.mktemp("new-role-home"), corpus)
    t = Tutor(settings, index=Index(settings, embedder=embedder))
    t.ingest()
    yield t
    t.close()


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(FIXTURE / "profiles" / f"{IC}.yaml")


def pay(p: Profile, region: str, level: str) -> str:
    return next(x.display for x in p.pay if x.region == region and x.level == level)


def headings(a: Answer, guide: str = GUIDE) -> set[str]:
    return {c.heading for c in a.citations if c.kind == "guide" and c.guide == guide}


def check(
    a: Answer,
    intent: str,
    cited: list[str],
    phrases: list[str],
    guides: set[str] | None = None,
) -> None:
    """About the new role, answered (not declined), citing its guide, with its facts and none
    of the shipped roles' figures."""
    text = a.answer
    assert not a.abstained, text
    assert a.role == IC, text
    assert intent in a.intents, (a.intents, text)
    allowed = guides or {GUIDE}
    assert {c.guide for c in a.citations if c.kind == "guide"} <= allowed, text
    assert set(cited) <= headings(a), (sorted(headings(a)), text)
    for phrase in phrases:
        assert phrase in text, (phrase, text)
    for figure in SHIPPED_FIGURES:
        assert figure not in text, (figure, text)
    for tool in SHIPPED_TOOLS:
        assert tool not in text, (tool, text)


# --- the fixture itself ---------------------------------------------------------------------------


def test_the_fixture_is_a_valid_grounded_role(corpus: Path, profile: Profile) -> None:
    """Every cite names a real section of the fixture guide and every figure is in it."""
    assert validate_corpus(corpus) == []
    rm = load_roadmaps(corpus)[IC]
    assert rm.guide == GUIDE and len(rm.milestones) == 9
    assert profile.roadmap == IC
    # every part of the schema is filled
    assert all(
        [
            profile.pay,
            profile.time.training,
            profile.time.job_search,
            profile.learning_path,
            profile.skills,
            profile.tools,
            profile.education.degrees,
            profile.education.certifications,
            len(profile.transitions) >= 2,
            profile.portfolio.projects,
            profile.day,
            profile.interview,
            profile.myths,
            profile.outlook,
            any(r.slug == CSM for r in profile.related),
        ]
    )
    # its figures are not the shipped roles': a leak would be visible
    mine = [x.display for x in profile.pay] + [
        d.display for d in (*profile.time.training, *profile.time.job_search)
    ]
    assert not set(mine) & set(SHIPPED_FIGURES)


def test_the_tutor_lists_and_resolves_the_new_role(tutor: Tutor) -> None:
    roles = {r["slug"]: r for r in tutor.roles()}
    assert {CSM, SUPPORT, IC} <= set(roles)
    assert roles[IC]["title"] == "Implementation Consultant"
    assert roles[IC]["guides"] == [GUIDE] and roles[IC]["has_roadmap"]
    for name in ("ic", "IC", "Implementation Consultant", "implementation specialist"):
        assert tutor.resolve_role(name) == IC
    assert tutor.resolve_role("csm") == CSM


# --- across the intents -------------------------------------------------------------------------

CASES = [
    pytest.param(
        "How do I become an implementation consultant?",
        "start",
        [
            "Phase 1: Product configuration and data",
            "Phase 2: Running a rollout",
            "Phase 3: Training and go-live",
            "Time to become job-ready",
        ],
        ["Start with product configuration and data", "about 5 months at 14 hours a week"],
        id="start",
    ),
    pytest.param(
        "where do i even start if i want to be an implementation consultant",
        "start",
        ["Phase 1: Product configuration and data"],
        ["Start with product configuration and data", "Running a rollout"],
        id="start-casual",
    ),
    pytest.param(
        "I'm a customer support agent. Can I switch to implementation consulting?",
        "switch",
        ["Priya: support specialist to implementation consultant in 4 months"],
        ["Yes", "Priya", "4 months", "field mapping", "4–10 months"],
        id="switch-from-support",
    ),
    pytest.param(
        "im a school teacher, could i become an implementation consultant?",
        "switch",
        ["Jonas: school teacher to implementation consultant in 10 months"],
        ["Jonas", "10 months", "explaining complex things to nervous beginners"],
        id="switch-from-teaching",
    ),
    pytest.param(
        "im a project coordinator, can i become an implementation consultant",
        "switch",
        ["Moving in from project coordination"],
        ["keeping plans, owners and deadlines in order", "product configuration"],
        id="switch-without-a-story",
    ),
    pytest.param(
        "Is being an implementation consultant right for me? I like tidy spreadsheets and "
        "teaching people but I hate sales.",
        "fit",
        ["Is implementation right for you"],
        ["tidy systems", "clear end", "changing scope"],
        id="fit",
    ),
    pytest.param(
        "How much does a mid-level implementation consultant make in the UK?",
        "pay",
        ["Pay in the United Kingdom"],
        ["£46,000–£57,000 a year", "Example Salary Survey UK 2026"],
        id="pay-uk-mid",
    ),
    pytest.param(
        "senior implementation consultant salary in canada",
        "pay",
        ["Pay in Canada"],
        ["C$97,000–C$121,000 a year", "Example Pay Panel Canada 2026"],
        id="pay-canada-senior",
    ),
    pytest.param(
        "how much do ICs earn in the uk",
        "pay",
        ["Pay in the United Kingdom"],
        ["£34,500", "£46,000–£57,000", "£63,000–£76,000", "ICs"],
        id="pay-by-acronym",
    ),
    pytest.param(
        "implmentation consultant salary??",
        "pay",
        ["Pay in the United Kingdom", "Pay in Canada"],
        # each region the guide gives, with a figure; which UK band leads is the engine's call
        ["In the United Kingdom", "£", "In Canada", "C$79,400"],
        id="pay-typo",
    ),
    pytest.param(
        "How long does it take to become an implementation consultant if I can study 7 hours "
        "a week?",
        "time",
        ["Time to become job-ready", "Job search"],
        # the plan's 5 months at 14 hours a week, scaled to 7 hours: 5 × 14 / 7 = 10
        ["At your 7 hours a week", "about 10 months", "3–5 months for the job search"],
        id="time-at-my-hours",
    ),
    pytest.param(
        "What skills does an implementation consultant need, and which should I learn first?",
        "skills",
        ["Skills and the order to learn them"],
        [
            "Start with configuration and data",
            "**Delivery**",
            "**Enablement**",
            "workshop facilitation",
        ],
        id="skills-first",
    ),
    pytest.param(
        "what tools do implementation consultants use?",
        "tools",
        ["Tools of the trade"],
        ["Rocketlane", "Smartsheet", "DBeaver", "Postman", "Loom"],
        id="tools",
    ),
    pytest.param(
        "What should my portfolio contain for implementation consultant jobs?",
        "portfolio",
        ["Portfolio projects"],
        ["Rollout plan for an invented customer", "Data migration pack", "Recorded training"],
        id="portfolio",
    ),
    pytest.param(
        "How do I prepare for an implementation consultant interview?",
        "interview",
        ["Interview preparation"],
        ["200-seat customer", "60-minute session", "new scope halfway"],
        id="interview",
    ),
    pytest.param(
        "What does a typical day look like for an implementation consultant?",
        "day",
        ["Morning (8:30 AM–12:00 PM)", "Afternoon (1:00 PM–5:00 PM)"],
        ["configuration workshop", "weekly status call with the project sponsor"],
        id="day",
    ),
    pytest.param(
        "Won't AI replace implementation consultants?",
        "myths",
        ["Myth: AI will automate implementation away"],
        ["No, that's a myth", "scope dispute"],
        id="myths-ai",
    ),
    pytest.param(
        "do i need a degree or certifications to be an implementation consultant?",
        "education",
        ["Education and certifications"],
        ["information systems", "PRINCE2 Foundation", "CAPM"],
        id="education",
    ),
    pytest.param(
        "what level of english do i need to be an implementation consultant?",
        "education",
        ["Education and certifications"],
        ["C1"],
        id="education-language",
    ),
    pytest.param(
        "is there much demand for implementation consultants?",
        "outlook",
        ["Job outlook"],
        ["2,860 open implementation roles", "11% growth"],
        id="outlook",
    ),
    pytest.param(
        "What's the job outlook for implementation consultants?",
        "outlook",
        ["Job outlook"],
        ["2,860 open implementation roles"],
        id="outlook-job-outlook",
    ),
    pytest.param(
        "What does an implementation consultant do?",
        "overview",
        ["What an Implementation Consultant does"],
        ["newly signed customer", "hypercare"],
        id="overview",
    ),
    pytest.param(
        "what comes after implementation consultant? career path?",
        "career_path",
        ["Career ladder"],
        ["Senior Implementation Consultant", "3–6 years", "Head of Professional Services"],
        id="career-path",
    ),
]


@pytest.mark.parametrize(("question", "intent", "cited", "phrases"), CASES)
def test_the_new_role_is_answered(
    tutor: Tutor, question: str, intent: str, cited: list[str], phrases: list[str]
) -> None:
    check(tutor.ask(question), intent, cited, phrases)


def test_time_states_the_training_from_one_guide(tutor: Tutor, profile: Profile) -> None:
    a = tutor.ask("How long does it take to become an implementation consultant?")
    check(a, "time", ["Time to become job-ready"], [d.display for d in profile.time.training])
    assert "differ" not in a.answer, a.answer  # one guide gives both: no disagreement


def test_skills_come_in_the_guides_order(tutor: Tutor, profile: Profile) -> None:
    a = tutor.ask("which implementation consultant skills should i learn first?")
    check(a, "skills", ["Skills and the order to learn them"], [])
    ordered = sorted((g for g in profile.skills if g.order), key=lambda g: g.order or 0)
    at = [a.answer.lower().find(g.name.lower()) for g in ordered]
    assert -1 not in at and at == sorted(at), a.answer
    assert a.answer.startswith("Start with configuration and data"), a.answer


def test_comparing_with_a_shipped_role(tutor: Tutor) -> None:
    """Both sides described, each from its own guides, and the new guide's comparison."""
    a = tutor.ask(
        "What's the difference between an implementation consultant and a customer success manager?"
    )
    csm_guides = {"csm-career-guide-2026", "csm-gtm-career-path"}
    check(
        a,
        "compare",
        ["Implementation Consultant vs Customer Success Manager"],
        ["**Implementation Consultant**", "**Customer Success Manager**", "go-live", "retention"],
        guides={GUIDE, *csm_guides},
    )
    assert {c.guide for c in a.citations} & csm_guides  # the CSM side cites the CSM guides
    b = tutor.ask("IC vs CSM, which should I pick?")
    check(
        b,
        "compare",
        ["Implementation Consultant vs Customer Success Manager"],
        ["Pick"],
        guides={GUIDE, *csm_guides},
    )


def test_a_region_the_guide_does_not_give_is_declined(tutor: Tutor, profile: Profile) -> None:
    a = tutor.ask("implementation consultant pay in germany?")
    assert a.abstained and a.role == IC
    assert "Germany" in a.answer and "United Kingdom and Canada" in a.answer
    for figure in [x.display for x in profile.pay] + SHIPPED_FIGURES:
        assert figure not in a.answer, a.answer


def test_the_selected_role_is_a_default(tutor: Tutor, profile: Profile) -> None:
    """On the new role's page, a question that names no role is about it; one that names a
    shipped role is about that one."""
    a = tutor.ask("how much does it pay?", role=IC)
    check(a, "pay", ["Pay in the United Kingdom", "Pay in Canada"], [])
    assert any(x.display in a.answer for x in profile.pay), a.answer
    b = tutor.ask("How much does a customer success manager make?", role=IC)
    assert b.role == CSM and not b.abstained
    assert not {c.guide for c in b.citations} & {GUIDE}
    for x in profile.pay:
        assert x.display not in b.answer


def test_a_follow_up_carries_the_role_and_level(tutor: Tutor, profile: Profile) -> None:
    tutor.ensure_learner("ic-follow")
    conv = tutor.new_conversation("ic-follow")["id"]

    def ask(q: str) -> Answer:
        return tutor.ask(q, learner_id="ic-follow", conversation_id=conv)

    first = ask("How much does a mid-level implementation consultant make in the UK?")
    check(first, "pay", ["Pay in the United Kingdom"], [pay(profile, "United Kingdom", "mid")])
    second = ask("and in canada?")
    check(second, "pay", ["Pay in Canada"], [pay(profile, "Canada", "mid")])
    assert "£" not in second.answer  # the new region replaces the old one
    third = ask("what about for seniors?")
    check(third, "pay", ["Pay in Canada"], [pay(profile, "Canada", "senior")])
    assert pay(profile, "Canada", "mid") not in third.answer


def test_the_next_step_follows_the_new_roadmap_at_my_hours(tutor: Tutor) -> None:
    learner = "ic-next"
    tutor.ensure_learner(learner)
    tutor.set_progress(learner, "ic-m-configure-trial-workspace", "done")
    tutor.set_progress(learner, "ic-m-field-mapping-sheet", "done")
    tutor.set_hours(learner, 5)
    a = tutor.ask("what should i do next?", learner_id=learner)
    assert a.role == IC and a.intent == "next" and not a.abstained, a.answer
    assert "2 of 9 milestones" in a.answer and "Product configuration and data" in a.answer
    assert "Run a practice migration and reconcile it with SQL checks" in a.answer
    # 12 of 16 milestone weight remains: 5 months × 12/16 × 14/5 hours = 10.5, about 11 months
    assert "At your 5 hours a week" in a.answer and "about 11 months" in a.answer
    assert "Phase 1: Product configuration and data" in headings(a)
    assert any(c.kind == "progress" for c in a.citations)
    for figure in SHIPPED_FIGURES:
        assert figure not in a.answer
    assert tutor.next_steps(learner).answer == a.answer


def test_a_term_of_the_trade_on_the_new_roles_page(tutor: Tutor) -> None:
    a = tutor.ask("what is hypercare?", role=IC)
    check(a, "glossary", ["Key terms: go-live, UAT and hypercare"], ["close support"])


def test_a_term_only_the_new_role_uses_needs_no_role(tutor: Tutor) -> None:
    a = tutor.ask("what is hypercare?")
    check(a, "glossary", ["Key terms: go-live, UAT and hypercare"], ["close support"])


@pytest.mark.parametrize(
    ("question", "once"),
    [
        pytest.param(
            "I'm a customer support agent. Can I switch to implementation consulting?",
            "priya",
            id="switch-story",
        ),
        pytest.param(
            "Won't AI just automate implementation consultants away?",
            "scope dispute",
            id="myth-reality",
        ),
    ],
)
def test_a_fact_is_said_once(tutor: Tutor, question: str, once: str) -> None:
    a = tutor.ask(question)
    assert a.role == IC and not a.abstained
    assert a.answer.lower().count(once) == 1, a.answer


# --- the shipped roles are unchanged ------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("How much does a customer success manager make in the US?", CSM),
        ("How much does a customer support manager make?", SUPPORT),
    ],
)
def test_the_shipped_roles_answer_as_before(
    tutor: Tutor, shipped: Tutor, profile: Profile, question: str, role: str
) -> None:
    before, after = shipped.ask(question), tutor.ask(question)
    assert after.role == before.role == role and not after.abstained
    assert after.answer == before.answer
    key = [(c.guide, c.heading) for c in after.citations]
    assert key == [(c.guide, c.heading) for c in before.citations]
    for x in profile.pay:
        assert x.display not in after.answer


# --- the CLI ------------------------------------------------------------------------------------


def test_the_cli_answers_for_the_new_role_by_its_alias(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, tutor: Tutor, corpus: Path, profile: Profile
) -> None:
    """There is no `tutor roles` command: the new role's guide is in `ingest --json`, `search`
    finds it by an alias, and `ask --role ic` answers from it."""
    home = tutor.settings.home  # ingested by the module fixture: this run finds nothing new
    r = run_cli(monkeypatch, embedder, home, corpus, "ingest", "--json")
    assert r.exit_code == 0, r.output
    report = json_out(r)
    assert report["files"] == 4 and not report["changed_files"] and not report["skipped"]
    r = run_cli(
        monkeypatch,
        embedder,
        home,
        corpus,
        "search",
        "data migration",
        "--role",
        "implementation specialist",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert {h["role"] for h in json_out(r)} == {IC}
    r = run_cli(
        monkeypatch,
        embedder,
        home,
        corpus,
        "ask",
        "How much does it pay in Canada?",
        "--role",
        "ic",
        "--json",
    )
    assert r.exit_code == 0, r.output
    out = json_out(r)
    assert out["role"] == IC and not out["abstained"]
    assert pay(profile, "Canada", "mid") in out["answer"]
    assert {c["guide"] for c in out["citations"]} == {GUIDE}
