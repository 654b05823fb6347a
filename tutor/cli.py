"""The `tutor` command: a thin shell over :class:`tutor.tutor.Tutor`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import TutorError, exit_code_for

F = TypeVar("F", bound=Callable[..., Any])


def handle_exception(exc: BaseException, as_json: bool = False) -> int:
    """The one place errors become output and exit codes (cf. datasette's handle_exception)."""
    code = exit_code_for(exc)
    if isinstance(exc, TutorError):
        payload = exc.to_dict()
    else:
        logging.getLogger("tutor").debug("unexpected error", exc_info=exc)
        payload = {"error": "internal", "message": f"{type(exc).__name__}: {exc}", "hint": None}
    if as_json:
        click.echo(json.dumps(payload))
    else:
        click.secho(f"Error: {payload['message']}", fg="red", err=True)
        if payload.get("hint"):
            click.echo(f"Hint: {payload['hint']}", err=True)
    return code


def guarded(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except BrokenPipeError:  # `tutor search ... | head`
            sys.stderr.close()
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            sys.exit(130)
        except Exception as exc:
            sys.exit(handle_exception(exc, bool(kwargs.get("as_json"))))

    return wrapper  # type: ignore[return-value]


_leave_fast = False  # set by a @leaves_fast command that finished; read by entry()


def leaves_fast(fn: F) -> F:
    """Marks a command whose every write is a committed SQLite transaction by the time it
    returns (no Chroma writes, no background work): entry() may then skip the teardown."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _leave_fast
        out = fn(*args, **kwargs)
        _leave_fast = True
        return out

    return wrapper  # type: ignore[return-value]


def entry() -> None:
    """The `tutor` console script.

    After a command marked @leaves_fast has printed everything, the process ends without the
    interpreter's teardown: finalising chromadb's and onnxruntime's modules took 0.3 s of a
    2 s cold `tutor search` here, after the answer was on screen. Every other command
    (ingest writes through Chroma, serve runs its own shutdown) and every error exits
    normally. Tests drive `main` through CliRunner and never get here.
    """
    try:
        main()
    except SystemExit as exc:
        if not _leave_fast:
            raise
        leave_now(exc.code)


def leave_now(code: Any) -> None:
    """Flush what was printed and end the process here, skipping the teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # `tutor search | head` closed it
            stream.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


def _tutor() -> Any:
    from .tutor import Tutor

    return Tutor.from_settings()


def _width() -> int:
    return min(100, shutil.get_terminal_size((100, 20)).columns)


def _tqdm_factory(label: str) -> Callable[..., Any]:
    from tqdm import tqdm

    def make(total: int, desc: str | None = None, unit: str = "chunk") -> Any:
        return tqdm(total=total, desc=desc or label, unit=unit, file=sys.stderr, leave=False)

    return make


class _Commands(click.Group):
    """`tutor eval` imports the eval runner (0.75 s of imports) only when it runs, so that
    `tutor search` and `tutor ask` do not pay for it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "eval"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "eval" and name not in self.commands:
            try:
                from .cli_eval import eval_command
            except ImportError:  # pragma: no cover - a trimmed install
                return None
            self.add_command(eval_command)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr.")
@click.version_option(package_name="career-tutor")
def main(verbose: bool) -> None:
    """A career tutor that answers from curated role guides, with citations."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--role", help="Role slug for files that have no front matter (e.g. customer-success-manager)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@guarded
def ingest(paths: tuple[Path, ...], role: str | None, as_json: bool) -> None:
    """Chunk and embed the corpus (and any PATHS) into the index; only changes are embedded."""
    t = _tutor()
    report = t.ingest(
        list(paths), role=role, progress=None if as_json else _tqdm_factory("Embedding")
    )
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return
    for note in report.skipped:  # a symlink out of the corpus, a PDF: the rest went on
        click.secho(f"Warning: {note}", fg="yellow", err=True)
    for note in report.flagged:  # a planted "ignore previous instructions": ingested, not quoted
        click.secho(f"Warning: {note}", fg="yellow", err=True)
    click.echo(f"Ingested {report.summary()}.")


@main.command()
@click.argument("query")
@click.option("--role", help="Only passages for this role slug.")
@click.option("-k", "k", default=5, show_default=True, help="How many passages.")
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of passages.")
@guarded
@leaves_fast
def search(query: str, role: str | None, k: int, mode: str, as_json: bool) -> None:
    """Print the passages that best answer QUERY, best first."""
    t = _tutor()
    hits = t.search(query, role=role, k=k, mode=mode)
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False))
        return
    if not hits:
        click.echo("No passages found.")
        return
    width = _width()
    for i, h in enumerate(hits, 1):
        c = h.chunk
        click.secho(f"[{i}] {c.title} › {c.heading}", bold=True)
        click.secho(f"    {c.guide} · {c.role} · score {h.score:.4f}", dim=True)
        body = " ".join(c.text.split())
        body = body if len(body) <= 400 else body[:397] + "..."
        click.echo(
            textwrap.fill(body, width=width, initial_indent="    ", subsequent_indent="    ")
        )
        click.echo()


