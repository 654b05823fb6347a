"""YAML from corpus files (guide front matter, roadmaps, role profiles), without anchors.

A 545-byte front matter of nested aliases (a "billion laughs") expanded to 5.6 GB and crashed
`tutor ingest`. ``yaml.safe_load`` refuses Python objects but still expands aliases. Corpus
YAML is short and hand-written and never needs ``&anchor`` or ``*alias``, so they are refused
while the document is composed, before anything can be expanded.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError


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


def load(text: str) -> Any:
    """Parse one YAML document; every problem is a ``yaml.YAMLError``."""
    try:
        return yaml.load(text, Loader=_NoAnchorLoader)
    except RecursionError as exc:  # "[[[[…" a few hundred deep: the composer recurses
        raise yaml.YAMLError("the YAML is nested too deeply") from exc
