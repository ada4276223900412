"""Every script a press office publishes in: a release in Japanese, Chinese,
Korean, Arabic, Hebrew and Greek (tests/fixtures/scripts), built into the
sample project and read back: its own script in the right order, its label,
date and page numbers, its fonts, its direction."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from conftest import REPO, ProjectDir
from pdfread import fonts, foreign_fonts, notdef_glyphs, pdfua_problems, text, ua_problems

from publisher.inputs.catalogs import load_catalog
from publisher.localise import long_date

SCRIPTS = Path(__file__).parent / "fixtures" / "scripts"
STEM = "2018-06-20-satellite-ocean"
LANGS = ("ja", "zh", "ko", "ar", "he", "el")
FAMILY = {"ja": "CJK-JP", "zh": "CJK-SC", "ko": "CJK-KR", "ar": "Naskh-Arabic",
          "he": "Sans-Hebrew", "el": "Noto-Serif"}
RTL = {"ar", "he"}


@pytest.fixture(scope="session")
def scripts(tmp_path_factory):
    from publisher.pipeline import build

    root = tmp_path_factory.mktemp("scripts")
    shutil.copytree(REPO / "sources", root / "sources")
    site = root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "addressee: {ja: 報道関係者各位}\n",
                    encoding="utf-8")
    paths = []
    for lang in LANGS:
        target = root / "sources/releases/2018" / f"{STEM}.{lang}.md"
        shutil.copy(SCRIPTS / target.name, target)
        paths.append(target)
    return ProjectDir(root), build(root, paths, jobs=2)


def _catalog(lang):
    return load_catalog([REPO / "layouts"], lang)


def _front(lang) -> dict:
    import yaml

    source = (SCRIPTS / f"{STEM}.{lang}.md").read_text(encoding="utf-8")
    return yaml.safe_load(source.split("---")[1])


def _bare(value: str) -> str:
    """Text without spaces, line ends, isolates or accents (Greek capitals drop
    theirs, as they should)."""
    return "".join(c for c in unicodedata.normalize("NFD", value)
                   if not c.isspace() and unicodedata.category(c) not in ("Cf", "Mn"))


def test_every_script_builds(scripts):
    _, result = scripts
    assert result.ok, [str(p) for p in result.problems]
    assert result.warnings == [], [str(p) for p in result.warnings]
    assert {o.path.name for o in result.outputs} == {f"{STEM}.{lang}.{ext}" for lang in LANGS
                                                      for ext in ("pdf", "eml")}


@pytest.mark.parametrize("lang", LANGS)
def test_its_own_script_label_date_and_page_numbers(scripts, lang):
    project, _ = scripts
    pdf = project.pdf(f"{STEM}.{lang}")
    content = text(pdf)
    catalog = _catalog(lang)
    front = _front(lang)
    bare = _bare(content)
    label = catalog.gettext("Press release")
    assert label != "Press release"  # the language's own
    assert _bare(label.upper()) in _bare(content.upper())
    footer = catalog.gettext("Page {page} of {pages}").format(page=1, pages=1)
    for expected in (long_date(front["date"], lang), footer):
        if lang in RTL:  # the text layer of right-to-left text is in visual order
            assert all(_bare(word) in bare for word in expected.split()), expected
        else:
            assert _bare(expected) in bare
    if lang not in RTL:
        assert _bare(front["title"]) in bare
        assert _bare(front["contacts"][0]["name"]) in bare
    assert "\ufffd" not in content
    with pikepdf.open(pdf) as document:
        assert str(document.Root.Lang) == lang


@pytest.mark.parametrize("lang", LANGS)
def test_fonts_are_the_shipped_face_of_the_script(scripts, lang):
    project, _ = scripts
    found = fonts(project.pdf(f"{STEM}.{lang}"))
    assert all(found.values())  # embedded
    assert foreign_fonts(project.pdf(f"{STEM}.{lang}")) == []  # no fallback to the system
    assert any(FAMILY[lang] in name for name in found), found
    if lang in ("ja", "zh", "ko"):  # one region's glyph forms, never another's
        others = {"ja": ("CJK-SC", "CJK-TC", "CJK-KR"), "zh": ("CJK-JP", "CJK-TC", "CJK-KR"),
                  "ko": ("CJK-JP", "CJK-SC", "CJK-TC")}[lang]
        assert not [name for name in found if name.endswith(others) or any(
            other in name for other in others)], found


@pytest.mark.parametrize("lang", LANGS)
def test_every_script_passes_pdfua_and_the_structure_checks(scripts, lang):
    project, _ = scripts
    path = project.pdf(f"{STEM}.{lang}")
    assert pdfua_problems(path) == []
    assert ua_problems(path) == []


def _line_edges(path: Path, needle: str) -> tuple[float, float, float]:
    """(left, right, page width) in points of the text line that holds ``needle``."""
    document = pypdfium2.PdfDocument(str(path))
    page = document[0]
    textpage = page.get_textpage()
    whole = textpage.get_text_range()
    index = whole.find(needle)
    assert index >= 0, (needle, whole[:200])
    boxes = [textpage.get_charbox(i) for i in range(index, index + len(needle))]
    width = page.get_width()
    document.close()
    return min(b[0] for b in boxes), max(b[2] for b in boxes), width


@pytest.mark.parametrize("lang", sorted(RTL))
def test_right_to_left_pages_are_set_from_the_right(scripts, lang):
    project, _ = scripts
    path = project.pdf(f"{STEM}.{lang}")
    # the dateline, a short line: flush with the right margin, far from the left
    year = "2018"
    left, right, width = _line_edges(path, year)
    margin = 20 / 25.4 * 72
    assert right < width - margin + 2
    assert left > width / 2, (left, right, width)
    # the masthead mirrors too: the organisation's name sits right of the label
    left_name, _, _ = _line_edges(path, "CNES")
    assert left_name > width / 2


def test_a_japanese_line_never_starts_with_closing_punctuation_or_small_kana(scripts):
    project, _ = scripts
    lines = [line.strip() for line in text(project.pdf(f"{STEM}.ja")).splitlines()]
    body = "".join(lines)
    small = "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー"
    assert sum(body.count(kana) for kana in small) > 30  # the fixture gives it the chance
    assert lines and not [line for line in lines
                          if re.match(rf"^[、。，．」』）】〕・：；？！{small}]", line)]


@pytest.mark.parametrize("lang", LANGS)
def test_no_character_is_drawn_as_a_box(scripts, lang):
    project, _ = scripts
    assert notdef_glyphs(project.pdf(f"{STEM}.{lang}")) == []


def test_the_box_check_sees_a_box(tmp_path):
    """notdef_glyphs reads what a renderer writes for a character its face lacks."""
    import weasyprint

    font = (REPO / "fonts/NotoSansCJKjp-Regular.woff2").as_uri()
    html = (f'<html lang="ja"><style>@font-face {{font-family: J; src: url({font})}} '
            'body {font-family: J}</style><p>報道 \u1200 \u0915</p>')
    path = tmp_path / "boxes.pdf"
    weasyprint.HTML(string=html).write_pdf(path)
    assert notdef_glyphs(path) == ["page 1: U+1200", "page 1: U+0915"]


def test_a_japanese_release_opens_as_japanese_releases_do(scripts):
    project, _ = scripts
    path = project.pdf(f"{STEM}.ja")
    lines = [line.strip() for line in text(path).splitlines() if line.strip()]
    assert lines.index("報道関係者各位") < next(i for i, line in enumerate(lines)
                                              if line.startswith("2018年6月20日"))
    left, right, width = _line_edges(path, "東京）")
    # on the right (a full-width bracket leaves its own side bearing)
    assert right > width - 20 / 25.4 * 72 - 8 and left > width / 2
    # and nowhere else: the other languages have no addressee line
    assert "報道関係者各位" not in text(project.pdf(f"{STEM}.zh"))

