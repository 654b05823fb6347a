"""Proves tests/fake_openai.py speaks enough OpenAI for the real ``openai`` client.

Every test goes through ``openai.OpenAI`` over real HTTP on 127.0.0.1, so the
fake is validated against the client's own parsing, retry and timeout logic.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any, cast

import httpx
import openai
import pytest
from fake_openai import Error, FakeOpenAI, NoFinish, Raw, Reply, Stall, fake_embedding

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def make_client(
    srv: FakeOpenAI, *, max_retries: int = 0, timeout: Any = 5.0, api_key: str = "test"
) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=api_key, base_url=srv.base_url, max_retries=max_retries, timeout=timeout
    )


def chat_posts(srv: FakeOpenAI) -> int:
    return len(srv.requests_to("/chat/completions"))


# -- chat completions ---------------------------------------------------------


def test_base_url_is_local_v1(srv: FakeOpenAI) -> None:
    assert srv.base_url.startswith("http://127.0.0.1:")
    assert srv.base_url.endswith("/v1")


def test_streamed_reply_reassembles_with_stop(srv: FakeOpenAI) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    srv.script(Reply(text, chunk_size=5))
    client = make_client(srv)

    stream = client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    chunks = list(stream)

    contents = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert "".join(contents) == text
    assert len(contents) == math.ceil(len(text) / 5)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.model == "gpt-test" for c in chunks)
    assert srv.requests[-1].body["stream"] is True


def test_stream_is_delivered_incrementally(srv: FakeOpenAI) -> None:
    """With a server-side delay, chunks must arrive spread out, not in one buffered lump."""
    srv.script(Reply("aaaabbbbcccc", chunk_size=4, delay=0.3))
    client = make_client(srv)

    arrivals: list[float] = []
    for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())

    assert len(arrivals) == 3
    assert arrivals[-1] - arrivals[0] >= 0.5  # two 0.3 s gaps; lower bound only


def test_stream_usage_chunk_when_requested(srv: FakeOpenAI) -> None:
    srv.script(Reply("one two three"))
    client = make_client(srv)

    chunks = list(
        client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )

    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_non_stream_reply(srv: FakeOpenAI) -> None:
    srv.script(Reply("Plain answer.", finish_reason="length"))
    client = make_client(srv)

    completion = client.chat.completions.create(model="gpt-test", messages=MESSAGES)

    assert completion.choices[0].message.content == "Plain answer."
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "length"
    assert completion.model == "gpt-test"
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_default_step_after_script_is_exhausted() -> None:
    with FakeOpenAI(default=Reply("fallback")) as srv:
        srv.script(Reply("first"))
        client = make_client(srv)
        answers = [
            client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content
            for _ in "ab"
        ]
        assert answers == ["first", "fallback"]
        assert srv.pending_steps == 0


def test_builtin_default_reply(srv: FakeOpenAI) -> None:
    completion = make_client(srv).chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "Hello from the fake server."


def test_callable_step_echoes_last_user_message(srv: FakeOpenAI) -> None:
    srv.script(lambda req: Reply("echo: " + req["messages"][-1]["content"]))
    completion = make_client(srv).chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "echo: Say hello"


def test_failing_callable_step_is_reported_not_retried(srv: FakeOpenAI) -> None:
    def broken(req: dict[str, Any]) -> Reply:
        raise ValueError("script bug")

    srv.script(broken)
    with pytest.raises(openai.InternalServerError, match="script bug"):
        make_client(srv, max_retries=2).chat.completions.create(model="m", messages=MESSAGES)
    assert chat_posts(srv) == 1


def test_requests_are_recorded(srv: FakeOpenAI) -> None:
    make_client(srv).chat.completions.create(model="m", messages=MESSAGES, temperature=0.5)

    (req,) = srv.requests
    assert req.method == "POST"
    assert req.path == "/v1/chat/completions"
    assert req.header("Authorization") == "Bearer test"
    assert req.body == {"model": "m", "messages": MESSAGES, "temperature": 0.5}


# -- errors and retries -------------------------------------------------------


def test_429_then_success_is_retried(srv: FakeOpenAI) -> None:
    srv.script(Error(429, "Slow down", headers={"retry-after-ms": "10"}), Reply("after retry"))
    client = make_client(srv, max_retries=2)

    completion = client.chat.completions.create(model="m", messages=MESSAGES)

    assert completion.choices[0].message.content == "after retry"
    assert chat_posts(srv) == 2


def test_persistent_500_raises_internal_server_error(srv: FakeOpenAI) -> None:
    fast = {"retry-after-ms": "10"}
    srv.script(*(Error(500, "boom", headers=fast) for _ in range(3)))
    client = make_client(srv, max_retries=2)

    with pytest.raises(openai.InternalServerError) as excinfo:
        client.chat.completions.create(model="m", messages=MESSAGES)

    assert excinfo.value.status_code == 500
    assert "boom" in str(excinfo.value)
    assert chat_posts(srv) == 3


def test_error_body_is_openai_shaped(srv: FakeOpenAI) -> None:
    srv.script(Error(400, "bad param", code="invalid_value"))
    with pytest.raises(openai.BadRequestError) as excinfo:
        make_client(srv).chat.completions.create(model="m", messages=MESSAGES)
    assert excinfo.value.code == "invalid_value"
    assert excinfo.value.type == "invalid_request_error"
    assert excinfo.value.body == {
        "message": "bad param",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_value",
    }


def test_bad_key_raises_authentication_error(srv: FakeOpenAI) -> None:
    client = make_client(srv, api_key="bad-key", max_retries=2)
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert excinfo.value.code == "invalid_api_key"
    assert chat_posts(srv) == 1  # 401 is not retried
    assert srv.pending_steps == 0


def test_raw_step(srv: FakeOpenAI) -> None:
    srv.script(Raw(503, "<html>upstream down</html>", "text/html"))
    with pytest.raises(openai.InternalServerError) as excinfo:
        make_client(srv).chat.completions.create(model="m", messages=MESSAGES)
    assert excinfo.value.status_code == 503


# -- broken streams -----------------------------------------------------------


def test_stall_hits_client_read_timeout(srv: FakeOpenAI) -> None:
    srv.script(Stall("Partial ", seconds=30))
    client = make_client(srv, timeout=httpx.Timeout(1.0))

    received: list[str] = []
    start = time.monotonic()
    with pytest.raises((openai.APITimeoutError, openai.APIConnectionError, httpx.TimeoutException)):
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    elapsed = time.monotonic() - start

    assert "".join(received) == "Partial "
    assert elapsed < 10


def test_stall_non_stream_times_out(srv: FakeOpenAI) -> None:
    srv.script(Stall(seconds=30))
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        make_client(srv, timeout=openai.Timeout(1.0)).chat.completions.create(
            model="m", messages=MESSAGES
        )
    assert time.monotonic() - start < 10


def test_shutdown_wakes_a_stalled_stream() -> None:
    """Leaving the context must not wait out Stall.seconds."""
    srv = FakeOpenAI().start()
    srv.script(Stall(seconds=60))
    client = make_client(srv, timeout=60.0)
    first_chunk = threading.Event()
    outcome: list[object] = []

    def consume() -> None:
        try:
            for _ in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
                first_chunk.set()
            outcome.append("ended")
        except Exception as exc:  # either outcome is fine; it must just finish
            outcome.append(exc)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    assert first_chunk.wait(5)

    start = time.monotonic()
    srv.stop()
    worker.join(10)
    assert time.monotonic() - start < 10
    assert not worker.is_alive() and outcome


def test_no_finish_stream_ends_without_finish_reason(srv: FakeOpenAI) -> None:
    srv.script(NoFinish("cut off in the middle"))
    client = make_client(srv)

    chunks = []
    try:
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            chunks.append(chunk)
    except (openai.APIError, httpx.HTTPError):
        pass  # ending with an error is acceptable too

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "cut off in the middle"
    assert all(c.choices[0].finish_reason is None for c in chunks if c.choices)


def test_no_finish_non_stream_is_a_connection_error(srv: FakeOpenAI) -> None:
    srv.script(NoFinish("truncated"))
    with pytest.raises(openai.APIConnectionError):
        make_client(srv).chat.completions.create(model="m", messages=MESSAGES)


# -- embeddings, models, routing ----------------------------------------------


@pytest.mark.parametrize(
    "encoding_format", [None, "float"]
)  # None: the client asks for base64 and decodes
def test_embeddings_are_deterministic_unit_vectors(
    srv: FakeOpenAI, encoding_format: str | None
) -> None:
    client = make_client(srv)
    extra: dict[str, Any] = {"encoding_format": encoding_format} if encoding_format else {}

    first = client.embeddings.create(model="emb", input=["alpha", "beta"], **extra)
    again = client.embeddings.create(model="emb", input=["alpha", "beta"], **extra)
    single = client.embeddings.create(model="emb", input="alpha", **extra)

    vectors = [d.embedding for d in first.data]
    assert [d.index for d in first.data] == [0, 1]
    assert first.model == "emb"
    assert first.usage.total_tokens > 0
    assert all(len(v) == 8 for v in vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in vectors)
    assert vectors == [d.embedding for d in again.data]
    assert single.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)
    assert vectors[0] != vectors[1]
    assert vectors[0] == pytest.approx(fake_embedding("alpha"), abs=1e-6)


def test_explicit_base64_embeddings_are_little_endian_float32(srv: FakeOpenAI) -> None:
    """Asked for base64 explicitly, the client hands the string through, as with the real API."""
    result = make_client(srv).embeddings.create(model="e", input="alpha", encoding_format="base64")
    raw = base64.b64decode(cast(str, result.data[0].embedding))
    assert list(struct.unpack("<8f", raw)) == pytest.approx(fake_embedding("alpha"), abs=1e-6)


def test_embedding_dimension_is_configurable() -> None:
    with FakeOpenAI(embedding_dim=40) as srv:
        client = make_client(srv)
        assert len(client.embeddings.create(model="e", input="x").data[0].embedding) == 40
        assert (
            len(client.embeddings.create(model="e", input="x", dimensions=3).data[0].embedding) == 3
        )


def test_models_list(srv: FakeOpenAI) -> None:
    assert [m.id for m in make_client(srv).models.list()] == ["fake-model"]


def test_unknown_path_is_openai_style_404(srv: FakeOpenAI) -> None:
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(srv.base_url + "/nope", timeout=5)
    assert excinfo.value.code == 404
    body = json.loads(excinfo.value.read())
    assert set(body["error"]) == {"message", "type", "param", "code"}

    with pytest.raises(openai.NotFoundError):
        make_client(srv).models.retrieve("fake-model")
