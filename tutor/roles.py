"""Which role a learner means: the slug, the role's title, or an alias a guide or profile declares.

`--role csm` was refused: only the exact slug `customer-success-manager` worked. A role can now
be named by its slug, its title, or an alias from a guide's front matter (`aliases:`) or from
its profile (corpus/profiles/<role>.yaml), in any case and with any punctuation. A near miss
gets "Did you mean ...?". The CLI and the web app share this through ``Tutor.resolve_role``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InputError, NotFound
from .taxonomy import Taxonomy

PROFILES = "profiles"


def words(name: str) -> str:
    """Lowercase words only: 'Customer_Success-Manager!' -> 'customer success manager'."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", name.lower()))


def _key(name: str) -> str:
    return words(name).replace(" ", "")  # "CustomerSuccessManager" is the same name too


def resolve_role(name: str, known: Mapping[str, Iterable[str]]) -> str:
    """The slug ``name`` stands for. ``known`` maps each slug to its other names.

    Raises NotFound (with the closest names as a hint) or InputError when an alias is shared.
    """
    if name in known:
        return name
    table: dict[str, set[str]] = {}
    shown: dict[str, str] = {}  # key -> a readable name, for suggestions
    for slug, others in known.items():
        for n in (slug, *others):
            if _key(n):
                table.setdefault(_key(n), set()).add(slug)
                shown.setdefault(_key(n), words(n))
    slugs = table.get(_key(name), set())
    if len(slugs) == 1:
        return next(iter(slugs))
    listed = ", ".join(sorted(known)) or "none (run `tutor ingest`)"
    if slugs:
        raise InputError(
            f"'{name}' could mean more than one role: {' or '.join(sorted(slugs))}.",
            "Pass the role's slug.",
        )
    close = difflib.get_close_matches(words(name), [shown[k] for k in table], n=5, cutoff=0.6)
    by_words = {shown[k]: k for k in table}
    suggest: list[str] = []
    for c in close:
        for slug in sorted(table[by_words[c]]):
            if slug not in suggest:
                suggest.append(slug)
    hint = f"Known roles: {listed}."
    if suggest:
        hint = f"Did you mean {' or '.join(suggest[:2])}? {hint}"
    raise NotFound(f"Unknown role '{name}'.", hint)


def with_found_names(
    roles: dict[str, dict[str, Any]], acronyms: dict[str, str], tax: Taxonomy
) -> dict[str, dict[str, Any]]:
    """A page ingested without front matter or profile still answers to what learners call
    its role: the acronym its own text uses, found at ingest ("csm"), and the end of its
    title that no other covered title shares and that is no other job ("support manager",
    but never "marketing manager" for a Product Marketing Manager)."""
    by_title = {str(i["title"]).casefold(): slug for slug, i in roles.items()}
    for acronym, title in acronyms.items():
        slug = by_title.get(title.casefold()) or by_title.get(title.casefold().removesuffix("s"))
        if slug:
            roles[slug]["aliases"].append(acronym)
    jobs = set(tax.occupations)
    for slug, info in roles.items():
        names = str(info["title"]).casefold().split()
        for n in range(2, len(names)):
            tail = " ".join(names[-n:])
            others = [t for t, s in by_title.items() if s != slug and t.endswith(tail)]
            if not others and tail not in jobs:
                info["aliases"].append(tail)
    return roles
