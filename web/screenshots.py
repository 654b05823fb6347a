"""Screenshots of the chat page for the README: docs/screenshot-{desktop,phone,phone-roadmap}.png.

    python -m web.screenshots [--out docs]

Ingests the shipped corpus into a temporary TUTOR_HOME, serves the app on 127.0.0.1 with the
offline engine (deterministic answers), and drives Debian's ``chromium`` through playwright
(no browser downloads): tick a few milestones, ask a question, open a citation, screenshot at
1280x800 and 390x844 (and the roadmap drawer open on the phone).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tutor.settings import PROJECT_ROOT, Settings, hf_offline

# Headless Debian chromium in a sandbox with no internet: without the background-networking
# flags it keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTION = "How much does a CSM earn in Germany?"
TICKED = ["csm-m-run-10-qbrs", "csm-m-health-framework-adopted", "csm-m-strategic-upsell"]


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def offline_settings(home: Path) -> Settings:
    return Settings(
        home=home,
        corpus_dir=PROJECT_ROOT / "corpus",
        engine="offline",
        openai_api_key=None,
        openai_base_url=None,
        chroma_url=None,
        embedder="minilm",
    )


def take(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install chromium")
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        desktop = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
        page = desktop.new_page()
        page.goto(url)
        page.wait_for_selector("html[data-ready]")
        for mid in TICKED:
            with page.expect_response(lambda r: r.url.endswith("/api/progress")):
                page.check(f"#ms-{mid}")
        page.fill("#message", QUESTION)
        page.press("#message", "Enter")
        page.wait_for_selector(".msg-bot[aria-busy='false'] sup.cite a")
        page.locator(".msg-bot sup.cite a").first.click()
        page.mouse.move(8, 790)  # no hover state in the picture
        page.wait_for_timeout(400)
        page.evaluate("() => { const l = document.getElementById('log'); l.scrollTop = 0; }")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.wait_for_timeout(200)
        path = out / "screenshot-desktop.png"
        page.screenshot(path=str(path))
        written.append(path)

        # the same learner on a phone: the conversation is kept, the roadmap is a drawer
        state = desktop.storage_state()
        phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            color_scheme="light",
            storage_state=state,
        )
        mobile = phone.new_page()
        mobile.goto(page.url)
        mobile.wait_for_selector("html[data-ready]")
        mobile.wait_for_selector(".msg-bot sup.cite a")
        mobile.evaluate("() => { const l = document.getElementById('log'); l.scrollTop = 0; }")
        mobile.wait_for_timeout(200)
        path = out / "screenshot-phone.png"
        mobile.screenshot(path=str(path))
        written.append(path)
        mobile.click(".toggle-roadmap")
        mobile.wait_for_timeout(400)  # the drawer slides in
        path = out / "screenshot-phone-roadmap.png"
        mobile.screenshot(path=str(path))
        written.append(path)
        browser.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs")
    args = ap.parse_args()
    hf_offline()
    from tutor.tutor import Tutor
    from web.app import create_app

    with tempfile.TemporaryDirectory(prefix="tutor-shots-") as tmp:
        tutor = Tutor(offline_settings(Path(tmp)))
        try:
            print("ingesting the shipped corpus…", flush=True)
            tutor.ingest()
            with serve_in_thread(create_app(tutor=tutor)) as url:
                args.out.mkdir(parents=True, exist_ok=True)
                for path in take(url, args.out):
                    print(f"wrote {path}")
        finally:
            tutor.close()


if __name__ == "__main__":
    main()
