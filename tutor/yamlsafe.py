"""YAML for corpus files: safe types only, and no anchors or aliases.

545 bytes of front matter with nested aliases (a "billion laughs") expanded to 5.6 GB and
crashed `tutor ingest`; corpus files never need anchors, so any anchor or alias is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import CorpusError


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.YAMLError(f"YAML aliases are not allowed ({event.start_mark})")
        node = super().compose_node(parent, index)
        if getattr(node, "anchor", None):
            raise yaml.YAMLError(f"YAML anchors are not allowed ({node.start_mark})")
        return node


def parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CorpusError(f"{where}: invalid YAML ({exc}).", "Fix the syntax and retry.") from exc


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot be read ({exc}).") from exc
    return parse_yaml(text, str(path))
