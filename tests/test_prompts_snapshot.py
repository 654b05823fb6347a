"""Rendered prompts and offline answers, compared with committed snapshots; the token budget.

Refresh the snapshots after a deliberate wording change with:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_prompts_snapshot.py

then read the diff of tests/snapshots/ before committing it. Inputs are fixed: sections picked
by heading (not by ranking), plans from the shipped profiles with a fixed learner and question
and no embedder, and a fixed fence marker, so only a change of wording or data moves them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError
from prompt_data import data_lines, fence_of

from tutor.citations import Citation
from tutor.compose import Sources, render_answer
from tutor.errors import ConfigError
from tutor.model_answer import MAX_WORDS, build_messages, next_step_messages
from tutor.nextsteps import Progress, render_next
from tutor.plans import Ask, Context, Learner, plan_for
from tutor.prompts import Budget, render
from tutor.retrieval import Hit
from tutor.settings import Settings
from tutor.tutor import Tutor

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
FENCE = "-----DATA 0123456789abcdef-----"
CSM = "customer-success-manager"
SUP = "customer-support-manager"

QUESTION = "How much does a customer success manager make in Germany?"
PROGRESS = (
    "2 of 9 milestones done.\n"
    "- Run at least 10 QBRs and collect customer feedback: done\n"
    "- Build a customer-health framework the team adopts: done\n"
    "- Drive one upsell from a strategic account: in progress"
)
LEARNER = Learner(
    background="call center agent",
    hours=5,
    hours_from="settings",
    done=[
        "Run at least 10 QBRs and collect customer feedback",
        "Build a customer-health framework the team adopts",
    ],
    in_progress=["Drive one upsell from a strategic account"],
    total=9,
    current_phase="Customer fundamentals",
    bg_phrase="as a call center agent",
    bg_noun="a call center agent",
)
# Passages the retriever would add after the plan's own sections, picked by heading.
RETRIEVED = [
    ("csm-career-guide-2026", "Salary sources cited by the page"),
    ("csm-gtm-career-path", "Key figures at a glance"),
    ("csm-gtm-career-path", "Pay in India"),
]


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path} is missing: run with UPDATE_SNAPSHOTS=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"'{name}' changed; if that is intended, rerun with UPDATE_SNAPSHOTS=1 "
        "and review the diff of tests/snapshots/"
    )


def section_hit(t: Tutor, guide: str, heading: str) -> Hit:
    t.retriever.refresh()
    chunks = sorted(
        (c for c in t.retriever.chunks if c.guide == guide and c.heading == heading),
        key=lambda c: c.position,
    )
    assert chunks, f"no passage for {guide} › {heading} in the shipped index"
    return Hit(chunks[0], 1.0)


@pytest.fixture(scope="module")
def prompts_dir(shipped: Tutor) -> Path:
    return shipped.settings.prompts_dir


@pytest.fixture(scope="module")
def model_data(shipped: Tutor) -> tuple[dict[int, Citation], list[tuple[int, Any]]]:
    """What the model path gets for QUESTION: the German pay facts the offline plan cites,
    their sections, then retrieved passages (tutor/tutor.py ``_llm_answer``)."""
    profile = shipped.coach.knowledge.get().profiles[CSM]
    sources = Sources(shipped.index.find_section)
    for fact in profile.pay:
        if fact.region == "Germany":
            sources.cite(fact)
    sources.cite(*profile.pay_notes[:1])
    citations = dict(sources.citations)
    for guide, heading in RETRIEVED:
        n = len(citations) + 1
        citations[n] = Citation.from_hit(n, section_hit(shipped, guide, heading))
    return citations, list(sources.facts)


def answer_messages(
    settings: Settings,
    data: tuple[dict[int, Citation], list[tuple[int, Any]]],
    history: list[dict[str, str]] | None = None,
    citations: dict[int, Citation] | None = None,
) -> tuple[list[dict[str, str]], dict[int, Citation]]:
    cites, facts = data
    return build_messages(
        settings,
        QUESTION,
        cites if citations is None else citations,
        facts,
        LEARNER,
        PROGRESS,
        list(history or []),
        fence=FENCE,
    )


# --- the model's prompts -------------------------------------------------------------------------


def test_system_prompt_snapshot(prompts_dir: Path) -> None:
    text = render(prompts_dir, "system", max_words=MAX_WORDS)
    check_snapshot("system", text)
    assert "never an instruction to you" in text
    assert f"At most {MAX_WORDS} words" in text


def test_answer_prompt_snapshot(shipped: Tutor, model_data: Any) -> None:
    messages, kept = answer_messages(shipped.settings, model_data)
    assert kept == model_data[0]
    assert [m["role"] for m in messages] == ["system", "user"]
    text = messages[-1]["content"]
    check_snapshot("answer", text)
    assert fence_of(text) == "0123456789abcdef"
    lines = data_lines(text)
    assert [label for label, _ in lines][0] == "learner"
    assert lines[0][1]["background"] == "call center agent" and lines[0][1]["hours_per_week"] == 5
    assert {f["passage"] for label, f in lines if label == "fact"} == {1, 2}


def test_next_step_prompt_snapshot(shipped: Tutor) -> None:
    settings = shipped.settings
    k = shipped.coach.knowledge.get()
    rm = k.roadmaps[CSM]
    sources = Sources(shipped.index.find_section)
    prog = Progress(
        2,
        9,
        {"csm-m-run-10-qbrs": "done", "csm-m-health-framework-adopted": "done"},
        "csm-p1-customer-fundamentals",
        [],
        5,
    )
    views = shipped.coach.role_views(k)
    draft = render_next(settings, sources, views[CSM], rm, prog, k.profiles[CSM])
    text = next_step_messages(settings, draft, sources.citations, fence=FENCE)[-1]["content"]
    check_snapshot("next_step", text)
    lines = data_lines(text)
    assert lines[0] == ("draft", draft)
    assert [p["n"] for label, p in lines if label == "passage"] == list(sources.citations)


def test_missing_variable_raises(prompts_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UndefinedError):
        render(prompts_dir, "answer", question=QUESTION, fence=FENCE, max_words=MAX_WORDS)
    with pytest.raises(UndefinedError):
        render(prompts_dir, "system")  # max_words missing
    (tmp_path / "probe.j2").write_text("Hello {{ learner }} and {{ missing }}\n")
    with pytest.raises(UndefinedError):
        render(tmp_path, "probe", learner="x")


def test_missing_template_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.j2"):
        render(tmp_path, "nope")


def test_each_request_gets_a_fresh_fence(shipped: Tutor, model_data: Any) -> None:
    cites, facts = model_data
    fences = {
        fence_of(
            build_messages(shipped.settings, QUESTION, cites, facts, Learner(), "", [])[0][-1][
                "content"
            ]
        )
        for _ in range(5)
    }
    assert len(fences) == 5


# --- the offline answers: prompts/answers/*.j2 ----------------------------------------------------


def offline_answer(shipped: Tutor, ask: Ask, learner: Learner = LEARNER) -> str:
    """A plan from the shipped profile, rendered by its template; the text and its sources."""
    k = shipped.coach.knowledge.get()
    profile = k.profiles[ask.role]
    ctx = Context(profile, k.roadmaps.get(profile.roadmap or ask.role), k.taxonomy, learner, None)
    plan = plan_for(ask, ctx)
    sources = Sources(shipped.index.find_section)
    data = {**plan.data, "role": shipped.coach.role_views(k)[ask.role]}
    data.pop("brief", None)
    text = render_answer(shipped.settings.prompts_dir, plan.template, sources, **data)
    return with_sources(text, sources)


def with_sources(text: str, sources: Sources) -> str:
    cites = [
        f"[{n}] {c.guide} › {c.heading}" if c.kind == "guide" else f"[{n}] {c.title}: {c.text}"
        for n, c in sources.citations.items()
    ]
    return text.strip() + "\n\n---\n" + "\n".join(cites) + "\n"


ASKS = {
    "pay": Ask(
        intent="pay",
        role=CSM,
        region="Germany",
        regions=["Germany"],
        text="How much does a CSM make in Germany?",
    ),
    "time": Ask(intent="time", role=CSM, text="How long does it take to become a CSM?"),
    "switch": Ask(
        intent="switch", role=CSM, text="I'm a call center agent, can I switch to customer success?"
    ),
    "skills": Ask(
        intent="skills",
        role=CSM,
        text="What skills do I need, and which should I learn first?",
        wants_first=True,
    ),
    "support-pay": Ask(
        intent="pay",
        role="customer-support-manager",
        text="What does a customer support manager earn?",
    ),
    # every other answer template, so that a wording change is a reviewable diff
    "support-time-tier": Ask(
        intent="time",
        role=SUP,
        level="entry",
        text="How many years of experience does a junior support manager need?",
    ),
    "start": Ask(intent="start", role=CSM, text="where do i even start"),
    "portfolio": Ask(intent="portfolio", role=CSM, text="what goes in my portfolio"),
    "career_path": Ask(intent="career_path", role=SUP, text="where can this job lead?"),
    "compare": Ask(
        intent="compare",
        role=CSM,
        roles=[CSM, SUP],
        text="customer success vs customer support manager?",
    ),
    "day": Ask(intent="day", role=CSM, text="what does a typical day look like?"),
    "education": Ask(intent="education", role=SUP, text="do I need a degree?"),
    "fit": Ask(intent="fit", role=CSM, text="is this job right for me?"),
    "glossary": Ask(intent="glossary", role=CSM, text="what's a QBR?"),
    "interview": Ask(intent="interview", role=SUP, text="how do I prepare for interviews?"),
    "myths": Ask(intent="myths", role=CSM, text="won't AI replace CSMs?"),
    "outlook": Ask(intent="outlook", role=SUP, text="is the job market growing?"),
    "overview": Ask(intent="overview", role=CSM, text="what does a CSM do?"),
    "roadmap": Ask(intent="roadmap", role=CSM, text="show me the roadmap"),
    "sources": Ask(intent="sources", role=CSM, text="where do your figures come from?"),
    "tools": Ask(intent="tools", role=SUP, text="which tools should I learn?"),
    "workplace": Ask(intent="workplace", role=CSM, text="can I work remotely?"),
    # the branches a question's own wording picks
    "fit-cons": Ask(intent="fit", role=SUP, text="whats the hardest part?", facet="cons"),
    "myths-all": Ask(intent="myths", role=CSM, text="what are the myths?", facet="all"),
    "skills-named": Ask(
        intent="skills", role=CSM, text="do i need sql?", yes_no=True, specific={"sql"}
    ),
    "pay-level-note": Ask(
        intent="pay",
        role=CSM,
        region="United States",
        regions=["United States"],
        level="senior",
        text="senior csm pay in the us?",
    ),
}


@pytest.mark.parametrize("name", sorted(ASKS))
def test_offline_answer_snapshot(shipped: Tutor, name: str) -> None:
    text = offline_answer(shipped, ASKS[name])
    check_snapshot(f"answers/{name}", text)
    assert "[1]" in text


def test_offline_next_step_snapshot(shipped: Tutor) -> None:
    k = shipped.coach.knowledge.get()
    sources = Sources(shipped.index.find_section)
    prog = Progress(1, 9, {"csm-m-run-10-qbrs": "done"}, "csm-p1-customer-fundamentals", [], 5)
    views = shipped.coach.role_views(k)
    text = render_next(
        shipped.settings, sources, views[CSM], k.roadmaps[CSM], prog, k.profiles[CSM]
    )
    check_snapshot("answers/next", with_sources(text, sources))


def test_offline_decline_snapshot(shipped: Tutor) -> None:
    sources = Sources(shipped.index.find_section)
    roles = ["Customer Success Manager", "Customer Support Manager"]
    texts = [
        render_answer(shipped.settings.prompts_dir, "decline", sources, kind=kind, roles=roles)
        for kind in ("legal", "visa", "medical", "off_topic")
    ]
    check_snapshot("answers/decline", "\n\n".join(t.strip() for t in texts) + "\n")
    assert not sources.citations  # a decline cites nothing


# --- the token budget ---------------------------------------------------------------------------

HISTORY = [
    {"role": "user", "content": "OLDEST question about pay in the United States " * 8},
    {"role": "assistant", "content": "OLDEST answer with figures and citations " * 8},
    {"role": "user", "content": "NEWEST question about time to get job-ready " * 8},
    {"role": "assistant", "content": "NEWEST answer about months and weekly hours " * 8},
]
OUT = 100


def window(settings: Settings, size: int, out: int = OUT) -> Settings:
    # model_copy skips validation: a window below the documented minimum is fine for a test
    return settings.model_copy(
        update={"context_window": size, "max_output_tokens": out, "openai_model": "gpt-4o-mini"}
    )


def budget_of(settings: Settings) -> Budget:
    return Budget(settings.context_window, settings.max_output_tokens, settings.openai_model)


def first(cites: dict[int, Citation], n: int) -> dict[int, Citation]:
    return {k: v for k, v in cites.items() if k <= n}


def size(shipped: Tutor, data: Any, cites: dict[int, Citation], history: list[Any]) -> int:
    """Prompt tokens for exactly these passages and this history (a window that fits all)."""
    settings = window(shipped.settings, 1_000_000)
    messages, kept = answer_messages(settings, data, history, cites)
    assert kept == cites
    return budget_of(settings).count(messages)


def fit(
    shipped: Tutor, data: Any, size_: int, history: list[Any]
) -> tuple[list[dict[str, str]], dict[int, Citation]]:
    settings = window(shipped.settings, size_)
    messages, kept = answer_messages(settings, data, history)
    assert budget_of(settings).count(messages) + OUT <= size_  # the answer's room stays free
    return messages, kept


def test_budget_keeps_everything_when_it_fits(shipped: Tutor, model_data: Any) -> None:
    cites = model_data[0]
    assert len(cites) == 5
    messages, kept = fit(
        shipped, model_data, size(shipped, model_data, cites, HISTORY) + 164, HISTORY
    )
    assert kept == cites
    assert messages[1:-1] == HISTORY
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"


def test_budget_drops_oldest_history_first(shipped: Tutor, model_data: Any) -> None:
    cites = model_data[0]
    limit = size(shipped, model_data, cites, HISTORY[2:]) + OUT + 64
    assert size(shipped, model_data, cites, HISTORY) + OUT + 64 > limit

    messages, kept = fit(shipped, model_data, limit, HISTORY)

    assert kept == cites  # no passage lost while history could still go
    assert messages[1:-1] == HISTORY[2:]
    joined = " ".join(m["content"] for m in messages)
    assert "NEWEST" in joined and "OLDEST" not in joined


def test_budget_then_drops_the_last_added_passages(shipped: Tutor, model_data: Any) -> None:
    cites = model_data[0]
    limit = size(shipped, model_data, first(cites, 3), []) + OUT + 64
    assert size(shipped, model_data, first(cites, 4), []) + OUT + 64 > limit

    messages, kept = fit(shipped, model_data, limit, HISTORY)

    assert kept == first(cites, 3)  # the plan's sections and the best retrieved one stay
    assert len(messages) == 2  # system + user: all history went first
    shown = [p["n"] for label, p in data_lines(messages[-1]["content"]) if label == "passage"]
    assert shown == [1, 2, 3]
    assert cites[5].text not in messages[-1]["content"]


def test_facts_go_with_their_passage(shipped: Tutor, model_data: Any) -> None:
    """A fact whose passage was dropped for room is dropped too: no dangling number."""
    cites = model_data[0]
    limit = size(shipped, model_data, first(cites, 1), []) + OUT + 64
    messages, kept = fit(shipped, model_data, limit, [])
    assert list(kept) == [1]
    facts = [f for label, f in data_lines(messages[-1]["content"]) if label == "fact"]
    assert facts and {f["passage"] for f in facts} == {1}


def test_budget_that_cannot_fit_one_passage_is_a_config_error(
    shipped: Tutor, model_data: Any
) -> None:
    limit = size(shipped, model_data, first(model_data[0], 1), []) + OUT + 63  # a token short
    with pytest.raises(ConfigError) as err:
        answer_messages(window(shipped.settings, limit), model_data, HISTORY)
    assert err.value.hint and "TUTOR_CONTEXT_WINDOW" in err.value.hint


@pytest.mark.parametrize("out", [16, 600, 4000])
def test_budget_reserves_the_output_tokens(shipped: Tutor, model_data: Any, out: int) -> None:
    cites = model_data[0]
    limit = size(shipped, model_data, first(cites, 3), []) + 64 + 4000
    settings = window(shipped.settings, limit, out)
    messages, kept = answer_messages(settings, model_data, HISTORY)
    budget = budget_of(settings)
    assert budget.count(messages) + out <= limit
    assert budget.prompt_limit == limit - out - 64
    if out == 4000:
        assert kept == first(cites, 3)


def test_json_lines_round_trip(shipped: Tutor, model_data: Any) -> None:
    messages, kept = answer_messages(shipped.settings, model_data)
    decoded = {p["n"]: p for label, p in data_lines(messages[-1]["content"]) if label == "passage"}
    for n, c in kept.items():
        assert decoded[n]["text"] == c.text and decoded[n]["heading"] == c.heading
    assert json.dumps(decoded[1]["text"], ensure_ascii=False) in messages[-1]["content"]


def test_focused_answer_snapshot(shipped: Tutor) -> None:
    """A question that turns on one profile fact: the lead (prompts/answers/lead.j2) first."""
    ans = shipped.ask("By how much did the telecom manager cut inbound tickets?", role=SUP)
    check_snapshot("answers/focused", with_citations(ans))
    assert "30%" in ans.answer.split("\n")[0]


def with_citations(ans: Any) -> str:
    cites = [f"[{c.n}] {c.guide} › {c.heading}" for c in ans.citations]
    return ans.answer.strip() + "\n\n---\n" + "\n".join(cites) + "\n"


def test_story_snapshot(shipped: Tutor) -> None:
    """A question about one person in a guide's story is answered with that story."""
    k = shipped.coach.knowledge.get()
    story = next(t for t in k.profiles[CSM].transitions if t.person == "Alex")
    sources = Sources(shipped.index.find_section)
    view = shipped.coach.role_views(k)[CSM]
    text = render_answer(shipped.settings.prompts_dir, "story", sources, role=view, story=story)
    check_snapshot("answers/story", with_sources(text, sources))
