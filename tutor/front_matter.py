"""Guide front matter: YAML without anchors, where every field is one short value.

A guide's fields end up in citations, prompts and the page. A nested or huge value there is
either a mistake or an attack: 545 bytes of aliases expanded to 5.6 GB. So the YAML is read
by :mod:`tutor.safe_yaml`, and each field must be a scalar of bounded length. The only list
is ``aliases``: a few short names for the role.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from . import safe_yaml
from .errors import CorpusError

MAX_CHARS = 16_000  # our guides' front matter is about 300 characters
FIELD_CHARS = 300
LONG_FIELDS = {"source_url": 2_000}
MAX_ALIASES = 20
ALIAS_CHARS = 60
_HINT = "See corpus/README.md for the guide front matter."


def _field_error(
    path: Path, key: str, problem: str, what: str = "front-matter field"
) -> CorpusError:
    return CorpusError(f"{path}: {what} '{key}' {problem}.", _HINT)


def _scalar(path: Path, key: str, value: Any, limit: int) -> Any:
    if isinstance(value, (dict, list, tuple, set)):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        raise _field_error(path, key, f"is {kind}; it must be a single value")
    if value is not None and not isinstance(value, (str, int, float, bool, date)):
        raise _field_error(path, key, f"has an unsupported type ({type(value).__name__})")
    if value is not None and len(str(value)) > limit:
        raise _field_error(
            path, key, f"is {len(str(value)):,} characters long; the limit is {limit:,}"
        )
    return value


def aliases(path: Path, value: Any, what: str = "front-matter field") -> list[str]:
    """Other names for a role ("csm"), from a guide's front matter or a role profile."""

    def error(problem: str) -> CorpusError:
        return _field_error(path, "aliases", problem, what)

    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise error("must be a list of short names, e.g. [csm, cs manager]")
    if len(items) > MAX_ALIASES:
        raise error(f"has {len(items)} names; the limit is {MAX_ALIASES}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise error("must hold only short names (strings)")
        name = str(item).strip()
        if not name or len(name) > ALIAS_CHARS or "," in name:
            raise error(
                f"has the name '{name[:40]}': each must be 1 to {ALIAS_CHARS} characters, without commas"
            )
        out.append(name)
    return out


def parse(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """(fields, body) of a Markdown file. Text without a closing ``---`` has no front matter."""
    if not text.lstrip().startswith("---"):
        return {}, text
    try:
        raw, body = YAMLHandler().split(text.strip())
    except ValueError:
        return {}, text
    if len(raw) > MAX_CHARS:
        raise CorpusError(
            f"{path}: the front matter is {len(raw):,} characters long; the limit is {MAX_CHARS:,}.",
            _HINT,
        )
    try:
        data = safe_yaml.load(raw)
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: the front matter is not valid YAML ({exc}).", _HINT) from exc
    if data is None:
        return {}, body.strip()
    if not isinstance(data, dict):
        raise CorpusError(
            f"{path}: the front matter must be `field: value` lines, not a {type(data).__name__}.",
            _HINT,
        )
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or len(key) > 60:
            raise CorpusError(f"{path}: the front matter has a bad field name {str(key)[:60]!r}.")
        if key == "aliases":
            fields[key] = aliases(path, value)
        else:
            fields[key] = _scalar(path, key, value, LONG_FIELDS.get(key, FIELD_CHARS))
    return fields, body.strip()
