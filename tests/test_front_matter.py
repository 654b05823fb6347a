"""Hostile front matter (issue 10): YAML alias bombs, nested or huge fields, refused with a
message that names the file and the field. Roadmaps get the same anchor-free YAML loader.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CORPUS

from tutor.errors import CorpusError
from tutor.ingestion import load_document
from tutor.roadmaps import load_roadmap

# The shape the red team used (545 bytes there): nine levels of nine aliases, 9**9 strings.
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["role: data-analyst", "title: *i"]
)


def md(tmp_path: Path, front: str, name: str = "guide.md") -> Path:
    path = tmp_path / name
    path.write_text(f"---\n{front}\n---\n\n## Pay\n\nAbout 41,000 a year.\n", encoding="utf-8")
    return path


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    assert len(BOMB) < 600  # a few hundred bytes
    with pytest.raises(CorpusError) as err:
        load_document(md(tmp_path, BOMB))
    assert "guide.md" in err.value.message and "anchors and aliases" in err.value.message


def test_even_one_yaml_alias_is_refused(tmp_path: Path) -> None:
    front = "role: &r data-analyst\nrole_title: *r"
    with pytest.raises(CorpusError) as err:
        load_document(md(tmp_path, front))
    assert "guide.md" in err.value.message and "anchors and aliases" in err.value.message


@pytest.mark.parametrize(
    ("front", "field", "words"),
    [
        ("role: data-analyst\ntitle: {a: 1}", "title", "mapping"),
        ("role: data-analyst\nsource: [one, two]", "source", "a list"),
        ("role: data-analyst\ntitle: " + "x" * 301, "title", "the limit is 300"),
        ("role: data-analyst\nsource_url: https://e.example/" + "p" * 2000, "source_url", "2,000"),
        ("role: data-analyst\naliases: {a: 1}", "aliases", "list of short names"),
        ("role: data-analyst\naliases: [[nested]]", "aliases", "short names"),
        ("role: data-analyst\naliases: [" + "y" * 61 + "]", "aliases", "1 to 60 characters"),
        ("role: data-analyst\naliases: [" + ", ".join(["a"] * 21) + "]", "aliases", "limit is 20"),
        ("role: data-analyst\nas_of: " + "[" * 400 + "]" * 400, "", "nested too deeply"),
    ],
)
def test_every_front_matter_field_is_one_short_value(
    tmp_path: Path, front: str, field: str, words: str
) -> None:
    with pytest.raises(CorpusError) as err:
        load_document(md(tmp_path, front))
    assert "guide.md" in err.value.message
    if field:
        assert f"field '{field}'" in err.value.message
    assert words in err.value.message


def test_front_matter_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as err:
        load_document(md(tmp_path, "- just\n- a list"))
    assert "guide.md" in err.value.message and "field: value" in err.value.message


def test_aliases_are_kept_in_the_chunk_meta(tmp_path: Path) -> None:
    doc = load_document(md(tmp_path, "role: data-analyst\naliases: [da, data person, 2026]"))
    assert doc.aliases == ["da", "data person", "2026"]
    assert doc.meta["aliases"] == "da, data person, 2026"


def test_the_shipped_guides_pass_the_front_matter_rules() -> None:
    for path in sorted((CORPUS / "guides").glob("*.md")):
        assert load_document(path).role


def test_a_roadmap_with_yaml_aliases_is_refused(tmp_path: Path) -> None:
    src = CORPUS / "roadmaps" / "customer-success-manager.yaml"
    text = src.read_text(encoding="utf-8")
    bad = tmp_path / "roadmap.yaml"
    bad.write_text(
        text.replace("role: customer-success-manager", "role: &r customer-success-manager", 1)
        + "\nduplicate_role: *r\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as err:
        load_roadmap(bad)
    assert "roadmap.yaml" in err.value.message and "anchors and aliases" in err.value.message
    shutil.copy(src, tmp_path / "good.yaml")
    assert load_roadmap(tmp_path / "good.yaml").role == "customer-success-manager"
