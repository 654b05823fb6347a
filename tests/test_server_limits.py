"""`tutor serve`'s server limits over real sockets, and its port checks.

The server here is uvicorn with exactly the options `tutor serve` passes (web.server), in a
thread of this process, so the memory it uses shows in this process's RSS. Every loop is
bounded and only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from web_support import app_for, free_port, live_server

from tutor import cli
from tutor.errors import PortInUse
from web.server import uvicorn_options

pytestmark = pytest.mark.slow

LIMITS = {
    "max_header_bytes": 16_384,
    "header_timeout": 1.0,
    "keep_alive_timeout": 1,
    "max_connections": 8,
}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextmanager
def serving(shipped: Any, **overrides: Any) -> Iterator[tuple[str, int]]:
    app = app_for(shipped, **{**LIMITS, **overrides})
    with live_server(app, **uvicorn_options(app.state.settings)) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def closed_after(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the server closes ``sock`` (reads until EOF), or None if it stays open."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < limit:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    return None


def test_oversized_headers_are_cut_off_and_memory_stays_bounded(shipped: Any) -> None:
    """40 clients each try to send a 16 MB header (once +656 MB with uvicorn's defaults)."""
    with serving(shipped) as (host, port):
        before = rss_mb()
        results: list[tuple[int, bytes]] = []
        lock = threading.Lock()

        def attack() -> None:
            sent, reply = 0, b""
            with socket.create_connection((host, port), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
                chunk = b"a" * 65536
                try:
                    while sent < 16 * 1024 * 1024:
                        s.sendall(chunk)
                        sent += len(chunk)
                except OSError:
                    pass  # the server closed the connection: what we want
                try:
                    reply = s.recv(200)
                except OSError:
                    reply = b""
            with lock:
                results.append((sent, reply))

        threads = [threading.Thread(target=attack) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        grew = rss_mb() - before
        sent = sorted(s for s, _ in results)
        print(
            f"\n40 x 16 MB headers: at most {sent[-1] / 1024:.0f} KB left one client (socket "
            f"buffers included) before the server closed it; RSS grew {grew:.1f} MB"
        )
        assert len(results) == 40
        assert sent[-1] < 16 * 1024 * 1024  # nobody got the whole header in
        assert all(r == b"" or r.startswith(b"HTTP/1.1 400") for _, r in results)
        assert grew < 64
        # and the server still serves
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")


def test_slow_and_idle_connections_are_closed_at_the_header_deadline(shipped: Any) -> None:
    with serving(shipped, max_connections=100) as (host, port):
        idle = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
        slow = socket.create_connection((host, port), timeout=5)
        stop = threading.Event()

        def trickle() -> None:  # a slowloris: one header byte every 0.2 s, for ever
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            while not stop.is_set():
                try:
                    slow.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.2)

        t = threading.Thread(target=trickle)
        start = time.monotonic()
        t.start()
        try:
            waits = [closed_after(s, 5.0) for s in [slow, *idle]]
            waits = [None if w is None else time.monotonic() - start for w in waits]
        finally:
            stop.set()
            t.join(5)
            for s in [slow, *idle]:
                s.close()
        print(
            f"\nslow header and 20 idle connections all closed within {max(w or 99 for w in waits):.1f} s "
            f"(deadline {LIMITS['header_timeout']} s)"
        )
        assert all(w is not None and w < 3.5 for w in waits), waits


def test_keep_alive_connections_close_after_the_timeout(shipped: Any) -> None:
    with serving(shipped) as (host, port), socket.create_connection((host, port)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        wait = closed_after(s, 5.0)
        assert wait is not None and wait < 3.0


def test_connections_beyond_the_limit_get_503(shipped: Any) -> None:
    with serving(shipped, max_connections=4, header_timeout=5.0) as (host, port):
        held = [socket.create_connection((host, port)) for _ in range(4)]
        time.sleep(0.2)
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 503")
        for h in held:
            h.close()
        time.sleep(0.3)
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")


# --- tutor serve: the port ---------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_serve_refuses_a_port_out_of_range(port: str) -> None:
    r = CliRunner().invoke(cli.main, ["serve", "--port", port])
    assert r.exit_code == 2
    assert "1<=x<=65535" in r.output


def test_serve_on_a_busy_port_fails_fast_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[str] = []
    monkeypatch.setattr("tutor.tutor.Tutor.from_settings", lambda *a, **k: loaded.append("tutor"))
    monkeypatch.setattr("web.app.serve", lambda *a, **k: loaded.append("serve"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        start = time.monotonic()
        r = CliRunner().invoke(cli.main, ["serve", "--port", str(port)])
        took = time.monotonic() - start
    assert r.exit_code == PortInUse.exit_code == 11
    assert r.exit_code != 3  # 3 means "not found"
    assert f"Port {port} on 127.0.0.1 is already in use" in r.stderr
    assert "--port" in r.stderr
    assert loaded == [] and took < 2


def test_serve_busy_port_in_a_real_process(tmp_path: Path) -> None:
    """The whole command, as a user runs it: the answer comes before any model load."""
    env = {"PATH": "/usr/bin:/bin", "TUTOR_HOME": str(tmp_path / "home")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        start = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "tutor.cli", "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - start
    print(f"\nbusy port refused in {took:.2f} s with exit code {r.returncode}")
    assert r.returncode == 11, r.stderr
    assert "already in use" in r.stderr and "tutor serve --port" in r.stderr
    assert not (tmp_path / "home" / "tutor.db").exists()  # nothing was opened, let alone loaded


def test_a_free_port_passes_the_check() -> None:
    from web.server import check_port

    check_port("127.0.0.1", free_port())
