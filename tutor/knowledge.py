"""Everything the tutor knows besides the passages: profiles, roadmaps, taxonomies, examples.

Loaded once from the corpus folder and rebuilt when a file there changes, so a maintainer who
adds a role (a guide, a profile, a roadmap) or a region sees it on the next question.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import safe_yaml
from .errors import CorpusError
from .taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # imported in get(): a cold `tutor search` needs only the taxonomy
    from .profiles import Profile
    from .roadmaps import Roadmap

log = logging.getLogger(__name__)


@dataclass
class Examples:
    """Labelled example questions (corpus/understanding/intents.yaml)."""

    intents: dict[str, list[str]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    followups: list[str] = field(default_factory=list)
    # an intent's facets: which part of its answer a question wants first ("whats the hardest
    # part?" is a fit question about the downsides), each with its example questions
    facets: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def load_examples(corpus_dir: Path) -> Examples:
    path = corpus_dir / "understanding" / "intents.yaml"
    ex = Examples()
    if not path.exists():
        return ex
    data = safe_yaml.load_mapping(path, "examples file")
    intents = data.get("intents") if isinstance(data, dict) else None
    if not isinstance(intents, dict):
        raise CorpusError(f"{path}: expected a mapping under 'intents'.", "See corpus/README.md.")
    for name, spec in intents.items():
        items = spec.get("examples") if isinstance(spec, dict) else None
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise CorpusError(f"{path}: intents.{name}.examples must be a list of strings.")
        ex.intents[str(name)] = [x for x in items if x.strip()]
        ex.descriptions[str(name)] = str(spec.get("description") or "")
        facets = spec.get("facets") or {}
        if not isinstance(facets, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in facets.values()
        ):
            raise CorpusError(
                f"{path}: intents.{name}.facets must map each facet to a list of questions.",
                "See corpus/README.md.",
            )
        if facets:
            ex.facets[str(name)] = {str(f): [x for x in v if x.strip()] for f, v in facets.items()}
    for i, f in enumerate(data.get("followups") or []):
        text = f.get("text") if isinstance(f, dict) else f
        if not isinstance(text, str):
            raise CorpusError(f"{path}: followups[{i}] needs a text.")
        ex.followups.append(text)
    return ex


@dataclass
class RoleInfo:
    slug: str
    title: str
    aliases: list[str]
    guides: list[str]


@dataclass
class Knowledge:
    corpus_dir: Path
    fingerprint: str
    taxonomy: Taxonomy
    profiles: dict[str, Profile]
    roadmaps: dict[str, Roadmap]
    examples: Examples

    def role_aliases(self, guide_roles: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
        """Every name of every role: its title, its profile aliases and its guides' aliases."""
        out: dict[str, list[str]] = {}
        for slug, info in guide_roles.items():
            out.setdefault(slug, []).extend([info.get("title") or slug, *info.get("aliases", [])])
        for slug, p in self.profiles.items():
            out.setdefault(slug, []).extend([p.title, *p.aliases])
        for slug, rm in self.roadmaps.items():
            out.setdefault(slug, []).append(rm.role_title)
        return {k: list(dict.fromkeys(v)) for k, v in out.items()}


_SUBDIRS = ("profiles", "roadmaps", "taxonomy", "understanding")
_FILE_LISTS: dict[Path, tuple[tuple[int, ...], list[str]]] = {}
_FILE_LISTS_LOCK = threading.Lock()


def _dir_stamps(corpus_dir: Path) -> tuple[tuple[int, ...], list[str]]:
    """Every folder's mtime (a file added, removed or renamed changes its folder's), and the
    folders themselves."""
    stamps: list[int] = []
    folders: list[str] = []
    for sub in _SUBDIRS:
        for root, dirs, _ in os.walk(corpus_dir / sub):
            dirs.sort()
            stamps.append(os.stat(root).st_mtime_ns)
            folders.append(root)
    return tuple(stamps), folders


def _files(corpus_dir: Path) -> list[str]:
    """The corpus's YAML files, listed again only when a folder changed: listing them with
    rglob on every question cost 7 ms of a 35 ms answer."""
    stamps, folders = _dir_stamps(corpus_dir)
    with _FILE_LISTS_LOCK:
        known = _FILE_LISTS.get(corpus_dir)
        if known is not None and known[0] == stamps:
            return known[1]
    found = sorted(
        os.path.join(folder, name)
        for folder in folders
        for name in os.listdir(folder)
        if name.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(folder, name))
    )
    with _FILE_LISTS_LOCK:
        _FILE_LISTS[corpus_dir] = (stamps, found)
    return found


def _fingerprint(corpus_dir: Path) -> str:
    h = hashlib.sha256()
    for p in _files(corpus_dir):
        try:
            st = os.stat(p)
        except FileNotFoundError:  # removed since it was listed: its folder changed, so
            continue  # the next look lists the files again
        h.update(f"{p}:{st.st_mtime_ns}:{st.st_size}".encode())
    return h.hexdigest()[:16]


class KnowledgeStore:
    """Caches the loaded knowledge; one stat per file per question decides whether to reload."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._lock = threading.Lock()
        self._current: Knowledge | None = None
        self._failed = ""  # the fingerprint of files that failed to load, warned about once
        self._taxonomy: tuple[str, Taxonomy] | None = None

    def taxonomy(self) -> Taxonomy:
        """The taxonomy alone, for `tutor search`'s region hint: loading every profile and
        example as well cost 0.13 s of a cold search."""
        fp = _fingerprint(self.corpus_dir)
        with self._lock:
            if self._current is not None and self._current.fingerprint == fp:
                return self._current.taxonomy
            if self._taxonomy is None or self._taxonomy[0] != fp:
                try:
                    self._taxonomy = (fp, load_taxonomy(self.corpus_dir))
                except CorpusError:
                    # a file saved half-way: the last good taxonomy, as get() does
                    if self._current is not None:
                        return self._current.taxonomy
                    if self._taxonomy is None:
                        raise
            return self._taxonomy[1]

    def get(self) -> Knowledge:
        from .profiles import load_profiles
        from .roadmaps import load_roadmaps

        fp = _fingerprint(self.corpus_dir)
        with self._lock:
            if self._current is None or self._current.fingerprint != fp:
                try:
                    self._current = Knowledge(
                        self.corpus_dir,
                        fp,
                        load_taxonomy(self.corpus_dir),
                        load_profiles(self.corpus_dir),
                        load_roadmaps(self.corpus_dir),
                        load_examples(self.corpus_dir),
                    )
                except CorpusError as exc:
                    if self._current is None:
                        raise
                    # a profile caught half-written by an editor, or a typo saved while the
                    # server runs: keep answering from the last good files, say why, and try
                    # again on the next question (the fingerprint still differs)
                    if fp != self._failed:
                        log.warning("keeping the last good corpus files: %s", exc)
                        self._failed = fp
            return self._current
