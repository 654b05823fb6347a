"""An upstream model's error text never reaches the learner; the log keeps it, keys redacted.

A gateway that echoes the request's Authorization header into its error body used to leak the
API key to every learner through the "model was unavailable (...)" notice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import Error, FakeOpenAI
from fastapi.testclient import TestClient
from web_support import app_for, csrf, parse_sse

from tutor.errors import LLMError
from tutor.redaction import MASK, redact
from tutor.tutor import Tutor
from web.app import create_app

KEY = "sk-live-9f8e7d6c5b4a39281706"
ECHO = f"gateway error; request headers were Authorization: Bearer {KEY}, x-api-key={KEY}"
GENERIC = "The language model was unavailable, so this answer comes from the offline engine."
QUESTION = "How much does a customer success manager make in Germany?"


class EchoingModel:
    """A ChatModel whose endpoint fails with an error that repeats the request's secrets."""

    name = "echoing"

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        raise LLMError(f"The model call failed: {ECHO}")
        yield ""  # pragma: no cover  (a generator, like a real stream)


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {KEY}",
        f"{{'authorization': 'Bearer {KEY}'}}",
        f"x-api-key={KEY}",
        f"api_key: {KEY}",
        f"the key {KEY} was refused",
        "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==",
    ],
)
def test_redact_masks_keys_and_authorization_headers(text: str) -> None:
    out = redact(text, [KEY])
    assert KEY not in out and "dXNlcjpwYXNzd29yZA" not in out
    assert MASK in out


def test_redact_masks_a_configured_key_of_any_shape() -> None:
    assert redact("upstream said: token=abcd1234efgh", ["abcd1234efgh"]) == (
        f"upstream said: token={MASK}"
    )
    assert redact("nothing secret here", [None, ""]) == "nothing secret here"


def test_the_page_gets_a_generic_notice_and_the_log_the_redacted_reason(
    shipped: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = shipped.settings.model_copy(update={"openai_api_key": KEY})
    tutor = Tutor(settings, index=shipped.index, chat_model=EchoingModel())
    caplog.set_level(logging.WARNING)
    with TestClient(create_app(settings, tutor=tutor)) as c:
        csrf(c)
        r = c.post("/api/chat", json={"message": QUESTION})
        assert r.status_code == 200
        name, answer = parse_sse(r.text)[-1]
        assert name == "answer"
        assert answer["notice"] == GENERIC and answer["engine"] == "offline"
        assert KEY not in r.text and "gateway error" not in r.text
        # stored and shown again after a reload: still generic
        conv = c.get(f"/api/conversations/{answer['conversation_id']}").text
        assert KEY not in conv and "gateway error" not in conv
    assert "gateway error" in caplog.text  # the operator sees why
    assert KEY not in caplog.text and MASK in caplog.text


def test_an_echoing_gateway_through_the_real_client(
    make_tutor: Any, shipped: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with FakeOpenAI() as srv:
        srv.script(Error(500, message=ECHO))
        t = make_tutor(
            home=shipped.settings.home,
            engine="openai",
            openai_api_key=KEY,
            openai_base_url=srv.base_url,
            openai_max_retries=0,
            openai_timeout=5.0,
        )
        with TestClient(app_for(t)) as c:
            csrf(c)
            r = c.post("/api/chat", json={"message": QUESTION})
    answer = parse_sse(r.text)[-1][1]
    assert answer["notice"] == GENERIC
    assert KEY not in r.text and "HTTP 500" not in r.text
    assert "HTTP 500" in caplog.text and "gateway error" in caplog.text
    assert KEY not in caplog.text


def test_an_llm_error_reaching_the_web_layer_is_generic(
    shipped: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever path lets an LLMError escape the Tutor, the JSON error carries no upstream text."""
    app = app_for(shipped)

    @app.get("/boom")
    def boom() -> None:
        raise LLMError(f"The model call failed: {ECHO}")

    caplog.set_level(logging.WARNING)
    with TestClient(app) as c:
        r = c.get("/boom")
    assert r.status_code == 502 and r.json()["error"] == "llm_unavailable"
    assert KEY not in r.text and "gateway" not in r.text
    assert "gateway error" in caplog.text and KEY not in caplog.text
