"""A scripted, OpenAI-compatible HTTP server for tests.

Why: product tests should drive the real ``openai`` client over real HTTP
(retries, timeouts, SSE parsing, error mapping) instead of mocking the client.
This module fakes only the far side of that boundary: a stdlib
``ThreadingHTTPServer`` on 127.0.0.1 whose chat-completion answers are
scripted step by step.

Typical use::

    with FakeOpenAI() as srv:
        srv.script(Error(429, headers={"retry-after-ms": "10"}), Reply("hi"))
        client = openai.OpenAI(api_key="test", base_url=srv.base_url)
        ...
        assert len(srv.requests) == 2
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias
from urllib.parse import urlsplit

__all__ = [
    "FakeOpenAI",
    "Reply",
    "Error",
    "Stall",
    "NoFinish",
    "Raw",
    "Step",
    "RecordedRequest",
    "fake_embedding",
]

FAKE_MODEL = "fake-model"
BAD_KEY = "bad-key"


# --------------------------------------------------------------------------
# Script steps
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A successful completion; streamed as SSE if the request asked for it."""

    text: str
    chunk_size: int = 8
    finish_reason: str = "stop"
    delay: float = 0.0  # seconds between streamed chunks, to observe incrementality


@dataclass(frozen=True)
class Error:
    """An HTTP error with an OpenAI-style body, so the client maps it to its exception types.

    ``type`` defaults to what OpenAI uses for the status (e.g. ``server_error``
    for 5xx). ``headers`` lets tests steer retries (``retry-after-ms``,
    ``x-should-retry``).
    """

    status: int
    message: str = "Scripted error from the fake OpenAI server."
    type: str | None = None
    code: str | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Stall:
    """Start answering, then hang, to exercise client read timeouts.

    Streamed requests get headers plus the chunks of ``text_before``; non-streamed
    requests get nothing at all. The server then waits up to ``seconds`` (woken
    early by server shutdown) and closes the connection.
    """

    text_before: str = "Partial "
    seconds: float = 30.0
    chunk_size: int = 8


@dataclass(frozen=True)
class NoFinish:
    """A response that stops early.

    Streamed: content chunks, then close without a finish_reason chunk or [DONE].
    Non-streamed: a truncated JSON body (Content-Length promises more), then close.
    """

    text: str
    chunk_size: int = 8


@dataclass(frozen=True)
class Raw:
    """Any custom response (malformed JSON, odd content types, ...)."""

    status: int
    body: str | bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] | None = None


