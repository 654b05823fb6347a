"""Which roles a turn is about, and how to speak of them: a role's names for templates, the
covered role whose ladder a named rung belongs to, the guide story a question names, and what
to say of a role the guides lack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .compose import Sources
from .knowledge import Knowledge
from .state import State
from .taxonomy import words


@dataclass
class RoleView:
    """How templates name a role: "CSM", "CSMs", "Customer Success Manager"."""

    slug: str
    title: str
    short: str
    plural: str


def role_view(slug: str, title: str, aliases: list[str]) -> RoleView:
    """ "CSM" when the role has an acronym, else its shortest name ending like its title
    ("support manager"): a title repeated in every sentence reads badly."""
    acronym = next((a for a in aliases if re.fullmatch(r"[a-z]{2,5}", a.strip())), None)
    if acronym:
        short = acronym.upper()
    else:
        head = title.split()[-1].lower()
        names = [a.lower() for a in aliases if len(a.split()) >= 2 and a.lower().endswith(head)]
        short = min(names, key=len) if names else title
    return RoleView(slug, title, short, short + ("s" if not short.endswith("s") else ""))


def ladder_owners(names: list[str], k: Knowledge) -> list[str]:
    """The covered role whose own ladder has this rung ("Director of Customer Support")."""
    out = []
    for p in k.profiles.values():
        rungs = [r.title.casefold() for r in p.ladder]
        if any(n.casefold() in rung for n in names for rung in rungs):
            out.append(p.role)
    return out[:1]


def story_named(text: str, k: Knowledge, role: str | None) -> tuple[str, Any] | None:
    """The guide story whose person the question names ("Alex", "Daria"), the selected
    role's first."""
    said = {w.split("'")[0].split("\u2019")[0] for w in words(text)}  # "Alex's" names Alex
    slugs = sorted(k.profiles, key=lambda s: s != role)
    for slug in slugs:
        for t in k.profiles[slug].transitions:
            if t.person and t.person.lower() in said:
                return slug, t
    return None


def decline_other_context(
    state: State,
    k: Knowledge,
    views: dict[str, RoleView],
    sources: Sources,
    intents: list[str],
    page_role: str | None = None,
    offer_pay: bool = True,  # False when the covered role's own pay part follows
) -> dict[str, Any]:
    """What the "decline_other" template needs: the role the guides lack, what they say of
    moving to it, and what they do give instead (the selected role's pay regions, without
    figures)."""
    other = (state.other_roles or state.related)[0]
    what = "pay" if "pay" in intents else ""
    hints = []
    for p in k.profiles.values():
        for r in p.related:
            names = {r.title.casefold(), *(a.casefold() for a in r.aliases)}
            if other.casefold() in names or other.casefold().rstrip("s") in names:
                hints.append({"role": views.get(p.role), "related": r})
    # what the guides do give instead: the selected role's pay levels, without figures
    given = None
    home = k.profiles.get(state.role or page_role or "") if what == "pay" else None
    if home and home.pay and offer_pay and not sources.has_fact(home.pay[0]):
        tax = k.taxonomy
        regions = list(dict.fromkeys(x.region for x in home.pay))
        # the levels only where one country gives them all: "entry, mid, senior and head
        # pay for the US, India and Germany" claimed levels the US and India lack
        levels = [tax.levels[x.level].label for x in home.pay if x.level in tax.levels]
        given = {
            "role": views.get(home.role),
            "levels": list(dict.fromkeys(levels)) if len(regions) == 1 else [],
            "regions": [tax.display(r) for r in regions],
            # a region's own passage for each region named
            "facts": [next(x for x in home.pay if x.region == r) for r in regions],
        }
    return {
        "other": other,
        "what": what,
        "hints": hints,
        "given": given,
        "roles": [v.title for v in views.values()],
    }
