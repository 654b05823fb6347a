"""74 XSS vectors through three channels, rendered by the real page in headless Chromium.

Channels: a model's answer (everything goes into the one innerHTML sink, the sanitised answer
HTML), a Markdown guide and an ingested HTML page (their passages reach the page as footnotes,
as titles and sources, and through answers that quote them). Every answer is also rendered a
second time from the stored conversation after a reload.

A vector "executes" if it sets its ``window.__xss_<id>``, opens a dialog, loads anything from
outside 127.0.0.1, or trips the Content-Security-Policy (which would mean that markup reached
the DOM and only the CSP stopped it). Run with -s for the per-channel counts.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from web_support import CHROMIUM_ARGS, ScriptedChat, live_server
from xss_vectors import VECTORS, hostile_html_page, hostile_markdown_guide, sections

from tutor.index import Index
from tutor.settings import PROJECT_ROOT
from tutor.tutor import Tutor
from web.app import create_app
from web.security import COOKIE_NAME

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("chromium is not installed; browser tests skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CSM = "customer-success-manager"
SUPPORT = "customer-support-manager"
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
# Anything in the answer HTML (the one innerHTML sink) that could run script or load content.
AUDIT = """() => {
  const bad = [];
  const allowed = new Set(['P','BR','HR','STRONG','EM','B','I','CODE','PRE','BLOCKQUOTE','UL','OL',
    'LI','A','SUP','H1','H2','H3','H4','H5','H6','TABLE','THEAD','TBODY','TR','TH','TD']);
  for (const el of document.querySelectorAll('.answer *')) {
    if (!allowed.has(el.tagName)) bad.push('<' + el.tagName + '>');
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on') || ['style','src','srcdoc','formaction','action'].includes(n))
        bad.push(el.tagName + '[' + n + ']');
      if (n === 'href' && !/^(https:\\/\\/|#fn-)/.test(a.value)) bad.push('href=' + a.value);
    }
  }
  return bad;
}"""
EXECUTED = "() => Object.keys(window).filter((k) => k.startsWith('__xss_'))"


class CiteEverything:
    """A model that cites every passage it is given, so each one becomes a footnote."""

    name = "cite-everything"

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        yield "The guides cover this [1] [2] [3] [4] [5] [6] [7] [8]."


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Index]:
    from conftest import make_settings

    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    (corpus / "guides").mkdir(parents=True)
    (corpus / "guides" / "xss-guide.md").write_text(hostile_markdown_guide(), encoding="utf-8")
    shutil.copytree(PROJECT_ROOT / "corpus" / "roadmaps", corpus / "roadmaps")
    page = root / "support-handbook.html"
    page.write_text(hostile_html_page(), encoding="utf-8")
    settings = make_settings(root / "home", corpus)
    index = Index(settings, embedder=embedder)
    t = Tutor(settings, index=index)
    t.ingest()
    t.ingest([page], role=SUPPORT)
    yield index
    index.close()


def run_page(browser: Any, tutor: Tutor, questions: list[tuple[str, str]]) -> dict[str, Any]:
    """Ask ``questions`` on the page, open every footnote, hover every link, reload the
    stored conversation and do it again; return what the page received and what ran."""
    settings = tutor.settings.model_copy(
        update={"chat_rate_per_minute": 1000, "chat_rate_per_address": 1000}
    )
    with live_server(create_app(settings, tutor=tutor)) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.add_init_script(WATCH)
        dialogs: list[str] = []
        external: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on(
            "request",
            lambda r: None if r.url.startswith((url, "data:")) else external.append(r.url),
        )
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector("html[data-ready]")

        def poke(scope: Any) -> None:
            for summary in scope.locator(".fn summary").all():
                summary.click()
            for link in scope.locator(".answer a").all():
                link.hover()

        for role, q in questions:
            if page.input_value("#role") != role:
                page.select_option("#role", role)
                page.wait_for_selector("#phases[aria-busy='false']")
            before = page.locator(".msg-bot").count()
            page.fill("#message", q)
            page.press("#message", "Enter")
            answer = page.locator(".msg-bot").nth(before)
            answer.and_(page.locator("[aria-busy='false']")).wait_for(timeout=60_000)
            assert answer.locator(".msg-error").count() == 0, answer.inner_text()
            poke(answer)
        audits = page.evaluate(AUDIT)
        page.reload()
        page.wait_for_selector("html[data-ready]")
        page.wait_for_selector(".msg-bot[aria-busy='false']")
        poke(page)
        page.wait_for_timeout(300)
        audits += page.evaluate(AUDIT)
        result = {
            "executed": page.evaluate(EXECUTED),
            "csp": page.evaluate("window.__csp"),
            "dialogs": dialogs,
            "external": external,
            "errors": errors,
            "audit": audits,
        }
        cookie = next(c["value"] for c in context.cookies() if c["name"] == COOKIE_NAME)
        learner = create_app(settings, tutor=tutor).state.signer.load(cookie)
        context.close()
    assert learner
    shown = []  # what the page rendered: answers, and footnote texts, titles and sources
    for conv in tutor.conversations(learner):
        for m in tutor.conversation(learner, conv["id"])["messages"]:
            a = m["answer"]
            if a:
                shown.append(("answer", a["answer"]))
                for c in a["citations"]:
                    where = c["guide"]
                    shown += [
                        (where, str(c.get(k) or "")) for k in ("text", "title", "heading", "source")
                    ]
    result["shown"] = shown
    return result


def delivered(shown: list[tuple[str, str]], where: str) -> set[str]:
    text = " ".join(t for w, t in shown if w == where or (where == "*" and True))
    return {vid for vid, _ in VECTORS if re.search(rf"(?<![a-z]){vid}(?![a-z])", text)}


def assert_nothing_ran(result: dict[str, Any]) -> None:
    assert result["executed"] == []
    assert result["dialogs"] == []
    assert result["external"] == []
    assert result["csp"] == []
    assert [e for e in result["errors"] if "Content Security Policy" in e] == []
    assert result["audit"] == []


def test_model_output_vectors_never_execute(browser: Any, hostile_index: Index) -> None:
    text = "\n\n".join(f"{vector} [1]" for _, vector in VECTORS)
    model = ScriptedChat(text, chunk=40)
    tutor = Tutor(hostile_index.settings, index=hostile_index, chat_model=model)
    result = run_page(browser, tutor, [(CSM, "What does a Customer Success Manager do?")])
    got = delivered(result["shown"], "answer")
    print(
        f"\nmodel output: {len(VECTORS)} vectors tried, {len(got)} reached the answer HTML, "
        f"{len(result['executed'])} executed"
    )
    assert model.calls
    # most vectors must reach the page for this to test rendering at all; the answer check
    # now removes a few first (links other than a guide's source_url, instruction-like lines)
    assert len(got) >= 55
    assert_nothing_ran(result)


def test_guide_and_html_vectors_never_execute(browser: Any, hostile_index: Index) -> None:
    guide_qs = [(CSM, f"What does a Customer Success Manager do about {t}?") for t, _ in sections()]
    html_qs = [
        (SUPPORT, f"What does a Customer Support Manager do with {t} queues?")
        for t, _ in sections()
    ]
    footnotes = run_page(
        browser,
        Tutor(hostile_index.settings, index=hostile_index, chat_model=CiteEverything()),
        guide_qs + html_qs,
    )
    offline = run_page(
        browser, Tutor(hostile_index.settings, index=hostile_index), guide_qs[::3] + html_qs[::3]
    )
    md = delivered(footnotes["shown"] + offline["shown"], "xss-guide")
    page = delivered(footnotes["shown"] + offline["shown"], "support-handbook")
    quoted = delivered(offline["shown"], "answer")
    print(
        f"\nguide (Markdown): {len(md)} of {len(VECTORS)} vectors shown in footnotes; "
        f"ingested HTML: {len(page)} of {len(VECTORS)}; quoted into offline answers: "
        f"{len(quoted)}; executed: {len(footnotes['executed']) + len(offline['executed'])}"
    )
    assert len(md) >= 55 and len(page) >= 40  # one passage per section: some stay unseen
    assert_nothing_ran(footnotes)
    assert_nothing_ran(offline)
