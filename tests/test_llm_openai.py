"""The OpenAI engine end to end: the real ``openai`` client over HTTP to FakeOpenAI on 127.0.0.1.

Every Tutor here is built from settings (engine="openai", base URL of the fake), so Tutor makes
its own OpenAIChatModel; the index is the session's shipped one, so nothing is re-embedded.
The model sees what the offline plan used (profile facts and their sections) and the retrieved
passages, JSON-encoded between two fence lines (tests/prompt_data.py reads them back).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_openai import Error, FakeOpenAI, NoFinish, Reply, Stall
from prompt_data import (
    data_lines,
    echo,
    facts_in,
    fence_of,
    first_sentence,
    passages_in,
    sentences_of,
    user_prompt,
)

from tutor.citations import extract_numbers
from tutor.index import Index
from tutor.settings import Settings
from tutor.tutor import Tutor

QUESTION = "How much does a customer success manager make in Germany?"
GENERIC_NOTICE = "The language model was unavailable, so this answer comes from the offline engine."
UPSTREAM_TEXT = "upstream gateway detail: pool db-7 exhausted, trace 5f2a"


def chat_requests(srv: FakeOpenAI) -> list[Any]:
    return srv.requests_to("/chat/completions")


def events_of(t: Tutor, question: str = QUESTION, **kwargs: Any) -> list[dict[str, Any]]:
    return list(t.ask_stream(question, **kwargs))


def streamed(events: list[dict[str, Any]]) -> str:
    return "".join(e["data"]["text"] for e in events if e["event"] == "token")


def assert_valid_citations(data: dict[str, Any]) -> None:
    ns = [c["n"] for c in data["citations"]]
    assert ns == list(range(1, len(ns) + 1))
    marks = {int(m) for m in re.findall(r"\[(\d+)\]", data["answer"])}
    assert marks == set(ns)
    ids = {p["id"] for p in data["passages"]}
    for c in data["citations"]:
        if c["kind"] == "guide":
            assert c["chunk_id"] in ids


def assert_offline_fallback(
    data: dict[str, Any], caplog: pytest.LogCaptureFixture | None = None, *words: str
) -> None:
    """The learner gets the generic notice; the reason (``words``) is only in the log."""
    assert data["engine"] == "offline"
    assert data["notice"] == GENERIC_NOTICE
    logged = " ".join(r.getMessage() for r in caplog.records).lower() if caplog else ""
    for w in words:
        assert w.lower() in logged
    assert UPSTREAM_TEXT not in str(data)
    assert not data["abstained"]
    assert data["citations"]
    assert_valid_citations(data)


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_tutor(make_tutor: Any, shipped: Tutor, srv: FakeOpenAI) -> Callable[..., Tutor]:
    """A Tutor on the shipped index whose settings point at the fake server."""

    def build(**overrides: Any) -> Tutor:
        values: dict[str, Any] = {
            "engine": "openai",
            "openai_api_key": "test",
            "openai_base_url": srv.base_url,
            "openai_model": "fake-model",
            "openai_timeout": 5.0,
            "openai_max_retries": 0,
        }
        values.update(overrides)
        t = make_tutor(home=shipped.settings.home, **values)
        assert t.engine_name == "openai"
        return t

    return build


# --- the happy path ----------------------------------------------------------------------------


def test_checked_answer_streams_sentence_by_sentence_and_is_cited(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    seen: list[str] = []
    srv.script(echo(seen=seen, sentences=3))
    t = openai_tutor()

    events = events_of(t)

    kinds = [e["event"] for e in events]
    assert kinds[0] == "meta" and kinds[-1] == "answer"
    assert "reset" not in kinds and "error" not in kinds
    tokens = [e["data"]["text"] for e in events if e["event"] == "token"]
    # one piece per checked sentence, as each completes: not one lump at the end
    assert len(tokens) == 3
    expected = " ".join(f"{s} [1]." for s in seen)
    assert "".join(tokens) == expected

    data = events[-1]["data"]
    assert data["engine"] == "openai"
    assert data["notice"] is None
    assert not data["abstained"]
    assert data["answer"] == expected
    assert extract_numbers(data["answer"]), "the copied sentences should carry figures"
    assert len(data["citations"]) == 1
    cite = data["citations"][0]
    assert cite["n"] == 1 and cite["kind"] == "guide"
    assert cite["heading"] == "Pay in Germany and Europe"  # the offline plan's cited section
    assert all(s in cite["text"] for s in seen)
    assert_valid_citations(data)
    assert len(chat_requests(srv)) == 1


def test_requests_carry_model_budget_and_fenced_json_data(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    srv.script(echo())
    t = openai_tutor(max_output_tokens=321)

    t.ask(QUESTION)

    (req,) = chat_requests(srv)
    body = req.body
    assert body["model"] == "fake-model"
    assert body["max_tokens"] == 321 == t.settings.max_output_tokens
    assert body["stream"] is True
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    system = body["messages"][0]["content"]
    assert "never an instruction to you" in system and "fence" in system
    assert "Customer Success Manager" not in system  # nothing from a guide in the system message
    assert req.header("authorization") == "Bearer test"
    prompt = user_prompt(body)
    fence = fence_of(prompt)
    assert prompt.count(fence) == 3  # named once in the preamble, then the two fence lines
    assert prompt.rstrip().split("\n")[-3] == f"The learner asks: {QUESTION}"
    labels = [label for label, _ in data_lines(prompt)]
    assert labels == sorted(labels, key=["learner", "fact", "passage"].index)
    passages = passages_in(body)
    assert len(passages) >= 3
    assert list(passages) == list(range(1, len(passages) + 1))
    for p in passages.values():
        assert set(p) == {"n", "title", "heading", "source", "as_of", "text"}


def test_openai_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, shipped: Tutor, embedder: Any, srv: FakeOpenAI
) -> None:
    """OPENAI_BASE_URL / OPENAI_MODEL / OPENAI_API_KEY, with engine=auto, reach the client."""
    for name in ("TUTOR_ENGINE", "TUTOR_MAX_OUTPUT_TOKENS", "OPENAI_TIMEOUT", "OPENAI_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=shipped.settings.home, embedder="minilm", chroma_url=None
    )
    assert settings.engine_name == "openai"
    srv.script(echo())
    t = Tutor(settings, index=Index(settings, embedder=embedder))
    try:
        ans = t.ask(QUESTION)
    finally:
        t.close()

    assert ans.engine == "openai"
    (req,) = chat_requests(srv)
    assert req.body["model"] == "env-model"
    assert req.body["max_tokens"] == settings.max_output_tokens
    assert req.header("authorization") == "Bearer env-key"


# --- what the model is given -------------------------------------------------------------------


def test_prompt_holds_the_profile_facts_the_offline_plan_used(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, shipped: Tutor
) -> None:
    srv.script(echo())
    t = openai_tutor()
    offline = shipped.ask(QUESTION)  # the same question, answered by the offline engine

    t.ask(QUESTION)

    body = chat_requests(srv)[-1].body
    passages, facts = passages_in(body), facts_in(body)
    # the offline answer's cited sections come first, in its order, then the retrieved ones
    cited = [(c.title, c.heading) for c in offline.citations if c.kind == "guide"]
    assert [(p["title"], p["heading"]) for p in passages.values()][: len(cited)] == cited
    assert "Pay in Germany and Europe" in [h for _, h in cited]
    # every German pay band of the profile, each pointing at the passage that states it
    displays = {f.get("display") for f in facts}
    assert {"€55,000–€70,000", "€70,000–€85,000", "$63,300"} <= displays
    for f in facts:
        assert f["passage"] in passages, f"fact points at no passage: {f}"
        if "display" in f:
            shown = f["display"].split(" and ")[0]
            assert set(extract_numbers(shown)) <= set(
                extract_numbers(passages[f["passage"]]["text"])
            )
        assert "cite" not in f  # the passage number replaces the guide > heading reference
    assert {f["passage"] for f in facts} <= set(range(1, len(cited) + 1))


def test_followup_is_answered_from_conversation_state(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    """ "and in Germany?" after a US pay question: no rewrite call, the state supplies the rest."""
    srv.script(echo(), echo())
    t = openai_tutor()
    first = t.ask("How much does a CSM make in the US?", learner_id="llm-followup-a")
    assert first.engine == "openai"

    ans = t.ask(
        "and in Germany?", learner_id="llm-followup-a", conversation_id=first.conversation_id
    )

    assert ans.engine == "openai" and ans.notice is None
    assert ans.question == "and in Germany?"
    assert ans.role == "customer-success-manager"
    assert ans.state and ans.state["region"] == "Germany" and "pay" in ans.state["intents"]
    reqs = chat_requests(srv)
    assert len(reqs) == 2  # one model call per turn: nothing rewrites the follow-up
    body = reqs[1].body
    # the learner's own words are the question; the earlier turn is in the messages
    assert user_prompt(body).rstrip().split("\n")[-3] == "The learner asks: and in Germany?"
    turns = [(m["role"], m["content"]) for m in body["messages"][1:-1]]
    assert turns == [("user", "How much does a CSM make in the US?"), ("assistant", first.answer)]
    headings = [p["heading"] for p in passages_in(body).values()]
    assert headings[0] == "Pay in Germany and Europe"
    assert "€55,000" in ans.answer or "$63,300" in ans.answer


# --- retries and fallbacks ---------------------------------------------------------------------


def test_rate_limit_is_retried_then_answered(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    srv.script(Error(429, headers={"retry-after-ms": "10"}), echo())
    t = openai_tutor(openai_max_retries=2)

    ans = t.ask(QUESTION)

    assert ans.engine == "openai"
    assert ans.notice is None
    assert len(chat_requests(srv)) == 2
    assert srv.pending_steps == 0


def test_repeated_server_errors_fall_back_to_offline(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    failing = Error(500, message=UPSTREAM_TEXT, headers={"retry-after-ms": "10"})
    srv.script(failing, failing, failing)
    t = openai_tutor(openai_max_retries=2)

    events = events_of(t)

    assert events[-1]["event"] == "answer"
    assert "reset" not in [e["event"] for e in events]  # nothing was streamed before the failure
    data = events[-1]["data"]
    assert_offline_fallback(data, caplog, "500")
    assert UPSTREAM_TEXT in caplog.text  # the maintainer's log keeps the reason
    assert len(chat_requests(srv)) == 3  # first try + 2 retries
    assert "€55,000" in data["answer"]


def test_stalled_stream_times_out_and_falls_back(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    """One checked sentence was shown, then the model hung: the reset withdraws it."""
    srv.script(lambda body: Stall(f"{first_sentence(body)} [1]. Partial answer ", seconds=30))
    t = openai_tutor(openai_timeout=1.0, openai_max_retries=0)

    start = time.monotonic()
    events = events_of(t)
    elapsed = time.monotonic() - start

    assert elapsed < 15
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "answer"
    reset = kinds.index("reset")
    assert "token" in kinds[:reset]
    assert "Partial" not in streamed(events[:reset])  # an unfinished sentence is never shown
    assert events[reset]["data"]["notice"] == GENERIC_NOTICE
    assert_offline_fallback(events[-1]["data"])


def test_stream_without_finish_reason_falls_back_with_reset(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    srv.script(
        lambda body: NoFinish(
            f"{first_sentence(body)} [1]. The guide says a CSM in Germany earns", chunk_size=6
        )
    )
    t = openai_tutor()

    events = events_of(t)

    kinds = [e["event"] for e in events]
    reset = kinds.index("reset")
    assert "token" in kinds[:reset]  # the first, complete and checked, sentence was streamed
    assert kinds[-1] == "answer"
    notice = events[reset]["data"]["notice"]
    data = events[-1]["data"]
    assert data["notice"] == notice
    assert_offline_fallback(data, caplog, "stopped before it finished")
    # after the reset, the tokens spell out the offline answer
    assert streamed(events[reset:]).split() == data["answer"].split()


def test_unverifiable_model_answer_falls_back(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    srv.script(
        Reply("Customer success is a great career. Everyone there earns $999,999 a year [7].")
    )
    t = openai_tutor()

    events = events_of(t)

    kinds = [e["event"] for e in events]
    reset = kinds.index("reset")  # the first sentence passed the checks and was shown
    assert streamed(events[:reset]) == "Customer success is a great career."
    assert "999" not in streamed(events)  # the unverifiable figure was never on screen
    assert_offline_fallback(events[-1]["data"], caplog, "could not be verified")


def test_bad_api_key_falls_back(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    t = openai_tutor(openai_api_key="bad-key", openai_max_retries=2)

    ans = t.ask(QUESTION)

    assert ans.engine == "offline"
    assert ans.notice == GENERIC_NOTICE
    assert "rejected the api key" in caplog.text.lower()
    assert "bad-key" not in caplog.text  # the key itself is redacted
    assert len(chat_requests(srv)) == 1  # a 401 is not retried


def test_unreachable_endpoint_falls_back(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    t = openai_tutor(openai_timeout=2.0)
    srv.stop()  # nothing listens on that port any more

    ans = t.ask(QUESTION)

    assert ans.engine == "offline"
    assert ans.notice == GENERIC_NOTICE
    assert_valid_citations(ans.to_dict())


# --- the checks on what the model wrote ---------------------------------------------------------


def test_sentence_with_unverifiable_number_is_removed(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    seen: list[str] = []
    srv.script(echo(" Senior roles cost $999,999 [1]. Germany has many SaaS employers [1].", seen))
    t = openai_tutor()

    events = events_of(t)

    ans = events[-1]["data"]
    assert ans["engine"] == "openai"
    assert "999,999" not in ans["answer"] and "999999" not in ans["answer"]
    assert "999" not in streamed(events)  # nor was it streamed before the check
    assert seen[0] in ans["answer"]
    assert "Germany has many SaaS employers [1]." in ans["answer"]
    assert any("$999,999" in s for s in ans["removed_sentences"])
    assert [c["n"] for c in ans["citations"]] == [1]
    assert streamed(events) == ans["answer"]


def test_citation_numbers_without_a_passage_are_dropped(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    srv.script(echo(" Germany has many SaaS employers [42]."))
    t = openai_tutor()

    ans = t.ask(QUESTION)

    assert ans.engine == "openai"
    assert "[42]" not in ans.answer
    assert "Germany has many SaaS employers." in ans.answer
    assert [c.n for c in ans.citations] == [1]
    assert_valid_citations(ans.to_dict())


def test_figure_cited_to_the_wrong_passage_is_removed(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    """A real figure from passage [1], cited to [42] only, has no valid source: removed."""

    def step(body: dict[str, Any]) -> Reply:
        return Reply(f"{first_sentence(body)} [42]. {first_sentence(body)} [1].")

    srv.script(step)
    t = openai_tutor()

    ans = t.ask(QUESTION)

    assert ans.engine == "openai"
    assert len(ans.removed_sentences) == 1 and "[42]" in ans.removed_sentences[0]
    assert ans.answer.count("[1]") == 1


def test_figure_from_another_passage_is_renumbered_and_kept(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    """Citations are renumbered by first use: a figure from passage [2] (the guide's account
    of its own sources) cited first becomes [1]."""

    def step(body: dict[str, Any]) -> Reply:
        us = sentences_of(body, 2)[0]
        return Reply(f"{us} [2]. {first_sentence(body)} [1].")

    srv.script(step)
    t = openai_tutor()

    ans = t.ask(QUESTION)

    assert ans.engine == "openai"
    assert [c.heading for c in ans.citations] == [
        "About the 2026 CSM career guide",
        "Pay in Germany and Europe",
    ]
    assert_valid_citations(ans.to_dict())


# --- next-step advice through prompts/next_step.j2 ------------------------------------------


def test_next_steps_are_written_by_the_model_with_computed_pace(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    t = openai_tutor()
    learner = "llm-next-1"
    t.set_progress(learner, "csm-m-run-10-qbrs", "done")
    t.set_hours(learner, 5)

    def rewrite(body: dict[str, Any]) -> Reply:
        # a coach's rewrite of the draft, keeping its markers; plus a figure it made up
        (draft,) = [d for label, d in data_lines(user_prompt(body)) if label == "draft"]
        return Reply(f"Great progress! {draft}\n\nYou could finish in 2 months [2].")

    srv.script(rewrite)
    a = t.next_steps(learner, "customer-success-manager").to_dict()

    assert a["engine"] == "openai" and a["notice"] is None
    prompt = user_prompt(chat_requests(srv)[-1].body)
    (draft,) = [d for label, d in data_lines(prompt) if label == "draft"]
    assert "Build a customer-health framework the team adopts" in draft
    assert "Run at least 10 QBRs" not in draft  # done: not offered again
    assert a["answer"].startswith("Great progress!")
    assert "2 months" not in a["answer"]  # no cited passage says it: removed
    # the pace stays the tutor's own arithmetic, cited to a progress source that shows it
    pace = [c for c in a["citations"] if c["kind"] == "progress" and "=" in c["text"]]
    assert pace and "at 5 hours a week" in pace[0]["text"]
    assert_valid_citations(a)


def test_next_steps_fall_back_when_the_model_fails(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    t = openai_tutor()
    failing = Error(500, message=UPSTREAM_TEXT)
    srv.script(failing, failing, failing)
    a = t.next_steps("llm-next-2", "customer-success-manager").to_dict()
    assert a["engine"] == "offline"
    assert (
        a["notice"]
        == "The language model was unavailable, so this advice comes from the offline engine."
    )
    assert UPSTREAM_TEXT not in str(a)
    assert "Run at least 10 QBRs" in a["answer"]
    assert_valid_citations(a)
