"""The OpenAI engine end to end: the real ``openai`` client over HTTP to FakeOpenAI on 127.0.0.1.

Every Tutor here is built from settings (engine="openai", base URL of the fake), so Tutor makes
its own OpenAIChatModel; the index is the session's shipped one, so nothing is re-embedded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_openai import Error, FakeOpenAI, NoFinish, Reply, Stall

from tutor import offline as off
from tutor.citations import extract_numbers, split_sentences
from tutor.index import Index
from tutor.settings import Settings
from tutor.tutor import Tutor

PASSAGE = re.compile(r"^\[(\d+)\] [^\n]*\n<<<\n(.*?)\n>>>", re.M | re.S)
QUESTION = "How much does a customer success manager make in Germany?"
GENERIC_NOTICE = "The language model was unavailable, so this answer comes from the offline engine."


def user_prompt(body: dict[str, Any]) -> str:
    return [m["content"] for m in body["messages"] if m["role"] == "user"][-1]


def passages_in(body: dict[str, Any]) -> dict[int, str]:
    """The numbered passages of an answer prompt, as the model receives them."""
    return {int(n): text for n, text in PASSAGE.findall(user_prompt(body))}


def first_sentence(body: dict[str, Any]) -> str:
    return split_sentences(passages_in(body)[1])[0].rstrip(".")


def echo(suffix: str = "", seen: list[str] | None = None) -> Callable[[dict[str, Any]], Reply]:
    """A model that copies the first sentence of passage [1], cites it, then adds `suffix`."""

    def step(body: dict[str, Any]) -> Reply:
        sentence = first_sentence(body)
        if seen is not None:
            seen.append(sentence)
        return Reply(f"{sentence} [1].{suffix}", chunk_size=8)

    return step


def chat_requests(srv: FakeOpenAI) -> list[Any]:
    return srv.requests_to("/chat/completions")


def events_of(t: Tutor, question: str = QUESTION, **kwargs: Any) -> list[dict[str, Any]]:
    return list(t.ask_stream(question, **kwargs))


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


def test_streamed_answer_arrives_in_tokens_and_is_cited(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    seen: list[str] = []
    srv.script(echo(seen=seen))
    t = openai_tutor()

    events = events_of(t)

    kinds = [e["event"] for e in events]
    assert kinds[0] == "meta" and kinds[-1] == "answer"
    assert "reset" not in kinds and "error" not in kinds
    tokens = [e["data"]["text"] for e in events if e["event"] == "token"]
    assert len(tokens) >= 3  # streamed in pieces, not one lump
    assert "".join(tokens) == f"{seen[0]} [1]."

    data = events[-1]["data"]
    assert data["engine"] == "openai"
    assert data["notice"] is None
    assert not data["abstained"]
    assert data["answer"] == f"{seen[0]} [1]."
    assert extract_numbers(data["answer"]), "the copied sentence should carry a figure"
    assert len(data["citations"]) == 1
    cite = data["citations"][0]
    assert cite["n"] == 1 and cite["kind"] == "guide"
    assert cite["chunk_id"] == data["passages"][0]["id"]
    assert seen[0] in cite["text"]
    assert_valid_citations(data)
    assert len(chat_requests(srv)) == 1


def test_requests_carry_model_budget_and_quoted_passages(
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
    assert body["messages"][0]["role"] == "system"
    assert "not instructions" in body["messages"][0]["content"]
    assert req.header("authorization") == "Bearer test"
    prompt = user_prompt(body)
    assert f"Question: {QUESTION}" in prompt
    assert len(passages_in(body)) >= 3


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
    failing = Error(500, headers={"retry-after-ms": "10"})
    srv.script(failing, failing, failing)
    t = openai_tutor(openai_max_retries=2)

    events = events_of(t)

    assert events[-1]["event"] == "answer"
    assert "reset" not in [e["event"] for e in events]  # nothing was streamed before the failure
    data = events[-1]["data"]
    assert_offline_fallback(data, caplog, "500")
    assert len(chat_requests(srv)) == 3  # first try + 2 retries
    assert "€55,000" in data["answer"]


def test_stalled_stream_times_out_and_falls_back(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    srv.script(Stall("Partial answer ", seconds=30))
    t = openai_tutor(openai_timeout=1.0, openai_max_retries=0)

    start = time.monotonic()
    events = events_of(t)
    elapsed = time.monotonic() - start

    assert elapsed < 15
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "answer"
    assert "reset" in kinds  # "Partial answer " had been streamed and must be withdrawn
    assert_offline_fallback(events[-1]["data"])


def test_stream_without_finish_reason_falls_back_with_reset(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    srv.script(NoFinish("The guide says a CSM in Germany earns", chunk_size=6))
    t = openai_tutor()

    events = events_of(t)

    kinds = [e["event"] for e in events]
    reset = kinds.index("reset")
    assert "token" in kinds[:reset]  # the partial text was streamed first
    assert kinds[-1] == "answer"
    notice = events[reset]["data"]["notice"]
    data = events[-1]["data"]
    assert data["notice"] == notice
    assert_offline_fallback(data, caplog, "stopped before it finished")
    # after the reset, the tokens spell out the offline answer
    after = "".join(e["data"]["text"] for e in events[reset:] if e["event"] == "token")
    assert after.split() == data["answer"].split()


def test_unverifiable_model_answer_falls_back(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    srv.script(Reply("Customer success is a great career with lots of room to grow."))
    t = openai_tutor()

    events = events_of(t)

    assert "reset" in [e["event"] for e in events]
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
    assert ans.notice


# --- the checks on what the model wrote ---------------------------------------------------------


def test_sentence_with_unverifiable_number_is_removed(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    seen: list[str] = []
    srv.script(echo(" Senior roles cost $999,999 [1]. Germany has many SaaS employers [1].", seen))
    t = openai_tutor()

    ans = t.ask(QUESTION)

    assert ans.engine == "openai"
    assert "999,999" not in ans.answer and "999999" not in ans.answer
    assert seen[0] in ans.answer
    assert "Germany has many SaaS employers [1]." in ans.answer
    assert any("$999,999" in s for s in ans.removed_sentences)
    assert [c.n for c in ans.citations] == [1]


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


# --- follow-up rewriting -------------------------------------------------------------------------


def test_followup_is_rewritten_by_the_model(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    standalone = "How much does a Customer Success Manager make in Germany?"
    srv.script(echo(), Reply(standalone), echo())
    t = openai_tutor()
    first = t.ask("How much does a CSM make in the US?", learner_id="llm-followup-a")
    assert first.engine == "openai"

    ans = t.ask(
        "and in Germany?", learner_id="llm-followup-a", conversation_id=first.conversation_id
    )

    assert ans.standalone_question == standalone
    assert ans.question == "and in Germany?"
    assert ans.engine == "openai"
    assert ans.role == "customer-success-manager"
    reqs = chat_requests(srv)
    assert len(reqs) == 3
    rewrite_prompt = user_prompt(reqs[1].body)
    assert "Last message: and in Germany?" in rewrite_prompt
    assert "How much does a CSM make in the US?" in rewrite_prompt  # the history is shown
    assert f"Question: {standalone}" in user_prompt(reqs[2].body)


def test_followup_rewrite_falls_back_to_the_offline_rule(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    srv.script(echo(), Error(500, headers={"x-should-retry": "false"}), echo())
    t = openai_tutor()
    first = t.ask("How much does a CSM make in the US?", learner_id="llm-followup-b")

    ans = t.ask(
        "and in Germany?", learner_id="llm-followup-b", conversation_id=first.conversation_id
    )

    expected = off.rewrite_followup("and in Germany?", ["How much does a CSM make in the US?"])
    assert ans.standalone_question == expected
    assert "Germany" in expected and "US" not in expected
    assert ans.engine == "openai"  # only the rewrite failed; the answer still came from the model
    assert ans.notice is None
    assert len(chat_requests(srv)) == 3


# --- next-step advice through prompts/next_step.j2 ------------------------------------------


def test_next_steps_are_written_by_the_model_with_computed_pace(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    t = openai_tutor()
    learner = "llm-next-1"
    t.set_progress(learner, "csm-m-run-10-qbrs", "done")
    t.set_hours(learner, 5)
    srv.script(echo())
    a = t.next_steps(learner, "customer-success-manager").to_dict()
    assert a["engine"] == "openai" and a["notice"] is None
    prompt = user_prompt(chat_requests(srv)[-1].body)
    assert "Milestones to work on next" in prompt and "csm-m-health-framework-adopted" in prompt
    assert "csm-m-run-10-qbrs:" not in prompt  # done: not offered again
    # the pace stays the tutor's own arithmetic, cited to a progress source that shows it
    pace = [c for c in a["citations"] if c["kind"] == "progress" and "=" in c["text"]]
    assert pace and "at 5 hours a week" in pace[0]["text"]
    assert_valid_citations(a)


def test_next_steps_fall_back_when_the_model_fails(
    openai_tutor: Callable[..., Tutor], srv: FakeOpenAI
) -> None:
    t = openai_tutor()
    srv.script(Error(500), Error(500), Error(500))
    a = t.next_steps("llm-next-2", "customer-success-manager").to_dict()
    assert a["engine"] == "offline" and "offline engine" in (a["notice"] or "")
    assert "Run at least 10 QBRs" in a["answer"]
    assert_valid_citations(a)
