"""YAML from corpus files (guide front matter, roadmaps, role profiles), without anchors.

A 545-byte front matter of nested aliases (a "billion laughs") expanded to 5.6 GB and crashed
`tutor ingest`. ``yaml.safe_load`` refuses Python objects but still expands aliases. Corpus
YAML is short and hand-written and never needs ``&anchor`` or ``*alias``, so they are refused
while the document is composed, before anything can be expanded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from .errors import CorpusError

MAX_FILE_BYTES = 1_000_000  # a roadmap or profile is a few KB


class _NoAnchorLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ComposerError(
                None,
                None,
                "YAML anchors and aliases (&name, *name) are not allowed here; write each value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # YAML lets a later key silently replace an earlier one ("note:" twice in a profile
        # entry lost the first); in corpus files that is always a mistake
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ComposerError(
                    None, None, f"the key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """Parse one YAML document; every problem is a ``yaml.YAMLError``."""
    try:
        return yaml.load(text, Loader=_NoAnchorLoader)
    except RecursionError as exc:  # "[[[[…" a few hundred deep: the composer recurses
        raise yaml.YAMLError("the YAML is nested too deeply") from exc


def load_mapping(path: Path, what: str) -> dict[str, Any]:
    """A corpus YAML file that must hold a mapping (a roadmap, a role profile)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CorpusError(f"{path}: too large for a {what}.", "Keep it under 1 MB.")
        data = load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot be read ({exc}).") from exc
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: invalid YAML ({exc}).", "Fix the syntax and retry.") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: a {what} must be a YAML mapping.", "See corpus/README.md.")
    return data
