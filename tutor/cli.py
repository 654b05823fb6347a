"""The `tutor` command: a thin shell over :class:`tutor.tutor.Tutor`."""

from __future__ import annotations

import json
import logging
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
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            sys.exit(130)
        except Exception as exc:
            sys.exit(handle_exception(exc, bool(kwargs.get("as_json"))))

    return wrapper  # type: ignore[return-value]


def _tutor() -> Any:
    from .tutor import Tutor

    return Tutor.from_settings()


def _width() -> int:
    return min(100, shutil.get_terminal_size((100, 20)).columns)


def _tqdm_factory(label: str) -> Callable[[int], Any]:
    from tqdm import tqdm

    def make(total: int) -> Any:
        return tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, leave=False)

    return make


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--role", help="Role slug for files that have no front matter (e.g. customer-success-manager).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@guarded
def ingest(paths: tuple[Path, ...], role: str | None, as_json: bool) -> None:
    """Chunk and embed the corpus (and any PATHS) into the index; only changes are embedded."""
    t = _tutor()
    report = t.ingest(list(paths), role=role, progress=None if as_json else _tqdm_factory("Embedding"))
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        click.echo(f"Ingested {report.summary()}.")


@main.command()
@click.argument("query")
@click.option("--role", help="Only passages for this role slug.")
@click.option("-k", "k", default=5, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of passages.")
@guarded
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
        click.echo(textwrap.fill(body, width=width, initial_indent="    ", subsequent_indent="    "))
        click.echo()


if __name__ == "__main__":  # pragma: no cover
    main()