# A step may also be a function of the request JSON returning a step (dynamic replies).
Step: TypeAlias = Reply | Error | Stall | NoFinish | Raw | Callable[[dict[str, Any]], "Step"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None if absent / not JSON
    raw_body: bytes = field(default=b"", repr=False)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        return self.headers.get(name.lower())


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

_DEFAULT_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def _error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _count_tokens(text: str) -> int:
    """Crude, deterministic token estimate: good enough for usage fields."""
    return len(text.split())


def _prompt_text(body: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                p["text"]
                for p in content
                if isinstance(p, Mapping) and isinstance(p.get("text"), str)
            )
    return " ".join(parts)


def _chunks(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def fake_embedding(text: str, dim: int = 8) -> list[float]:
    """Deterministic unit vector for ``text``, derived from sha256 (stable across runs)."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(counter.to_bytes(4, "big") + text.encode()).digest()
        for (word,) in struct.iter_unpack(">I", digest):
            values.append(word / 0xFFFFFFFF * 2.0 - 1.0)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks live connections so shutdown can cut them."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        self._conn_lock = threading.Lock()
        self._conns: dict[socket.socket, threading.Thread] = {}
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-openai-conn-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._conns[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._conns.pop(request, None)
        super().shutdown_request(request)

    def close_connections(self, join_timeout: float) -> None:
        """Cut idle keep-alive / stalled connections and wait for their threads."""
        with self._conn_lock:
            conns = list(self._conns.items())
        for sock, _ in conns:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in conns:
            thread.join(join_timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-stream (timeouts, shutdown) is expected noise.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # -- plumbing ---------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fake._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_body=raw,
            )
        )

        auth = self.headers.get("Authorization") or ""
        if auth.strip() == f"Bearer {BAD_KEY}":
            self._send_json(
                401,
                _error_body(
                    f"Incorrect API key provided: {BAD_KEY}.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
            return

        route = (self.command, urlsplit(self.path).path.rstrip("/"))
        if route == ("POST", "/v1/chat/completions"):
            self._chat(body)
        elif route == ("POST", "/v1/embeddings"):
            self._embeddings(body)
        elif route == ("GET", "/v1/models"):
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": FAKE_MODEL, "object": "model", "created": 0, "owned_by": "fake"}
                    ],
                },
            )
        else:
            self._send_json(
                404,
                _error_body(
                    f"Unknown request URL: {self.command} {self.path}.",
                    "invalid_request_error",
                    "unknown_url",
                ),
            )

    def _send_bytes(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", self.server.fake._next_id("req_fake"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    # -- chat completions ------------------------------------------------

    def _chat(self, body: Any) -> None:
        if not isinstance(body, dict):
            self._send_json(
                400, _error_body("Request body must be a JSON object.", "invalid_request_error")
            )
            return
        fake = self.server.fake
        step: Any = fake._next_step()
        try:
            for _ in range(100):  # resolve dynamic steps (a callable may return another callable)
                if not callable(step):
                    break
                step = step(body)
        except Exception as exc:  # surface test-script bugs to the client, without retries
            self._send_json(
                500,
                _error_body(f"fake_openai: scripted step raised {exc!r}", "fake_server_error"),
                {"x-should-retry": "false"},
            )
            return

        stream = bool(body.get("stream"))
        model = str(body.get("model") or FAKE_MODEL)
        if isinstance(step, Error):
            type_ = step.type or _DEFAULT_ERROR_TYPES.get(step.status, "server_error")
            self._send_json(step.status, _error_body(step.message, type_, step.code), step.headers)
        elif isinstance(step, Raw):
            payload = step.body.encode() if isinstance(step.body, str) else step.body
            self._send_bytes(step.status, payload, step.content_type, step.headers)
        elif isinstance(step, Reply):
            if stream:
                self._stream_reply(body, model, step)
            else:
                self._send_json(200, self._completion(body, model, step))
        elif isinstance(step, Stall):
            if stream:
                self._start_stream()
                self._stream_text(
                    model, fake._next_id("chatcmpl-fake"), step.text_before, step.chunk_size, 0.0
                )
            fake._stop.wait(step.seconds)
            self.close_connection = True
        elif isinstance(step, NoFinish):
            if stream:
                self._start_stream()
                self._stream_text(
                    model, fake._next_id("chatcmpl-fake"), step.text, step.chunk_size, 0.0
                )
            else:  # announce a full body, send half of it: a truncated response
                payload = json.dumps(self._completion(body, model, Reply(step.text))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
            self.close_connection = True
        else:
            self._send_json(
                500, _error_body(f"fake_openai: unknown step {step!r}", "fake_server_error")
            )

    def _completion(self, body: Mapping[str, Any], model: str, step: Reply) -> dict[str, Any]:
        return {
            "id": self.server.fake._next_id("chatcmpl-fake"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": step.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": step.finish_reason,
                }
            ],
            "usage": self._usage(body, step.text),
        }

    @staticmethod
    def _usage(body: Mapping[str, Any], text: str) -> dict[str, int]:
        prompt, completion = _count_tokens(_prompt_text(body)), _count_tokens(text)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _start_stream(self) -> None:
        """SSE over HTTP/1.1 with Connection: close, so the body simply ends at EOF."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # also sets self.close_connection
        self.send_header("x-request-id", self.server.fake._next_id("req_fake"))
        self.end_headers()
        self.wfile.flush()

    def _event(self, data: str) -> None:
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def _chunk(self, cid: str, model: str, delta: dict[str, Any], finish_reason: str | None) -> str:
        return json.dumps(
            {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": None,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
        )

    def _stream_text(self, model: str, cid: str, text: str, chunk_size: int, delay: float) -> bool:
        """Send content chunks (first one carries the role). False if shutdown interrupted."""
        pieces = _chunks(text, chunk_size) or [""]
        for i, piece in enumerate(pieces):
            if i and delay and self.server.fake._stop.wait(delay):
                return False
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta = {"role": "assistant", **delta}
            self._event(self._chunk(cid, model, delta, None))
        return True

    def _stream_reply(self, body: Mapping[str, Any], model: str, step: Reply) -> None:
        cid = self.server.fake._next_id("chatcmpl-fake")
        self._start_stream()
        if not self._stream_text(model, cid, step.text, step.chunk_size, step.delay):
            return
        self._event(self._chunk(cid, model, {}, step.finish_reason))
        options = body.get("stream_options")
        if isinstance(options, Mapping) and options.get("include_usage"):
            self._event(
                json.dumps(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "system_fingerprint": None,
                        "choices": [],
                        "usage": self._usage(body, step.text),
                    }
                )
            )
        self._event("[DONE]")

    # -- embeddings ------------------------------------------------------

    def _embeddings(self, body: Any) -> None:
        inputs = body.get("input") if isinstance(body, dict) else None
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            self._send_json(
                400,
                _error_body(
                    "'input' must be a string or a non-empty list.", "invalid_request_error"
                ),
            )
            return
        assert isinstance(body, dict)
        dim = body.get("dimensions") or self.server.fake.embedding_dim
        as_base64 = body.get("encoding_format") == "base64"
        data: list[dict[str, Any]] = []
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else json.dumps(item)  # token arrays hash too
            vector = fake_embedding(text, int(dim))
            encoded: Any = (
                base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(_count_tokens(i) if isinstance(i, str) else len(i) for i in inputs)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model") or FAKE_MODEL),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


class FakeOpenAI:
    """Scripted OpenAI-compatible server on 127.0.0.1; use as a context manager."""

    def __init__(self, default: Step | None = None, *, embedding_dim: int = 8) -> None:
        self.default: Step = (
            default if default is not None else Reply("Hello from the fake server.")
        )
        self.embedding_dim = embedding_dim
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque()
        self._requests: list[RecordedRequest] = []
        self._ids = 0
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Bind an ephemeral port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeOpenAI already started")
        self._stop.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, wake stalled/delayed streams, cut open connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stop.set()
        server.shutdown()
        server.close_connections(timeout)
        server.server_close()
        if thread is not None:
            thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- public API ------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Pass this as ``openai.OpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *steps: Step) -> FakeOpenAI:
        """Queue steps; each chat-completion request consumes one (FIFO), then ``default``."""
        with self._lock:
            self._steps.extend(steps)
        return self

    @property
    def pending_steps(self) -> int:
        """Scripted steps not yet consumed (handy to assert a script ran to the end)."""
        with self._lock:
            return len(self._steps)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of all requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path (query ignored) ends with ``path``, e.g. "/chat/completions"."""
        return [
            r for r in self.requests if urlsplit(r.path).path.rstrip("/").endswith(path.rstrip("/"))
        ]

    def clear(self) -> None:
        """Forget recorded requests and pending steps."""
        with self._lock:
            self._requests.clear()
            self._steps.clear()

    # -- used by the handler ---------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_step(self) -> Step:
        with self._lock:
            return self._steps.popleft() if self._steps else self.default

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}-{self._ids}"
