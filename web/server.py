"""What `tutor serve` asks of uvicorn: bounded headers, a header deadline, keep-alive, a cap on
connections, and a port check that runs before anything heavy loads.

uvicorn's defaults let 40 unfinished 16 MB headers add 656 MB (its httptools parser has no
header limit) and kept 600 idle connections open for more than 65 s (no timer runs until a
first response). So the server uses h11, which refuses a header block past
TUTOR_MAX_HEADER_BYTES, and the protocol below closes a connection whose request line and
headers have not all arrived within TUTOR_HEADER_TIMEOUT seconds, trickled or not.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from tutor.errors import PortInUse
from tutor.settings import Settings

HEADER_TIMEOUT_KEY = "tutor.header_timeout"
DEFAULT_HEADER_TIMEOUT = 10.0


class HeaderDeadlineProtocol(H11Protocol):
    """h11 with a deadline for each request's head, from the first byte it waits for.

    uvicorn arms no timer on a new connection, and cancels the keep-alive timer on any byte,
    so a client that sends nothing, or one header byte every few seconds, held a connection
    (and its buffer) for ever.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        # The app's lifespan puts TUTOR_HEADER_TIMEOUT in the server state: each worker gets
        # its own settings' value, with nothing to pickle across processes.
        self.header_timeout = float(self.app_state.get(HEADER_TIMEOUT_KEY, DEFAULT_HEADER_TIMEOUT))
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm()  # still waiting for (the rest of) a request head
        else:
            self._disarm()  # the head is complete: the app's own limits take over

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # idle between requests: uvicorn's keep-alive timer runs

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closed a connection whose request head was too slow")
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn.run/Config arguments for the server limits (all documented settings).

    The header deadline itself travels through the app's lifespan state (HEADER_TIMEOUT_KEY).
    """
    return {
        "http": HeaderDeadlineProtocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_connections,
    }


def _free_port_near(host: str, port: int) -> int | None:
    for candidate in range(port + 1, min(port + 50, 65536)):
        try:
            with socket.socket(_family(host), socket.SOCK_STREAM) as s:
                s.bind((host, candidate))
                return candidate
        except OSError:
            continue
    return None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port(host: str, port: int) -> None:
    """Fail in milliseconds, before the embedding model loads, when the port cannot be used.

    A busy port used to fail after ~16 s with uvicorn's raw "address already in use" and
    exit code 3 (which means "not found" here).
    """
    try:
        with socket.socket(_family(host), socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            s.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            near = _free_port_near(host, port)
            raise PortInUse(
                f"Port {port} on {host} is already in use.",
                f"Stop what is using it, or pick another port: tutor serve --port {near}"
                if near
                else "Stop what is using it, or pick another port with --port.",
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise PortInUse(
                f"Not allowed to listen on port {port}.",
                "Ports below 1024 need privileges: use --port 8000 (or any from 1024 to 65535).",
            ) from None
        raise PortInUse(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            "Check --host (an address of this machine, e.g. 127.0.0.1 or 0.0.0.0) and --port.",
        ) from None
