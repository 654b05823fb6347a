"""The page in real headless Chromium (Debian's `chromium`, driven by Python playwright).

Each test runs a real uvicorn server on 127.0.0.1 in a thread. Every browser context is a new
learner (a new cookie jar).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import (
    CHROMIUM_ARGS,
    HOSTILE_ANSWER,
    ScriptedChat,
    app_for,
    hostile_corpus,
    live_server,
)

from tutor.index import Index
from tutor.tutor import Tutor
from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "chromium is not installed (apt-get install chromium); browser tests skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CSM = "customer-success-manager"
QBRS = "csm-m-run-10-qbrs"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# (wait_for_function gets arrow functions: a bare expression would need eval, which the CSP
# forbids, as it should.)
# Records how the answer element changed while streaming (installed before each question).
WATCH_STREAM = """() => {
  window.__stream = {updates: 0, cursor: false, maxText: ''};
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const answer = el && el.closest('.answer');
      if (!answer || !answer.classList.contains('streaming')) continue;
      window.__stream.updates += 1;
      window.__stream.cursor = true;
      if (answer.textContent.length > window.__stream.maxText.length) {
        window.__stream.maxText = answer.textContent;
      }
    }
  }).observe(document.getElementById('log'), {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(shipped: Any) -> Iterator[str]:
    with live_server(app_for(shipped)) as url:
        yield url


class Watched:
    """A page plus everything that must not happen on it."""

    def __init__(self, browser: Any, url: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.external: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )

        def on_dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("http://127.0.0.1:", "data:"))
                else self.external.append(r.url)
            ),
        )
        self.page.goto(url)
        self.page.wait_for_selector("html[data-ready]")

    def ask(self, question: str) -> Any:
        page = self.page
        page.evaluate(WATCH_STREAM)
        before = page.locator(".msg-bot").count()
        page.fill("#message", question)
        page.press("#message", "Enter")
        answer = page.locator(".msg-bot").nth(before)
        answer.and_(page.locator("[aria-busy='false']")).wait_for(timeout=30_000)
        return answer

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Any]:
    made: list[Watched] = []

    def open_page(url: str, viewport: dict[str, int] = DESKTOP) -> Watched:
        w = Watched(browser, url, viewport)
        made.append(w)
        return w

    yield open_page
    for w in made:
        w.close()


def test_ask_stream_cite_tick_and_reload(watched: Any, server: str) -> None:
    w = watched(server)
    page = w.page
    assert page.get_attribute("#log", "aria-live") == "polite"
    assert page.locator("[data-suggest]").count() >= 3  # the empty state suggests questions

    answer = w.ask("How much does a CSM earn in Germany?")
    stream = page.evaluate("window.__stream")
    assert stream["updates"] > 5 and stream["cursor"]  # token by token, with a cursor
    assert "63,300" in answer.locator(".answer").inner_text()
    assert not answer.locator(".answer.streaming").count()
    assert page.locator(".msg-user .bubble").inner_text() == "How much does a CSM earn in Germany?"

    # footnote: [1] links to a collapsed passage with guide, heading, source and date
    ref = answer.locator("sup.cite a").first
    assert ref.inner_text() == "1"
    note = page.locator(ref.get_attribute("href"))
    assert note.get_attribute("open") is None
    ref.click()
    assert note.get_attribute("open") is not None
    assert "Pay in Germany" in note.locator("summary").inner_text()
    assert "63,300" in note.locator(".fn-text").inner_text()
    assert "as of 2026-06" in note.locator(".fn-meta").inner_text()

    # tick a milestone: stored, and the meter follows
    with page.expect_response(
        lambda r: r.url.endswith("/api/progress") and r.request.method == "PUT"
    ):
        page.check(f"#ms-{QBRS}")
    # the page renders the response after it arrives: wait for that, not for the response
    # (reading the label at once failed about one run in four)
    page.wait_for_function(
        "() => document.querySelector('#meter-label').textContent === '1 of 9 milestones done'"
    )
    assert page.inner_text("#meter-label") == "1 of 9 milestones done"

    page.reload()
    page.wait_for_selector("html[data-ready]")
    assert page.is_checked(f"#ms-{QBRS}")
    assert page.inner_text("#meter-label") == "1 of 9 milestones done"
    # the conversation is in the list and reopened from the URL, citations and all
    assert page.locator("#conv-list a").count() == 1
    assert "CSM earn in Germany" in page.inner_text("#conv-list")
    assert page.locator(".msg-bot sup.cite a").count() >= 1
    assert page.locator(".msg-bot .fn").count() >= 1
    assert w.errors == [] and w.external == []


