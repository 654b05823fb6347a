"""Bad requests to the tutor: a TutorError with a clear message and hint, and the CLI exit code.

The CLI runs in-process against the session's shipped home (read-only use: every learner here
has a fresh id), configured only through TUTOR_HOME / TUTOR_CORPUS.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cli_run import json_out, run_cli
from click.testing import Result
from conftest import CORPUS

from tutor.errors import InputError, NotFound, TutorError
from tutor.tutor import Tutor

CSM = "customer-success-manager"
QUESTION = "How much does a CSM make in India?"


def learner() -> str:
    return f"bad-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cli(shipped: Tutor, monkeypatch: pytest.MonkeyPatch, embedder: Any) -> Any:
    def run(*args: str) -> Result:
        return run_cli(monkeypatch, embedder, shipped.settings.home, CORPUS, *args)

    return run


def assert_cli_error(r: Result, code: int, *words: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert r.stderr.startswith("Error: ")
    assert "Hint: " in r.stderr
    for w in words:
        assert w.lower() in r.stderr.lower(), r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def assert_json_error(r: Result, code: int, kind: str) -> dict[str, Any]:
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    payload = json_out(r)
    assert set(payload) == {"error", "message", "hint"}
    assert payload["error"] == kind and payload["message"] and payload["hint"]
    return payload


# --- the API: every error is a TutorError with a message and a hint ------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_empty_question(shipped: Tutor, question: str) -> None:
    with pytest.raises(InputError) as err:
        shipped.ask(question)
    assert err.value.message == "The question is empty."
    assert err.value.hint
    assert err.value.exit_code == 2 and err.value.status == 400
    with pytest.raises(InputError):
        shipped.ask_stream(question)  # raised before the first event, not mid-stream


def test_fifty_kilobyte_question(shipped: Tutor) -> None:
    limit = shipped.settings.max_message_chars
    with pytest.raises(InputError) as err:
        shipped.ask("How much does a CSM make? " + "x" * 50_000)
    assert f"{limit:,}" in err.value.message and "limit" in err.value.message
    assert "50,0" in err.value.message  # the length it got
    assert err.value.hint


def test_a_question_at_the_limit_is_fine(shipped: Tutor) -> None:
    limit = shipped.settings.max_message_chars
    q = "How much does a CSM make in India? " + "please " * 1000
    q = q[:limit]
    assert len(q) == limit
    assert shipped.ask(q).answer


def test_unknown_role(shipped: Tutor) -> None:
    with pytest.raises(NotFound) as err:
        shipped.ask(QUESTION, role="astronaut")
    assert "astronaut" in err.value.message
    assert err.value.hint and CSM in err.value.hint
    assert err.value.exit_code == 3 and err.value.status == 404
    with pytest.raises(NotFound):
        shipped.roadmap("astronaut")
    with pytest.raises(NotFound):
        shipped.next_steps(learner(), "astronaut")


def test_unknown_milestone(shipped: Tutor) -> None:
    with pytest.raises(NotFound) as err:
        shipped.set_progress(learner(), "csm-m-run-10-qbr", "done")
    assert "csm-m-run-10-qbr" in err.value.message
    assert err.value.hint and "csm-m-run-10-qbrs" in err.value.hint


@pytest.mark.parametrize(
    "bad", ["bad id!", "", "x" * 65, "a/b", "Robert'); drop table learners;--"]
)
def test_bad_learner_id(shipped: Tutor, bad: str) -> None:
    calls = [
        lambda: shipped.set_progress(bad, "csm-m-run-10-qbrs", "done"),
        lambda: shipped.progress(bad, CSM),
        lambda: shipped.next_steps(bad, CSM),
        lambda: shipped.conversations(bad),
        lambda: shipped.new_conversation(bad),
        lambda: shipped.set_hours(bad, 5),
    ]
    for call in calls:
        with pytest.raises(InputError) as err:
            call()
        assert "learner id" in err.value.message and err.value.hint
    if bad:  # an empty learner id on ask means "no learner": an anonymous question
        with pytest.raises(InputError):
            shipped.ask(QUESTION, learner_id=bad)
    assert not shipped.progress_store.learner(bad)


def test_conversation_of_another_learner(shipped: Tutor) -> None:
    owner, other = learner(), learner()
    cid = shipped.ask(QUESTION, learner_id=owner).conversation_id
    assert cid
    for call in (
        lambda: shipped.ask("and in Germany?", learner_id=other, conversation_id=cid),
        lambda: shipped.conversation(other, cid),
    ):
        with pytest.raises(NotFound) as err:
            call()
        assert err.value.hint
        # "not yours" and "does not exist" read the same: the id leaks nothing
    with pytest.raises(NotFound) as missing:
        shipped.conversation(other, "f" * 24)
    assert str(missing.value).replace("f" * 24, cid) == str(err.value)


def test_bad_progress_state_and_hours(shipped: Tutor) -> None:
    with pytest.raises(InputError):
        shipped.set_progress(learner(), "csm-m-run-10-qbrs", "half-done")
    with pytest.raises(InputError):
        shipped.set_hours(learner(), -3)


def test_every_error_is_a_tutor_error_with_a_dict(shipped: Tutor) -> None:
    try:
        shipped.ask("")
    except TutorError as exc:
        assert exc.to_dict() == {
            "error": "bad_input",
            "message": "The question is empty.",
            "hint": exc.hint,
        }


# --- the CLI: message, hint and exit code ---------------------------------------------------------


def test_cli_empty_question(cli: Any) -> None:
    assert_cli_error(cli("ask", ""), 2, "empty")
    payload = assert_json_error(cli("ask", "", "--json"), 2, "bad_input")
    assert "empty" in payload["message"]


def test_cli_fifty_kilobyte_question(cli: Any, shipped: Tutor) -> None:
    big = "x" * 50_000
    limit = f"{shipped.settings.max_message_chars:,}"
    assert_cli_error(cli("ask", big), 2, "limit", limit)
    payload = assert_json_error(cli("ask", big, "--json"), 2, "bad_input")
    assert "limit" in payload["message"]


def test_cli_unknown_role(cli: Any) -> None:
    assert_cli_error(cli("ask", QUESTION, "--role", "astronaut"), 3, "astronaut", CSM)
    assert_json_error(cli("ask", QUESTION, "--role", "astronaut", "--json"), 3, "not_found")
    assert_cli_error(cli("next", "--learner", learner(), "--role", "astronaut"), 3, "astronaut")


def test_cli_unknown_milestone(cli: Any) -> None:
    me = learner()
    assert_cli_error(
        cli("progress", "--learner", me, "done", "csm-m-run-10-qbr"), 3, "csm-m-run-10-qbrs"
    )
    payload = assert_json_error(
        cli("progress", "--learner", me, "--json", "done", "nope"), 3, "not_found"
    )
    assert "nope" in payload["message"]


def test_cli_bad_learner_id(cli: Any) -> None:
    assert_cli_error(cli("ask", QUESTION, "--learner", "bad id!"), 2, "learner id")
    assert_cli_error(cli("next", "--learner", "bad id!", "--role", CSM), 2, "learner id")
    assert_cli_error(
        cli("progress", "--learner", "bad id!", "--role", CSM, "show"), 2, "learner id"
    )
    assert_cli_error(
        cli("progress", "--learner", "bad id!", "done", "csm-m-run-10-qbrs"), 2, "learner id"
    )


def test_cli_conversation_of_another_learner(cli: Any, shipped: Tutor) -> None:
    owner, other = learner(), learner()
    cid = shipped.ask(QUESTION, learner_id=owner).conversation_id
    assert cid
    r = cli("ask", "and in Germany?", "--learner", other, "--conversation", cid)
    assert_cli_error(r, 3, cid)
    r = cli("ask", "and in Germany?", "--learner", other, "--conversation", cid, "--json")
    assert_json_error(r, 3, "not_found")
    assert len(shipped.conversation(owner, cid)["messages"]) == 2  # untouched


def test_cli_conversation_without_learner(cli: Any) -> None:
    assert_cli_error(cli("ask", "and in Germany?", "--conversation", "abc"), 2, "learner")


def test_cli_ask_json_prints_the_answer_object(cli: Any) -> None:
    r = cli("ask", QUESTION, "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"answer", "citations", "abstained", "engine"} <= set(data)
    assert data["engine"] == "offline" and data["abstained"] is False
    assert "₹22L" in data["answer"]
    assert data["citations"]
    for c in data["citations"]:
        assert {"n", "guide", "title", "heading", "text", "source", "as_of"} <= set(c)
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    assert data["citations"][0]["guide"] == "csm-gtm-career-path"
    assert data["citations"][0]["source"] == "GTM career path page"
    assert "₹22L" in data["citations"][0]["text"]


def test_cli_ask_json_abstention(cli: Any) -> None:
    r = cli("ask", "How much does a data scientist make?", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["abstained"] is True and data["citations"] == []


def test_cli_ask_prints_answer_and_sources(cli: Any) -> None:
    r = cli("ask", QUESTION)
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())  # the footnotes are wrapped to the terminal width
    assert "₹22L" in out
    assert "[1] Customer Success Manager guide (GTM career path page) › Pay in India" in out
    assert "(GTM career path page, as of 2026)" in out
