"""Helpers for the web tests: a real uvicorn server in a thread, SSE parsing, fakes and corpora."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tutor.settings import PROJECT_ROOT
from web.app import create_app
from web.screenshots import CHROMIUM_ARGS  # noqa: F401  (re-exported: one list of flags for tests and docs)

XSS = "window.__xss=1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(app: Any, **options: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yields the base URL.

    ``options`` go to uvicorn.Config (e.g. web.server.uvicorn_options, as `tutor serve` has).
    """
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """``event:``/``data:`` frames separated by blank lines, data as JSON."""
    events = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def csrf(client: httpx.Client) -> str:
    """Fetch the session (sets the learner cookie) and return its CSRF token."""
    r = client.get("/api/session")
    r.raise_for_status()
    token = r.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)


def app_for(tutor: Any, **overrides: Any) -> Any:
    """The app over an existing Tutor, with web settings overridden (limits, rate)."""
    settings = tutor.settings.model_copy(update=overrides) if overrides else tutor.settings
    return create_app(settings=settings, tutor=tutor)


class ScriptedChat:
    """A ChatModel (tutor.llm) that streams a fixed answer, in small pieces."""

    name = "scripted"

    def __init__(self, text: str, chunk: int = 7, delay: float = 0.0) -> None:
        self.text = text
        self.chunk = chunk
        self.delay = delay  # seconds before each piece: a slow model
        self.calls: list[list[dict[str, str]]] = []
        self.yielded = 0

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        self.calls.append(messages)
        for i in range(0, len(self.text), self.chunk):
            if self.delay:
                time.sleep(self.delay)
            self.yielded += 1
            yield self.text[i : i + self.chunk]


# A model answer that tries everything: raw tags, event handlers, javascript: links (HTML and
# Markdown), an external image, an autolink. Each sentence cites [1] so the Tutor keeps it.
HOSTILE_ANSWER = (
    f"Start with onboarding <script>{XSS}</script> [1].\n"
    f'- Read <img src="https://evil.example/x.png" onerror="{XSS}"> the guide [1].\n'
    f'- Click <a href="javascript:{XSS}">here</a> or [there](javascript:{XSS}) [1].\n'
    f'- Look ![pixel](https://evil.example/p.png) and <svg onload="{XSS}"></svg> [1].\n'
    f'- <iframe src="javascript:{XSS}"></iframe> <b onmouseover="{XSS}">hover</b> [1].'
)

HOSTILE_GUIDE = f"""---
id: hostile-guide
role: customer-success-manager
role_title: Customer Success Manager
title: "Hostile <img src=x onerror={XSS}> guide"
source: "<script>{XSS}</script> source"
source_url: "javascript:{XSS}"
as_of: "2026-06"
---

# Hostile guide

## Onboarding <script>{XSS}</script> basics

A Customer Success Manager runs onboarding for new customers <script>{XSS}</script> and checks
product adoption <img src=x onerror="{XSS}"> every week. Read [the playbook](javascript:{XSS})
or <a href="javascript:{XSS}">this link</a> before the first onboarding call.

## Quarterly business reviews

A Customer Success Manager prepares quarterly business reviews <svg onload="{XSS}"></svg> with
usage data and renewal risks, and shares them with the account team.
"""


def hostile_corpus(root: Path) -> Path:
    """A tiny corpus: the hostile guide plus the shipped roadmaps (so the sidebar renders)."""
    corpus = root / "hostile-corpus"
    (corpus / "guides").mkdir(parents=True)
    (corpus / "guides" / "hostile-guide.md").write_text(HOSTILE_GUIDE, encoding="utf-8")
    shutil.copytree(PROJECT_ROOT / "corpus" / "roadmaps", corpus / "roadmaps")
    return corpus


class _Audit(HTMLParser):
    SAFE_TAGS = {
        "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "sup", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.SAFE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcset", "formaction"):
                self.problems.append(f"{tag}[{name}]")
            if name == "href" and not (value or "").startswith(("#fn-", "https://")):
                self.problems.append(f"{tag}[href={value}]")


def html_problems(html: str) -> list[str]:
    """Elements and attributes in sanitised HTML that could run script or load content."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.problems
