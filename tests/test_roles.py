"""Role names (issue 9): `--role csm` works, aliases come from guides and profiles, and a typo
gets the closest slug. One resolver (tutor/roles.py) serves the CLI, the API and the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_run import json_out, run_cli
from conftest import CORPUS
from fastapi.testclient import TestClient
from web_support import app_for, csrf, parse_sse

from tutor.errors import CorpusError, InputError, NotFound
from tutor.roles import resolve_role

CSM = "customer-success-manager"
SUPPORT = "customer-support-manager"
KNOWN = {
    CSM: ["Customer Success Manager", "csm", "customer success", "cs manager"],
    SUPPORT: ["Customer Support Manager", "support manager", "head of support"],
}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        (CSM, CSM),
        ("csm", CSM),
        ("CSM", CSM),
        ("C.S.M.", CSM),
        ("Customer Success Manager", CSM),
        ("customer_success_manager", CSM),
        ("CustomerSuccessManager", CSM),
        ("  customer   success ", CSM),
        ("Head of Support!", SUPPORT),
        ("customer-support-manager", SUPPORT),
    ],
)
def test_slugs_titles_and_aliases_in_any_case_and_punctuation(name: str, slug: str) -> None:
    assert resolve_role(name, KNOWN) == slug


@pytest.mark.parametrize(
    ("typo", "slug"),
    [
        ("custmer-success", CSM),
        ("customer-succes-manager", CSM),
        ("head of suport", SUPPORT),
        ("custommer support", SUPPORT),
    ],
)
def test_a_typo_gets_the_closest_slug(typo: str, slug: str) -> None:
    with pytest.raises(NotFound) as err:
        resolve_role(typo, KNOWN)
    assert err.value.message == f"Unknown role '{typo}'."
    assert err.value.hint and err.value.hint.startswith(f"Did you mean {slug}")
    assert f"Known roles: {CSM}, {SUPPORT}." in err.value.hint


def test_a_name_like_no_role_lists_the_known_ones() -> None:
    with pytest.raises(NotFound) as err:
        resolve_role("astronaut", KNOWN)
    assert err.value.hint == f"Known roles: {CSM}, {SUPPORT}."


def test_an_alias_two_roles_declare_is_refused_with_both() -> None:
    with pytest.raises(InputError) as err:
        resolve_role("manager", {**KNOWN, CSM: ["manager"], SUPPORT: ["Manager"]})
    assert CSM in err.value.message and SUPPORT in err.value.message


# --- through the Tutor: the shipped guides declare aliases in their front matter -------------


def test_the_tutor_resolves_the_shipped_guides_aliases(shipped: Any) -> None:
    assert shipped.resolve_role(None) is None
    assert shipped.resolve_role("csm") == CSM
    assert shipped.resolve_role("Customer Service Manager") == SUPPORT
    hits = shipped.search("salary in germany", role="cs manager", k=3)
    assert hits and {h.chunk.role for h in hits} == {CSM}
    assert shipped.roadmap("CSM")["role"] == CSM
    assert shipped.progress("roles-test", "support manager")["role"] == SUPPORT
    assert shipped.new_conversation("roles-test", "csm")["role"] == CSM
    answer = shipped.ask("How much does one earn in Germany?", role="csm")
    assert answer.role == CSM and not answer.abstained
    assert shipped.next_steps("roles-test", "Customer Success").role == CSM
    with pytest.raises(NotFound) as err:
        shipped.search("salary", role="custmer-success")
    assert err.value.hint and err.value.hint.startswith(f"Did you mean {CSM}?")


def profile(corpus: Path, name: str, text: str) -> None:
    (corpus / "profiles").mkdir(exist_ok=True)
    (corpus / "profiles" / name).write_text(text, encoding="utf-8")


def test_a_role_profile_declares_aliases(make_tutor, copy_corpus: Path) -> None:
    text = f"role: {CSM}\naliases: [client success lead, account success]\n"
    profile(copy_corpus, f"{CSM}.yaml", text)
    t = make_tutor(corpus=copy_corpus)  # no ingest: the roadmap makes the role known
    assert t.resolve_role("Client Success Lead") == CSM
    assert t.roadmap("account-success")["role"] == CSM


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("bad.yaml", f"role: &r {CSM}\naliases: [*r]\n", "anchors and aliases"),
        ("csm.yaml", f"role: {CSM}\naliases: {{one: two}}\n", "profile field 'aliases'"),
        ("who.yaml", "role: Customer Success\naliases: [csm]\n", "profile field 'role'"),
    ],
)
def test_a_bad_role_profile_is_refused_and_named(
    make_tutor, copy_corpus: Path, name: str, text: str, words: str
) -> None:
    profile(copy_corpus, name, text)
    t = make_tutor(corpus=copy_corpus)
    with pytest.raises(CorpusError) as err:
        t.resolve_role("client success lead")
    assert name in err.value.message and words in err.value.message


# --- the CLI and the API ----------------------------------------------------------------------


def test_cli_accepts_an_alias_and_suggests_on_a_typo(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, shipped: Any
) -> None:
    home = shipped.settings.home
    r = run_cli(monkeypatch, embedder, home, CORPUS, "search", "salary", "--role", "csm", "--json")
    assert r.exit_code == 0, r.output
    assert {h["role"] for h in json_out(r)} == {CSM}
    r = run_cli(monkeypatch, embedder, home, CORPUS, "ask", "What is the pay?", "--role", "CSM")
    assert r.exit_code == 0, r.output
    r = run_cli(
        monkeypatch, embedder, home, CORPUS, "ask", "What is the pay?", "--role", "custmer-success"
    )
    assert r.exit_code == 3
    assert f"Did you mean {CSM}?" in r.stderr
    r = run_cli(
        monkeypatch, embedder, home, CORPUS, "next", "--learner", "cli-roles", "--role", "csm"
    )
    assert r.exit_code == 0, r.output
    r = run_cli(
        monkeypatch,
        embedder,
        home,
        CORPUS,
        "progress",
        "--learner",
        "cli-roles",
        "--role",
        "head of support",
    )
    assert r.exit_code == 0 and "Customer Support Manager" in r.stdout


def test_the_api_accepts_an_alias(shipped: Any) -> None:
    with TestClient(app_for(shipped)) as c:
        csrf(c)
        assert c.get("/api/roadmap/csm").json()["role"] == CSM
        r = c.post("/api/chat", json={"message": "What is the pay in Germany?", "role": "csm"})
        assert r.status_code == 200, r.text
        events = dict(parse_sse(r.text))
        assert events["answer"]["role"] == CSM
        r = c.get("/api/roadmap/custmer-success")
        assert r.status_code == 404 and f"Did you mean {CSM}?" in r.text
