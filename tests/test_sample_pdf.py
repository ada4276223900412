"""The sample release in fr, en and ru, rendered and read back."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import SAMPLE_STEM
from pdfread import fonts, foreign_fonts, links, reader, struct_roles, syntax_problems, text

LANGS = {
    "fr": ("Paris, le 15 juin 2018", "Communiqué de presse", "Contacts presse", "Page 1 sur 2"),
    "en": ("Paris, June 15, 2018", "Press release", "Press contacts", "Page 1 of 2"),
    "ru": ("Париж, 15 июня 2018 г.", "Пресс-релиз", "Контакты для прессы", "Страница 1 из 2"),
}


def test_sample_builds_three_languages_without_problems(sample_build):
    project, result = sample_build
    assert result.problems == []
    built = sorted(o.path.relative_to(project.root / "build").as_posix() for o in result.outputs)
    assert built == sorted(
        [f"releases/{SAMPLE_STEM}.{lang}.{ext}" for lang in LANGS for ext in ("pdf", "eml")]
        + [f"kits/cnes-roscosmos-2018.{lang}.{ext}" for lang in LANGS for ext in ("pdf", "eml")]
        + [f"newsletters/2018-06.{lang}.{ext}" for lang in LANGS
           for ext in ("pdf", "html", "txt", "eml")])
    # every PDF, whether rendered whole or joined from parts, passes qpdf's check
    for output in result.outputs:
        if output.path.suffix == ".pdf":
            assert syntax_problems(output.path) == [], output.path.name


@pytest.mark.parametrize("lang", LANGS)
def test_text_is_localised_with_babel_dates_and_catalog_strings(sample_build, lang):
    project, _ = sample_build
    content = text(project.pdf(f"{SAMPLE_STEM}.{lang}"))
    for expected in LANGS[lang]:
        assert _squash(expected) in _squash(content), expected


def _squash(value: str) -> str:
    """Text without spaces or case (labels are set in capitals by CSS)."""
    return "".join(value.split()).replace("\u202f", "").casefold()


def test_french_typography_in_the_pdf(sample_build):
    project, _ = sample_build
    content = text(project.pdf(f"{SAMPLE_STEM}.fr"))
    assert "«\u202fJe suis particulièrement heureux" in content
    assert "changement climatique.\u202f»" in content
    assert "a déclaré\u00a0:" in content


def test_english_quotes_and_apostrophes(sample_build):
    project, _ = sample_build
    content = text(project.pdf(f"{SAMPLE_STEM}.en"))
    assert "\u201c" in content and "\u201d" in content
    assert '"' not in content


@pytest.mark.parametrize("lang", LANGS)
def test_phones_are_international_with_tel_and_mailto_links(sample_build, lang):
    project, _ = sample_build
    path = project.pdf(f"{SAMPLE_STEM}.{lang}")
    content = text(path)
    assert "+33 1 44 76 75 39" in content and "+33 1 44 76 74 51" in content
    uris = links(path)
    assert "tel:+33-1-44-76-75-39" in uris
    assert "mailto:pascale.bresson@cnes.fr" in uris
    assert "mailto:raphael.sart@cnes.fr" in uris


@pytest.mark.parametrize("lang", LANGS)
def test_only_shipped_fonts_embedded_and_subset(sample_build, lang):
    project, _ = sample_build
    found = fonts(project.pdf(f"{SAMPLE_STEM}.{lang}"))
    assert found, "no fonts in the PDF"
    for name, embedded in found.items():
        prefix, _, _family = name.lstrip("/").partition("+")
        assert embedded, name
        assert len(prefix) == 6 and prefix.isupper(), f"{name} is not a subset"
    assert foreign_fonts(project.pdf(f"{SAMPLE_STEM}.{lang}")) == []


@pytest.mark.parametrize("lang", LANGS)
def test_tagged_with_language_title_and_metadata(sample_build, lang):
    project, _ = sample_build
    pdf = reader(project.pdf(f"{SAMPLE_STEM}.{lang}"))
    root = pdf.trailer["/Root"]
    assert root["/Lang"] == lang
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    roles = struct_roles(project.pdf(f"{SAMPLE_STEM}.{lang}"))
    assert {"/H1", "/P", "/L", "/LI"} <= set(roles), roles
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp  # identified as PDF/UA-1
    meta = pdf.metadata
    assert meta.author == "Centre national d\u2019études spatiales"
    assert meta.title and meta.subject
    assert meta["/Keywords"]
    assert meta["/CreationDate"].startswith("D:20180615")


def test_titles_per_language(sample_build):
    project, _ = sample_build
    titles = {lang: reader(project.pdf(f"{SAMPLE_STEM}.{lang}")).metadata.title for lang in LANGS}
    assert titles["fr"] == "Coopération spatiale entre la France et la Russie"
    assert titles["en"] == "Space cooperation between France and Russia"
    assert "Франци" in titles["ru"]


def test_manifest_lists_outputs_with_sources_and_sha256(sample_build):
    project, result = sample_build
    manifest = json.loads((project.root / "build/manifest.json").read_text())
    entries = {o["path"]: o for o in manifest["outputs"]}
    assert set(entries) == {o.path.relative_to(project.root / "build").as_posix()
                            for o in result.outputs}
    for name, entry in entries.items():
        data = (project.root / "build" / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert "sources/contacts.yaml" in entry["sources"]
    release = entries[f"releases/{SAMPLE_STEM}.fr.pdf"]
    assert release["sources"] == [f"sources/releases/2018/{SAMPLE_STEM}.fr.md",
                                  "sources/contacts.yaml", "sources/site.yaml"]
    assert "sources/kits/cnes-roscosmos-2018.yaml" in entries[
        "kits/cnes-roscosmos-2018.ru.pdf"]["sources"]


def test_rebuild_is_byte_identical(sample_build, tmp_path):
    """Built again from nothing in a fresh process, without SOURCE_DATE_EPOCH."""
    import os
    import shutil

    from conftest import build_from_nothing

    project, _ = sample_build
    shutil.copytree(project.root / "sources", tmp_path / "sources")
    source = tmp_path / "sources/releases/2018" / f"{SAMPLE_STEM}.ru.md"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    build_from_nothing(tmp_path, source, env=env)
    first = (tmp_path / "build/releases" / f"{SAMPLE_STEM}.ru.pdf").read_bytes()
    build_from_nothing(tmp_path, source, env=env)
    assert (tmp_path / "build/releases" / f"{SAMPLE_STEM}.ru.pdf").read_bytes() == first
    assert reader(tmp_path / "build/releases" / f"{SAMPLE_STEM}.ru.pdf").metadata[
        "/CreationDate"].startswith("D:20180615")