def test_new_conversation_and_abstention(watched: Any, server: str) -> None:
    w = watched(server)
    page = w.page
    w.ask("How long does it take to become a Customer Success Manager?")
    page.click("#new-chat")
    assert page.locator(".msg").count() == 0 and page.is_visible("#empty")
    answer = w.ask("How do I bake sourdough bread?")
    assert "abstained" in (answer.get_attribute("class") or "")
    assert answer.locator(".msg-label").inner_text() == "Not covered by my guides"
    assert answer.locator("sup.cite").count() == 0
    page.wait_for_function("() => document.querySelectorAll('#conv-list a').length === 2")
    assert w.errors == []


def test_next_steps_button_uses_the_ticked_progress(watched: Any, server: str) -> None:
    w = watched(server)
    page = w.page
    for mid in (QBRS, "csm-m-health-framework-adopted"):
        with page.expect_response(lambda r: r.url.endswith("/api/progress")):
            page.check(f"#ms-{mid}")
    page.click("#next-steps")
    answer = page.locator(".msg-bot").last
    answer.and_(page.locator("[aria-busy='false']")).wait_for()
    assert page.locator(".msg-user .bubble").last.inner_text() == "What should I do next?"
    text = answer.locator(".answer").inner_text()
    assert "2 of 9 milestones" in text
    assert "Run at least 10 QBRs" not in text
    progress_note = answer.locator(".fn-progress").first
    progress_note.locator("summary").click()
    assert "2 of 9 milestones done" in progress_note.locator(".fn-text").inner_text()
    assert w.errors == []


def test_keyboard_only(watched: Any, server: str) -> None:
    w = watched(server)
    page = w.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "message"
    page.keyboard.type("How much does a CSM earn in Germany?")
    page.evaluate(WATCH_STREAM)
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg-bot[aria-busy='false'] sup.cite a")
    # back from the message box into the answer: the first citation is reachable and opens
    for _ in range(40):
        if page.evaluate("!!document.activeElement.closest('sup.cite')"):
            break
        page.keyboard.press("Shift+Tab")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    assert href and href.startswith("#fn-")
    page.keyboard.press("Enter")
    assert page.get_attribute(href, "open") is not None
    # focus is visible (the focus ring is not suppressed)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    # tick a milestone from the keyboard
    for _ in range(80):
        if page.evaluate("document.activeElement.id") == f"ms-{QBRS}":
            break
        page.keyboard.press("Tab")
    with page.expect_response(lambda r: r.url.endswith("/api/progress")):
        page.keyboard.press("Space")
    assert page.is_checked(f"#ms-{QBRS}")
    assert w.errors == []


def test_phone_layout_and_drawers(watched: Any, server: str) -> None:
    w = watched(server, PHONE)
    page = w.page
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not page.locator("#next-steps").is_visible()  # the roadmap is a closed drawer
    toggle = page.locator(".toggle-roadmap")
    assert toggle.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    # slides in from the right edge, fully on screen
    page.wait_for_function(
        "() => { const r = document.getElementById('roadmap').getBoundingClientRect();"
        " return r.left >= 0 && Math.round(r.right) === innerWidth; }"
    )
    assert page.locator("#next-steps").is_visible()
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('toggle-roadmap')")

    answer = w.ask("How much does a CSM earn in Germany?")
    assert answer.locator("sup.cite").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click(".toggle-chats")
    page.wait_for_function(
        "() => document.getElementById('chats').getBoundingClientRect().left === 0"
    )
    assert page.locator("#conv-list a").count() == 1
    page.click("#scrim", position={"x": 370, "y": 400})
    assert page.get_attribute(".toggle-chats", "aria-expanded") == "false"
    assert w.errors == []


