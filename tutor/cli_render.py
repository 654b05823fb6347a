"""How the CLI shows an answer: Markdown rendered by rich, wrapped at word boundaries.

`tutor chat` printed streamed tokens as they came, so words broke at the terminal edge, and
`/next` printed raw ``**bold**``. An answer now arrives line by line. Each finished line is
rendered as Markdown (bullets, bold) and printed for good; on a terminal, the line that is
still streaming sits in a small live region that rich re-wraps as words arrive, and it is
replaced by the rendered line once the line is done. Piped output gets the same words without
styles or cursor movement. Sources follow as dim footnotes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment, Segments
from rich.table import Table

MAX_WIDTH = 100  # long lines are hard to read, even on a wide terminal
REFRESH_S = 0.02  # redraw the streaming line at most 50 times a second
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s")
_FENCE = re.compile(r"^\s*(?:```|~~~)")


def make_console(stderr: bool = False) -> Console:
    """Rich decides terminal or not (isatty, or rich's own TTY_COMPATIBLE/FORCE_COLOR)."""
    width = min(MAX_WIDTH, Console(stderr=stderr).width)
    return Console(stderr=stderr, width=width, highlight=False, markup=False, emoji=False)


def _rstrip(line: list[Segment]) -> list[Segment]:
    out = list(line)
    while out and not out[-1].control and not out[-1].text.strip():
        out.pop()
    if out and not out[-1].control:
        out[-1] = Segment(out[-1].text.rstrip(), out[-1].style)
    return out


def render_block(console: Console, block: str, gap: bool = False) -> Segments:
    # links show their address: a terminal hyperlink would hide where it goes
    return _tidy(console, Markdown(block, hyperlinks=False, justify="default"), gap)


def _tidy(console: Console, renderable: RenderableType, gap: bool = False) -> Segments:
    """Wrapped lines without the blank lines and the padding to the full width that rich adds
    around lists and tables: they would end up in piped output."""
    lines = [_rstrip(line) for line in console.render_lines(renderable, pad=False)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if gap:
        lines.insert(0, [])
    return Segments(seg for line in lines for seg in [*line, Segment.line()])


class AnswerPrinter:
    """Feed it text as it streams; call ``close()`` at the end. Lines keep their breaks: a
    blank line separates paragraphs, consecutive list items stay one list."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.pending = ""  # the unfinished line
        self.fence: list[str] | None = None  # lines of an open ``` block
        self.last_was_item: bool | None = None  # None until something is printed
        self.live: Live | None = None
        self._drawn = 0.0

    def feed(self, text: str) -> None:
        self.pending += text
        done = "\n" in self.pending
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self._line(line)
        self._show_pending(force=done)  # a finished line must not linger in the live region

    def close(self) -> None:
        if self.pending:
            self._line(self.pending)
            self.pending = ""
        if self.fence is not None:
            self._print_block("\n".join(self.fence), item=False)
            self.fence = None
        if self.live is not None:
            self.live.update(Segments([]), refresh=True)
            self.live.stop()
            self.live = None

    def _line(self, line: str) -> None:
        if self.fence is not None:
            self.fence.append(line)
            if _FENCE.match(line):
                self._print_block("\n".join(self.fence), item=False)
                self.fence = None
        elif _FENCE.match(line):
            self.fence = [line]
        elif line.strip():
            self._print_block(line, item=bool(_LIST_ITEM.match(line)))

    def _needs_gap(self, item: bool) -> bool:
        return self.last_was_item is not None and not (item and self.last_was_item)

    def _print_block(self, block: str, item: bool) -> None:
        self.console.print(render_block(self.console, block, self._needs_gap(item)), end="")
        self.last_was_item = item

    def _show_pending(self, force: bool = False) -> None:
        if not self.console.is_interactive:
            return  # a pipe gets whole lines only
        now = time.monotonic()
        if self.live is not None and not force and now - self._drawn < REFRESH_S:
            return  # the offline engine sends a whole answer at once: draw what is there later
        self._drawn = now
        text = "\n".join([*(self.fence or []), self.pending])
        if self.live is None:
            if not text.strip():
                return
            self.live = Live(
                console=self.console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start()
        item = self.fence is None and bool(_LIST_ITEM.match(self.pending))
        gap = self._needs_gap(item)
        view = render_block(self.console, text, gap) if text.strip() else Segments([])
        self.live.update(view, refresh=True)


def print_markdown(console: Console, text: str) -> None:
    printer = AnswerPrinter(console)
    printer.feed(text)
    printer.close()


def print_sources(console: Console, citations: Iterable[Any]) -> None:
    """Footnotes: '[n]' in one column, the source wrapped beside it, all dim."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    rows = 0
    for c in citations:
        where = f"{c.title} › {c.heading}" if c.kind == "guide" else f"{c.title}: {c.text}"
        meta = f" ({c.source}, as of {c.as_of})" if c.kind == "guide" else ""
        grid.add_row(f"[{c.n}]", f"{where}{meta}", style="dim")
        rows += 1
    if rows:
        console.print(_tidy(console, grid, gap=True), end="")
