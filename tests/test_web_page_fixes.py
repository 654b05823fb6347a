"""What a new user hit on the page (issue 9, point 7), checked in real headless Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_web_browser import CHROMIUM, DESKTOP, PHONE, Watched, sync_api
from web_support import CHROMIUM_ARGS, app_for, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

assert CHROMIUM  # test_web_browser skips the module when chromium is missing

IN_VIEW = """() => {
  const log = document.getElementById('log').getBoundingClientRect();
  const msg = [...document.querySelectorAll('.msg-bot')].pop().getBoundingClientRect();
  return {top: msg.top, logTop: log.top, logBottom: log.bottom, height: msg.height};
}"""
AT_END = """() => {
  const log = document.getElementById('log');
  return log.scrollHeight - log.scrollTop - log.clientHeight;
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


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    made: list[Watched] = []

    def make(url: str, viewport: dict[str, int] = DESKTOP) -> Watched:
        w = Watched(browser, url, viewport)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def assert_answer_in_view(page: Any) -> None:
    page.wait_for_timeout(400)  # let a smooth scroll finish
    box = page.evaluate(IN_VIEW)
    # the start of the new answer is on screen, inside the conversation pane
    assert box["logTop"] - 1 <= box["top"] < box["logBottom"] - 40, box


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_next_steps_and_abstentions_are_scrolled_into_view(
    open_page: Any, server: str, viewport: dict[str, int]
) -> None:
    w = open_page(server, viewport)
    page = w.page
    for q in ("How much does a CSM earn in Germany?", "What skills should I learn first?"):
        w.ask(q)
    if viewport is PHONE:
        page.click(".toggle-roadmap")
    page.click("#next-steps")
    answer = page.locator(".msg-bot").last
    answer.and_(page.locator("[aria-busy='false']")).wait_for()
    assert "milestones" in answer.inner_text()
    assert_answer_in_view(page)
    w.ask("How do I bake sourdough bread?")
    assert "abstained" in (page.locator(".msg-bot").last.get_attribute("class") or "")
    assert_answer_in_view(page)
    assert w.errors == []


def test_after_a_reload_on_a_phone_the_view_is_at_the_end(open_page: Any, server: str) -> None:
    w = open_page(server, PHONE)
    page = w.page
    for q in (
        "How much does a CSM earn in Germany?",
        "How long does it take to become a Customer Success Manager?",
        "What skills should I learn first?",
    ):
        w.ask(q)
    page.reload()
    page.wait_for_selector("html[data-ready]")
    page.wait_for_timeout(600)
    assert page.evaluate(AT_END) <= 2
    assert w.errors == []


def hours_toast(page: Any) -> str:
    toast = page.locator(".toast").last
    toast.wait_for()
    text: str = toast.inner_text()
    page.evaluate("document.getElementById('toasts').replaceChildren()")
    return text


def test_hours_field_bounds_errors_and_placeholder(open_page: Any, server: str) -> None:
    w = open_page(server)
    page = w.page
    hours = page.locator("#hours")
    # never set: no value pretending to be the learner's, the roadmap's hours as a hint
    assert hours.input_value() == ""
    assert hours.get_attribute("placeholder") == "e.g. 10"
    assert hours.get_attribute("min") == "1" and hours.get_attribute("max") == "80"

    for bad in ("100", "0", "80.5"):
        hours.fill(bad)
        hours.dispatch_event("change")
        assert "from 1 to 80" in hours_toast(page)
        assert hours.input_value() == ""  # back to what is stored: nothing

    with page.expect_response(lambda r: r.url.endswith("/api/hours")):
        hours.fill("6")
        hours.dispatch_event("change")
    assert "Saved: 6 hours a week" in hours_toast(page)
    hours.fill("90")
    hours.dispatch_event("change")
    hours_toast(page)
    assert hours.input_value() == "6"

    # the server refuses (whatever the reason): its message is shown and the field reverts
    def refuse(route: Any) -> None:
        body = {"error": "bad_input", "message": "Server says no.", "hint": "Because."}
        route.fulfill(status=400, content_type="application/json", body=json.dumps(body))

    page.route("**/api/hours", refuse)
    hours.fill("12")
    hours.dispatch_event("change")
    assert "Server says no." in hours_toast(page)
    assert hours.input_value() == "6"
    page.unroute("**/api/hours")

    page.reload()
    page.wait_for_selector("html[data-ready]")
    assert page.locator("#hours").input_value() == "6"
    assert [e for e in w.errors if "400" not in e] == []


def test_role_select_is_not_cut_off_at_phone_width(open_page: Any, server: str) -> None:
    w = open_page(server, PHONE)
    fits = w.page.evaluate(
        """() => {
          const s = document.getElementById('role');
          const cs = getComputedStyle(s);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
          return [...s.options].map((o) => ({
            text: o.textContent,
            need: ctx.measureText(o.textContent).width + parseFloat(cs.paddingLeft)
                  + parseFloat(cs.paddingRight),
            have: s.clientWidth,
          }));
        }"""
    )
    assert fits and all(f["need"] <= f["have"] for f in fits), fits
    assert w.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_conversation_list_pages_with_show_older(open_page: Any, shipped: Any) -> None:
    from tutor.tutor import Tutor

    with live_server(app_for(shipped)) as url:
        w = open_page(url)
        page = w.page
        cookie = next(c["value"] for c in w.context.cookies() if c["name"] == "tutor_learner")
        learner_id = app_for(shipped).state.signer.load(cookie)
        t: Tutor = shipped
        for _ in range(53):
            t.new_conversation(learner_id)
        page.reload()
        page.wait_for_selector("html[data-ready]")
        assert page.locator("#conv-list a").count() == 50
        page.click(".conv-more button")
        page.wait_for_function("() => document.querySelectorAll('#conv-list a').length === 53")
        assert page.locator(".conv-more").count() == 0
        ids = page.eval_on_selector_all("#conv-list a", "as => as.map((a) => a.dataset.id)")
        assert len(set(ids)) == 53
        assert w.errors == []