def test_rate_limit_shows_an_error_and_a_toast(watched: Any, shipped: Any) -> None:
    with live_server(app_for(shipped, chat_rate_per_minute=1)) as url:
        w = watched(url)
        w.ask("How much does a CSM earn in Germany?")
        answer = w.ask("And in the US?")
        assert "Try again in" in answer.locator(".msg-error").inner_text()
        assert w.page.locator(".toast.error").count() == 1
        assert w.page.is_enabled("#message")
        # the failed request is only an HTTP 429 in the console, nothing else
        assert all("429" in e for e in w.errors)


def test_hostile_guide_and_model_answer_never_execute(
    watched: Any, tmp_path: Path, embedder: Any
) -> None:
    from conftest import make_settings

    settings = make_settings(tmp_path / "home", hostile_corpus(tmp_path))
    model = ScriptedChat(HOSTILE_ANSWER)
    tutor = Tutor(settings, index=Index(settings, embedder=embedder), chat_model=model)
    try:
        tutor.ingest()
        with live_server(create_app(tutor=tutor)) as url:
            w = watched(url)
            page = w.page
            answer = w.ask("How do I run onboarding for new customers?")
            assert model.calls, "the scripted model was not used"
            # streamed as plain text: the payload was visible as characters, never as markup
            assert "<script>" in page.evaluate("window.__stream.maxText")
            # every footnote opened, every link hovered
            for summary in answer.locator(".fn summary").all():
                summary.click()
            assert "Hostile" in answer.locator(".fn summary").first.inner_text()
            assert "<script>" in answer.locator(".fn-text").first.inner_text()
            for link in answer.locator(".answer a").all():
                link.hover()
            # and once more from the stored conversation
            page.reload()
            page.wait_for_selector("html[data-ready]")
            page.wait_for_selector(".msg-bot .fn")
            for summary in page.locator(".fn summary").all():
                summary.click()
            page.wait_for_timeout(300)

            assert page.evaluate("typeof window.__xss") == "undefined"
            assert w.dialogs == []
            assert w.external == []  # no image beacons, no requests anywhere else
            assert [e for e in w.errors if "Content Security Policy" in e] == []
            bad = "script, img, iframe, svg, object, embed, [onerror], [onload], [onmouseover], [href^='javascript']"
            assert page.locator(f".msg-bot :is({bad})").count() == 0
            source_links = page.locator(".fn-meta a")
            assert source_links.count() == 0  # the javascript: source_url was not linked
            assert w.errors == []
    finally:
        tutor.close()


def test_slow_model_streams_with_a_cursor_and_stop_cancels(watched: Any, shipped: Any) -> None:
    """A slow model (sharing the shipped index): tokens arrive one by one; Stop ends the stream."""
    sentence = "A Customer Success Manager runs onboarding and quarterly business reviews [1]. "
    model = ScriptedChat(sentence * 12, chunk=6, delay=0.05)  # ~160 pieces, ~8 s
    tutor = Tutor(shipped.settings, index=shipped.index, chat_model=model)
    with live_server(create_app(tutor=tutor)) as url:
        w = watched(url)
        page = w.page
        assert "Model: scripted" in page.inner_text(".engine-pill")
        page.fill("#message", "What does a CSM do?")
        page.press("#message", "Enter")
        streaming = page.locator(".msg-bot .answer.streaming")
        streaming.wait_for()
        page.wait_for_function(
            "() => document.querySelector('.answer.streaming').textContent.length > 60"
        )
        assert page.get_attribute(".msg-bot", "aria-busy") == "true"
        assert page.get_attribute("#send", "aria-label") == "Stop answering"
        page.click("#send")
        page.locator(".msg-bot .notice", has_text="Stopped.").wait_for()
        assert page.get_attribute(".msg-bot", "aria-busy") == "false"
        assert page.get_attribute("#send", "aria-label") == "Send"
        assert streaming.count() == 0
        # the server stops asking the model for more once the client has gone
        page.wait_for_timeout(1000)
        stopped_at = model.yielded
        page.wait_for_timeout(1000)
        assert model.yielded == stopped_at < 160
        # and the page still works: the next question streams and finishes
        model.delay = 0
        answer = w.ask("And what does it pay?")
        assert answer.locator("sup.cite").count() >= 1
        assert all("aborted" in e.lower() or "abort" in e.lower() for e in w.errors), w.errors
