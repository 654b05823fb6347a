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
MAX_DEPTH = 64  # corpus YAML nests a few levels; "[[[[…" hundreds deep is an attack or an accident


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
        _refuse_duplicate_keys(self, node, deep)
        return super().construct_mapping(node, deep=deep)


def _refuse_duplicate_keys(loader: Any, node: Any, deep: bool) -> None:
    # YAML lets a later key silently replace an earlier one ("note:" twice in a profile entry
    # lost the first); in corpus files that is always a mistake
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ComposerError(
                None, None, f"the key {key!r} appears twice in one mapping", key_node.start_mark
            )
        seen.add(key)


class _FastNoDupLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser and composer (the pure-Python composer took 1 s of a cold `tutor ask`
    on the labelled examples), with the duplicate-key check; aliases are refused on the
    composed graph instead (``_refuse_shared``)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        _refuse_duplicate_keys(self, node, deep)
        return super().construct_mapping(node, deep=deep)


def _refuse_shared(root: Any) -> None:
    """An alias makes two places in the graph one node: stop at the first node reached twice,
    before anything is constructed, so a "billion laughs" costs one pass over its text."""
    seen: set[int] = set()
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise yaml.YAMLError("the YAML is nested too deeply")
        if id(node) in seen:
            raise ComposerError(
                None,
                None,
                "YAML anchors and aliases (&name, *name) are not allowed here; write each value out",
                node.start_mark,
            )
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend(((k, depth + 1), (v, depth + 1)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((x, depth + 1) for x in node.value)


def load(text: str) -> Any:
    """Parse one YAML document; every problem is a ``yaml.YAMLError``."""
    if not yaml.__with_libyaml__:
        try:
            return yaml.load(text, Loader=_NoAnchorLoader)
        except RecursionError as exc:  # "[[[[…" a few hundred deep: the composer recurses
            raise yaml.YAMLError("the YAML is nested too deeply") from exc
    loader = _FastNoDupLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_shared(node)
        return loader.construct_document(node)
    except RecursionError as exc:  # "[[[[…" a few hundred deep: the constructor recurses
        raise yaml.YAMLError("the YAML is nested too deeply") from exc
    finally:
        loader.dispose()


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
