"""Vocabularies from ``corpus/taxonomy``: regions, levels, chat spellings and job titles.

They are data so that a new region, level or role needs a file edit, not a code change. Each
vocabulary is matched the same way (see :class:`Gazetteer`): on word boundaries after
normalising the text, longest alias first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from . import safe_yaml
from .errors import CorpusError

_WORD = re.compile(r"[a-z0-9$€£₹][a-z0-9$€£₹.'+/-]*[a-z0-9+]|[a-z0-9$€£₹]")


def fold(text: str) -> str:
    """Lower case, plain apostrophes and dashes, accents kept apart: the form all matching uses."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", " - ")
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Match:
    value: str  # the canonical name
    start: int  # word offsets in the folded text
    end: int
    alias: str


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def stem_all(tokens: Sequence[str]) -> list[str]:
    """Snowball stems: "managers", "management" and "manager" all match "manag"."""
    return list(_stemmer().stemWords(list(tokens)))


class Gazetteer:
    """Canonical names and their aliases, matched as whole stemmed words, longest first."""

    def __init__(self, entries: Mapping[str, Iterable[str]]) -> None:
        table: dict[tuple[str, ...], str] = {}
        for value, aliases in entries.items():
            for a in [value, *aliases]:
                key = tuple(stem_all(words(a)))
                if key:
                    table.setdefault(key, value)
        self._table = table
        self._longest = max((len(k) for k in table), default=0)

    def __bool__(self) -> bool:
        return bool(self._table)

    def find(self, text: str | Sequence[str]) -> list[Match]:
        toks = words(text) if isinstance(text, str) else list(text)
        stems = stem_all(toks)
        out: list[Match] = []
        i = 0
        while i < len(toks):
            for n in range(min(self._longest, len(toks) - i), 0, -1):
                hit = self._table.get(tuple(stems[i : i + n]))
                if hit:
                    out.append(Match(hit, i, i + n, " ".join(toks[i : i + n])))
                    i += n
                    break
            else:
                i += 1
        return out

    def has(self, phrase: str) -> bool:
        return tuple(stem_all(words(phrase))) in self._table

    def aliases(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, value in self._table.items():
            out.setdefault(value, []).append(" ".join(key))  # stems: for vocabularies, not display
        return out


@dataclass(frozen=True)
class Region:
    name: str
    article: str | None = None  # "the United States"
    parent: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        return f"{self.article} {self.name}" if self.article else self.name


@dataclass(frozen=True)
class Level:
    name: str
    label: str
    rank: int
    words: tuple[str, ...] = ()


@dataclass
class Taxonomy:
    regions: dict[str, Region] = field(default_factory=dict)
    levels: dict[str, Level] = field(default_factory=dict)
    spellings: dict[str, str] = field(default_factory=dict)  # chat form -> standard form
    function_words: set[str] = field(default_factory=set)
    clause_breaks: set[str] = field(default_factory=set)
    comparison_words: set[str] = field(default_factory=set)
    anaphora: set[str] = field(default_factory=set)
    negations: set[str] = field(default_factory=set)
    yes_no_openers: set[str] = field(default_factory=set)
    occupations: list[str] = field(default_factory=list)  # job titles, singular, lower case
    heads: set[str] = field(default_factory=set)  # the last word of a job title: "nurse"
    generic_heads: set[str] = field(default_factory=set)  # "manager" alone names no role

    @cached_property
    def region_gazetteer(self) -> Gazetteer:
        return Gazetteer({r.name: r.aliases for r in self.regions.values()})

    @cached_property
    def level_gazetteer(self) -> Gazetteer:
        return Gazetteer({lv.name: lv.words for lv in self.levels.values()})

    def regions_in(self, text: str) -> set[str]:
        """The regions a text names, by their canonical names."""
        return {m.value for m in self.region_gazetteer.find(text)}

    def region_chain(self, name: str) -> list[str]:
        """The region and its ancestors: Berlin's figures are not given, Germany's may be."""
        out: list[str] = []
        while name and name not in out:
            out.append(name)
            name = self.regions[name].parent or "" if name in self.regions else ""
        return out

    def children(self, name: str) -> list[str]:
        return [r.name for r in self.regions.values() if r.parent == name]

    def display(self, region: str) -> str:
        r = self.regions.get(region)
        return r.display if r else region


def _list(data: Any, key: str, path: Path) -> list[dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise CorpusError(f"{path}: expected a list of mappings under '{key}'.")
    return items


def _strs(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise CorpusError(f"{path}: '{where}' must be a list of strings.")
    return tuple(str(v) for v in value)


def load_taxonomy(corpus_dir: Path) -> Taxonomy:
    folder = corpus_dir / "taxonomy"
    tax = Taxonomy()
    path = folder / "regions.yaml"
    if path.exists():
        for i, r in enumerate(
            _list(safe_yaml.load_mapping(path, "taxonomy file"), "regions", path)
        ):
            if not isinstance(r.get("name"), str):
                raise CorpusError(f"{path}: regions[{i}].name is missing.")
            tax.regions[r["name"]] = Region(
                r["name"],
                r.get("article"),
                r.get("parent"),
                _strs(r.get("aliases"), path, f"regions[{i}].aliases"),
            )
        for region in tax.regions.values():
            if region.parent and region.parent not in tax.regions:
                raise CorpusError(
                    f"{path}: region '{region.name}' has unknown parent '{region.parent}'."
                )
    path = folder / "levels.yaml"
    if path.exists():
        for i, lv in enumerate(
            _list(safe_yaml.load_mapping(path, "taxonomy file"), "levels", path)
        ):
            if not isinstance(lv.get("name"), str) or not isinstance(lv.get("rank"), int):
                raise CorpusError(f"{path}: levels[{i}] needs a name and an integer rank.")
            tax.levels[lv["name"]] = Level(
                lv["name"],
                str(lv.get("label") or lv["name"]),
                lv["rank"],
                _strs(lv.get("words"), path, f"levels[{i}].words"),
            )
    path = folder / "spelling.yaml"
    if path.exists():
        data = safe_yaml.load_mapping(path, "taxonomy file")
        table = data.get("spellings") if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise CorpusError(f"{path}: expected a mapping under 'spellings'.")
        tax.spellings = {fold(str(k)): fold(str(v)) for k, v in table.items()}
        tax.function_words = {
            fold(x) for x in _strs(data.get("function_words"), path, "function_words")
        }
        tax.clause_breaks = {
            fold(x) for x in _strs(data.get("clause_breaks"), path, "clause_breaks")
        }
        tax.comparison_words = {
            fold(x) for x in _strs(data.get("comparison_words"), path, "comparison_words")
        }
        tax.anaphora = {fold(x) for x in _strs(data.get("anaphora"), path, "anaphora")}
        tax.negations = {fold(x) for x in _strs(data.get("negations"), path, "negations")}
        tax.yes_no_openers = {
            fold(x) for x in _strs(data.get("yes_no_openers"), path, "yes_no_openers")
        }
    path = folder / "occupations.yaml"
    if path.exists():
        data = safe_yaml.load_mapping(path, "taxonomy file")
        if not isinstance(data, dict):
            raise CorpusError(f"{path}: expected a mapping.")
        tax.occupations = [fold(x) for x in _strs(data.get("titles"), path, "titles")]
        tax.heads = {fold(x) for x in _strs(data.get("heads"), path, "heads")}
        tax.generic_heads = {fold(x) for x in _strs(data.get("generic"), path, "generic")}
    return tax


def asks_yes_or_no(text: str, openers: set[str]) -> bool:
    """Whether a sentence or clause of ``text`` opens with a yes-or-no word: "If I start in
    customer success, can I move into sales later?" does, "what comes after CSM?" does not."""
    for part in re.split(r"[,.;:!?\n]+", text):
        first = next(iter(words(part)), "")
        if first and fold(first) in openers:
            return True
    return False
