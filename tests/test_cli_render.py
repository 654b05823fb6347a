"""What the CLI prints (issue 9): Markdown rendered for the terminal, words never broken at the
edge, sources as footnotes, `--json` untouched, and plain text through a pipe.

The terminal cases run the real command through click's runner with rich told it writes to an
interactive terminal, and replay the bytes in pyte, a VT100 emulator, to read the final screen.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyte
import pytest
from cli_run import run_cli
from conftest import CORPUS

from tutor.cli_render import AnswerPrinter, make_console

CSM = "customer-success-manager"
WIDTH = 50


def cli(monkeypatch: pytest.MonkeyPatch, embedder: Any, shipped: Any, *args: str, **kw: Any):
    return run_cli(monkeypatch, embedder, shipped.settings.home, CORPUS, *args, **kw)


def screen_of(output: bytes, width: int = WIDTH, height: int = 400) -> pyte.Screen:
    screen = pyte.Screen(width, height)
    # a tty turns "\n" into "\r\n" on its way to the screen (onlcr)
    pyte.ByteStream(screen).feed(output.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return screen


def plain_words(markdown: str) -> list[str]:
    """The words a reader should see: Markdown markers gone, list bullets gone."""
    text = re.sub(r"\*\*|__", "", markdown)
    text = re.sub(r"^\s*[-*+]\s+", "", text, flags=re.M)
    return text.split()


def assert_words_whole(words: list[str], lines: list[str]) -> None:
    """Every word of the answer is on one line: none was broken at the edge."""
    seen = {w for line in lines for w in line.split()}
    broken = [w for w in words if w not in seen]
    assert not broken, broken


TERMINAL = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": str(WIDTH), "LINES": "400"}
PIPE = {"COLUMNS": str(WIDTH)}


def test_chat_on_a_terminal_renders_markdown_and_wraps_whole_words(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, shipped: Any
) -> None:
    learner = "render-tty"
    lines = ["How much does a CSM make in the US?", "/next", "/quit"]
    r = cli(
        monkeypatch,
        embedder,
        shipped,
        "chat",
        "--learner",
        learner,
        "--role",
        CSM,
        input="\n".join(lines) + "\n",
        terminal=TERMINAL,
    )
    assert r.exit_code == 0, r.output
    screen = screen_of(r.stdout_bytes)
    shown = [line.rstrip() for line in screen.display]
    text = "\n".join(shown)

    conv = shipped.conversations(learner)[0]
    answers = [
        m["content"]
        for m in shipped.conversation(learner, conv["id"])["messages"]
        if m["sender"] == "assistant"
    ]
    ask = answers[0]
    assert_words_whole(plain_words(ask), shown)
    # the streamed line was replaced, not left behind: the answer's first words appear once
    assert text.count(" ".join(plain_words(ask)[:4])) == 1

    # /next is not stored in this conversation: check its rendering on the screen itself
    assert "**" not in text
    assert "• Run at least 10 QBRs" in text
    row = next(y for y, line in enumerate(shown) if "• Run at least 10 QBRs" in line)
    x = shown[row].index("Run")
    assert screen.buffer[row][x].bold  # the milestone title is bold, not wrapped in **
    # footnotes: "[n]" and the source, dim
    foot = next(y for y, line in enumerate(shown) if line.startswith("[1] "))
    assert "as of" in " ".join(shown[foot : foot + 4])
    assert all(len(line) <= WIDTH for line in shown)
    assert "\x1b[" in r.output  # styles and cursor movement: rich saw a terminal


def test_a_piped_answer_is_plain_text_wrapped_at_word_boundaries(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, shipped: Any
) -> None:
    fixtures = (monkeypatch, embedder, shipped)
    r = cli(*fixtures, "next", "--learner", "render-pipe", "--role", CSM, terminal=PIPE)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "\x1b" not in out and "**" not in out
    lines = out.splitlines()
    assert all(len(line) <= WIDTH and line == line.rstrip() for line in lines)
    answer = shipped.next_steps("render-pipe", CSM).answer
    assert "**" in answer  # the answer is Markdown; the terminal shows it rendered
    assert_words_whole(plain_words(answer), lines)
    assert [line for line in lines if line.startswith(" • Run at least 10 QBRs")]
    assert re.search(r"^\[1\] Your roadmap progress", out, re.M)


def test_json_output_is_unchanged(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, shipped: Any
) -> None:
    fixtures = (monkeypatch, embedder, shipped)
    args = ("next", "--learner", "render-json", "--role", CSM, "--json")
    r = cli(*fixtures, *args, terminal=TERMINAL)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["answer"] == shipped.next_steps("render-json", CSM).answer
    assert "**" in data["answer"] and "\x1b" not in r.stdout


def test_a_streamed_word_is_never_split_at_the_edge() -> None:
    """Tokens that end mid-word (as a model streams them) still wrap as whole words."""
    import io

    out = io.StringIO()
    console = make_console()
    console.file = out
    text = "The pipeline review covers renewals, expansions and churn risks every week. " * 3
    printer = AnswerPrinter(console)
    for i in range(0, len(text), 3):
        printer.feed(text[i : i + 3])
    printer.feed("\n- **Bold item** with a tail\n")
    printer.close()
    lines = out.getvalue().splitlines()
    assert_words_whole(plain_words(text + "\n- **Bold item** with a tail"), lines)
    assert " • Bold item with a tail" in lines
