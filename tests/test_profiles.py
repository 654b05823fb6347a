"""Role profiles: the shipped ones are valid and grounded; a broken one names its file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.errors import CorpusError
from tutor.ingestion import discover, load_document
from tutor.profiles import check_profile, load_profile, load_profiles, sections_of, validate_corpus
from tutor.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"


def test_shipped_profiles_validate_against_their_guides() -> None:
    assert validate_corpus(CORPUS) == []
    profiles = load_profiles(CORPUS)
    assert {"customer-success-manager", "customer-support-manager"} <= set(profiles)


@pytest.mark.parametrize("role", ["customer-success-manager", "customer-support-manager"])
def test_every_part_of_a_profile_is_filled(role: str) -> None:
    """Every fact a seed gives has a place: no section of the schema is left empty."""
    p = load_profiles(CORPUS)[role]
    filled = {
        "pay": p.pay,
        # the support guide gives years of experience, not a study period: either counts
        "time to the role": p.time.training or p.time.senior,
        "learning path": p.learning_path,
        "skills": p.skills,
        "tools": p.tools,
        "education": p.education.degrees,
        "transitions or a path in": p.transitions or p.learning_path,
        "portfolio": p.portfolio.projects or p.portfolio.tips,
        "day": p.day,
        "myths or advice": p.myths or p.advice,
        "outlook": p.outlook,
        "related roles or ladder": p.related or p.ladder,
        "aliases": p.aliases,
    }
    empty = [k for k, v in filled.items() if not v]
    assert not empty, f"{role}: empty {empty}"


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    corpus = _copy(tmp_path)
    path = corpus / "profiles" / "customer-success-manager.yaml"
    text = path.read_text().replace("    currency: USD", "    currency: USD\n    ammount: 5", 1)
    path.write_text(text)
    with pytest.raises(CorpusError) as info:
        load_profile(path)
    assert "customer-success-manager.yaml" in str(info.value)
    assert "pay[" in str(info.value) and "ammount" in str(info.value)


def test_a_figure_the_cited_section_lacks_is_reported(tmp_path: Path) -> None:
    corpus = _copy(tmp_path)
    path = corpus / "profiles" / "customer-success-manager.yaml"
    profile = load_profile(path)
    fact = profile.pay[0]
    bad = fact.model_copy(update={"display": "$999,999"})
    broken = profile.model_copy(update={"pay": [bad, *profile.pay[1:]]})
    docs = [load_document(p, corpus) for p in discover(corpus)]
    problems = check_profile(broken, sections_of(docs), path)
    assert any("pay[0]" in x and "999999" in x for x in problems), problems


def test_a_cite_to_a_missing_section_is_reported(tmp_path: Path) -> None:
    corpus = _copy(tmp_path)
    path = corpus / "profiles" / "customer-support-manager.yaml"
    profile = load_profile(path)
    bad = profile.pay[0].model_copy(update={"cite": f"{profile.pay[0].guide} > No such heading"})
    broken = profile.model_copy(update={"pay": [bad]})
    docs = [load_document(p, corpus) for p in discover(corpus)]
    problems = check_profile(broken, sections_of(docs), path)
    assert problems and "No such heading" in problems[0] and "pay[0].cite" in problems[0]


def test_yaml_anchors_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("role: x\ntitle: &a [1, 2]\naliases: *a\n")
    with pytest.raises(CorpusError, match="alias|anchor"):
        load_profile(path)


def test_a_profile_broken_while_running_keeps_the_last_good_knowledge(tmp_path: Path) -> None:
    """A profile caught half-written by an editor (a round of fresh questions crashed on one)
    must not take a running tutor down: the last good files answer until the file is fixed."""
    from tutor.knowledge import KnowledgeStore

    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus)
    store = KnowledgeStore(corpus)
    good = store.get()
    assert "customer-success-manager" in good.profiles
    profile = corpus / "profiles" / "customer-success-manager.yaml"
    text = profile.read_text(encoding="utf-8")
    profile.write_text(text[: len(text) // 3] + "\n  - [unclosed\n", encoding="utf-8")
    assert store.get() is good  # the half-written file is not loaded, nothing is lost
    profile.write_text(text.replace("csms", "csm folks", 1), encoding="utf-8")
    fixed = store.get()
    assert fixed is not good and "customer-success-manager" in fixed.profiles
    # a fresh store has nothing to fall back on: the error says which file and why
    profile.write_text("role: [unclosed\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="customer-success-manager.yaml"):
        KnowledgeStore(corpus).get()


def test_the_taxonomy_alone_loads_for_search_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    """`tutor search` reads only the taxonomy (its region hint); a broken regions file keeps
    the last good taxonomy, and a fresh store says which file is wrong."""
    from tutor.knowledge import KnowledgeStore

    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus)
    store = KnowledgeStore(corpus)
    good = store.taxonomy()
    assert [m.value for m in good.region_gazetteer.find("csm pay in bangalore")] == ["India"]
    assert store.taxonomy() is good  # cached while the files are unchanged
    regions = corpus / "taxonomy" / "regions.yaml"
    text = regions.read_text(encoding="utf-8")
    regions.write_text(text[: len(text) // 2] + "\n  - [unclosed\n", encoding="utf-8")
    assert store.taxonomy() is good
    with pytest.raises(CorpusError, match="regions.yaml"):
        KnowledgeStore(corpus).taxonomy()
    regions.write_text(text, encoding="utf-8")
    assert store.get().taxonomy is not good  # get() loads everything, taxonomy included
    assert store.taxonomy() is store.get().taxonomy


def test_the_fingerprint_sees_a_file_added_edited_or_removed(tmp_path: Path) -> None:
    """The file list is cached by folder mtimes; a file's own edit is seen by its stat."""
    import os

    from tutor.knowledge import _fingerprint

    corpus = tmp_path / "corpus"
    (corpus / "profiles").mkdir(parents=True)
    (corpus / "profiles" / "a.yaml").write_text("role: a\n", encoding="utf-8")
    first = _fingerprint(corpus)
    assert _fingerprint(corpus) == first
    extra = corpus / "profiles" / "b.yaml"
    extra.write_text("role: b\n", encoding="utf-8")
    added = _fingerprint(corpus)
    assert added != first
    os.utime(extra, ns=(1, 1))  # an edit that keeps the size
    edited = _fingerprint(corpus)
    assert edited != added
    extra.unlink()
    assert _fingerprint(corpus) == first