def _print_answer(ans: Any, console: Any = None, streamed: bool = False) -> None:
    """Answer text as Markdown (unless it was streamed already), then its sources as footnotes."""
    from .cli_render import make_console, print_markdown, print_sources

    console = console or make_console()
    if not streamed:
        print_markdown(console, ans.answer)
    if ans.notice:
        click.secho(f"Note: {ans.notice}", fg="yellow", err=True)
    if ans.abstained:
        console.print("(The guides do not cover this; nothing above is a guess.)", style="dim")
    print_sources(console, ans.citations)


@main.command()
@click.argument("question")
@click.option("--role", help="Role slug, e.g. customer-success-manager (inferred when omitted).")
@click.option("--learner", help="Learner id: uses their progress and stores the conversation.")
@click.option("--conversation", help="Continue a stored conversation (needs --learner).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
@guarded
@leaves_fast
def ask(
    question: str, role: str | None, learner: str | None, conversation: str | None, as_json: bool
) -> None:
    """Answer QUESTION from the role guides, citing them."""
    t = _tutor()
    if as_json:
        click.echo(
            json.dumps(t.ask(question, role, learner, conversation).to_dict(), ensure_ascii=False)
        )
        return
    _stream_answer(t, question, role, learner, conversation)


def _stream_answer(
    t: Any, question: str, role: str | None, learner: str | None, conversation: str | None
) -> Any:
    from .citations import Answer
    from .cli_render import AnswerPrinter, make_console

    console = make_console()
    printer = AnswerPrinter(console)
    final = None
    for ev in t.ask_stream(question, role, learner, conversation):
        if ev["event"] == "token":
            printer.feed(ev["data"]["text"])
        elif ev["event"] == "reset":
            printer.close()
            click.secho(f"[{ev['data']['notice']}]", fg="yellow", err=True)
            printer = AnswerPrinter(console)
        elif ev["event"] == "answer":
            final = ev["data"]
    printer.close()
    assert final is not None
    ans = Answer.from_dict(final)
    if ans.engine != "offline" or ans.notice:
        # a model's raw stream may differ from the checked answer: show the checked one
        console.print()
        console.print("Checked answer:", style="bold")
        _print_answer(ans, console)
    else:
        _print_answer(ans, console, streamed=True)
    return ans


@main.command()
@click.option("--role", help="Role slug for the conversation.")
@click.option("--learner", default="me", show_default=True, help="Learner id.")
@guarded
@leaves_fast
def chat(role: str | None, learner: str) -> None:
    """An interactive session; answers stream in. Type /next, /new or /quit."""
    t = _tutor()
    role = t.resolve_role(role)  # "csm" -> customer-success-manager, once for the session
    conv = t.new_conversation(learner, role)["id"]
    click.secho(
        f"Career Tutor ({t.engine_name} engine). Ask about a role; /next for advice, /quit to leave.",
        bold=True,
    )
    while True:
        try:
            q = click.prompt("you", prompt_suffix="> ").strip()
        except (EOFError, click.Abort):
            click.echo()
            return
        if q in ("/quit", "/exit", "/q"):
            return
        if q == "/new":
            conv = t.new_conversation(learner, role)["id"]
            click.echo("New conversation.")
            continue
        try:
            if q == "/next":
                _print_answer(t.next_steps(learner, role))
            else:
                ans = _stream_answer(t, q, role, learner, conv)
                role = role or ans.role
        except TutorError as exc:
            handle_exception(exc)


@main.command()
@click.option("--learner", default="me", show_default=True, help="Learner id.")
@click.option("--role", help="Role slug (default: the learner's current role).")
@click.argument(
    "action", default="show", type=click.Choice(["show", "done", "start", "skip", "undo", "hours"])
)
@click.argument("value", required=False)
@click.option("--json", "as_json", is_flag=True)
@guarded
@leaves_fast
def progress(learner: str, role: str | None, action: str, value: str | None, as_json: bool) -> None:
    """Show or change roadmap progress: show | done ID | start ID | skip ID | undo ID | hours N."""
    from .errors import InputError

    t = _tutor()
    if action != "show" and not value:
        raise InputError(
            f"`tutor progress {action}` needs a value.",
            "e.g. tutor progress done csm-m-run-10-qbrs",
        )
    if action == "hours":
        try:
            hours = float(value or "")
        except ValueError as exc:
            raise InputError(
                f"'{value}' is not a number of hours.", "e.g. tutor progress hours 6"
            ) from exc
        t.set_hours(learner, hours)
        role = role or t.learner_role(learner)
    elif action != "show":
        state = {"done": "done", "start": "in_progress", "skip": "skipped", "undo": None}[action]
        p = t.set_progress(learner, value, state)
        role = p["role"]
    role = role or t.learner_role(learner)
    if role is None:
        roles = [r["slug"] for r in t.roles() if r["has_roadmap"]]
        if len(roles) != 1:
            raise InputError("Which role's roadmap?", f"Pass --role, one of: {', '.join(roles)}.")
        role = roles[0]
    p = t.progress(learner, role)
    rm = t.roadmap(role)
    if as_json:
        click.echo(json.dumps({**p, "roadmap": rm}))
        return
    marks = {"done": "[x]", "in_progress": "[~]", "skipped": "[-]"}
    click.secho(f"{rm['role_title']}: {p['done']} of {p['total']} milestones done", bold=True)
    for ph in rm["phases"]:
        here = "  <- you are here" if ph["id"] == p["current_phase"] else ""
        click.secho(f"\n{ph['title']}{here}", bold=True)
        for m in ph["milestones"]:
            click.echo(
                f"  {marks.get(p['states'].get(m['id'], ''), '[ ]')} {m['title']}  ({m['id']})"
            )
    if p["removed"]:
        click.secho(
            f"\nNo longer in the roadmap (kept in your records): {', '.join(p['removed'])}",
            fg="yellow",
        )
    if p["hours_per_week"]:
        click.echo(f"\nYour pace: {p['hours_per_week']:g} hours a week.")


@main.command("next")
@click.option("--learner", default="me", show_default=True, help="Learner id.")
@click.option("--role", help="Role slug (default: the learner's current role).")
@click.option("--json", "as_json", is_flag=True)
@guarded
@leaves_fast
def next_cmd(learner: str, role: str | None, as_json: bool) -> None:
    """What to do next on the roadmap, with reasons and a pace estimate."""
    ans = _tutor().next_steps(learner, role)
    if as_json:
        click.echo(json.dumps(ans.to_dict(), ensure_ascii=False))
    else:
        _print_answer(ans)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes over the one data dir (see the README on sharing the vector store).",
)
@guarded
def serve(host: str, port: int, workers: int) -> None:
    """Serve the chat page."""
    from web.server import check_port

    check_port(host, port)  # in milliseconds, before the embedding model loads
    from web.app import serve as run

    run(host, port, workers=workers)


@main.command()
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    help="Idle days before a learner is forgotten (default: TUTOR_RETENTION_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="List what would go; delete nothing.")
@click.option("--json", "as_json", is_flag=True)
@guarded
@leaves_fast
def prune(days: float | None, dry_run: bool, as_json: bool) -> None:
    """Forget anonymous web learners idle for N days: progress, conversations and all.

    Learners named on the command line (--learner) are never pruned.
    """
    t = _tutor()
    idle = days if days is not None else t.settings.retention_days
    gone = t.prune_learners(idle, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"idle_days": idle, "dry_run": dry_run, "learners": len(gone)}))
        return
    verb = "Would forget" if dry_run else "Forgot"
    click.echo(f"{verb} {len(gone)} anonymous learner(s) idle for {idle:g} days or more.")


if __name__ == "__main__":  # pragma: no cover
    main()
