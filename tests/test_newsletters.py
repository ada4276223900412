"""Monthly newsletters on the Aurora fixture: selection, order, embargo, e-mail edition."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from html.parser import HTMLParser

import pytest
from conftest import REPO
from pdfread import pdfua_problems, structure_problems, syntax_problems, ua_problems
from pypdf import PdfReader

AURORA = REPO / "tests/fixtures/aurora"
BEFORE_EMBARGO = dt.datetime(2026, 5, 28, 7, 59, tzinfo=dt.timezone.utc)  # 09:59 in Paris
MAY = ["2026-05-05-altair-launch-success", "2026-05-12-ocean-colour-data",
       "2026-05-20-salon-2026-presence", "2026-05-26-launch-pad-works"]


@pytest.fixture(scope="session")
def may(tmp_path_factory):
    from publisher.pipeline import build_newsletter

    root = tmp_path_factory.mktemp("aurora-news")
    shutil.copytree(AURORA / "sources", root / "sources")
    result = build_newsletter(root, "2026-05", as_of=BEFORE_EMBARGO)
    return root, result


def _anchors(html: str) -> list[str]:
    return re.findall(r'id="release-([^"]+)"', html)


def test_one_edition_per_language_present(may):
    root, result = may
    names = sorted(o.path.name for o in result.outputs)
    assert names == [f"2026-05.{lang}.{ext}" for lang in ("en", "fr", "ru")
                     for ext in ("eml", "html", "pdf", "txt")]
    assert result.errors == []


def test_month_selection_order_and_embargo(may):
    root, result = may
    html = (root / "build/newsletters/2026-05.fr.html").read_text(encoding="utf-8")
    assert _anchors(html) == MAY  # in date order; the embargoed 05-28 left out
    en = (root / "build/newsletters/2026-05.en.html").read_text(encoding="utf-8")
    assert _anchors(en) == MAY[:3]  # the 05-26 release exists in French only
    assert any("2026-05-28-lunar-lander-study.fr.md" in note and "embargo" in note
               for note in result.notes)


def test_embargo_lifted_later(tmp_path):
    from publisher.pipeline import build_newsletter

    shutil.copytree(AURORA / "sources", tmp_path / "sources")
    after = dt.datetime(2026, 5, 28, 8, 0, tzinfo=dt.timezone.utc)
    result = build_newsletter(tmp_path, "2026-05", lang="en", as_of=after)
    html = (tmp_path / "build/newsletters/2026-05.en.html").read_text(encoding="utf-8")
    assert _anchors(html)[-1] == "2026-05-28-lunar-lander-study"
    assert result.notes == []


@pytest.mark.parametrize(("lang", "title", "number"), [
    ("fr", "Lettre d\u2019information — mai 2026", "Nº 3"),
    ("en", "Newsletter — May 2026", "No. 3"),
    ("ru", "Информационный бюллетень — май 2026\u202fг.", "№ 3"),
])
def test_masthead_title_issue_number_and_contents(may, lang, title, number):
    root, _ = may
    pdf = PdfReader(str(root / f"build/newsletters/2026-05.{lang}.pdf"))
    assert pdf.metadata.title == title
    first = " ".join(pdf.pages[0].extract_text().replace("\u202f", " ").split())
    assert " ".join(title.replace("\u202f", " ").split()) in first
    assert number.casefold() in first.casefold()
    assert pdf.trailer["/Root"]["/Lang"] == lang
    # contents: every release with its date and lede, and its page number
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert {"fr": "5 mai 2026", "en": "May 5, 2026", "ru": "5 мая 2026 г."}[lang] in first
    assert pdf.get_destination_page_number(pdf.outline[0]) == 1
    assert {"fr": "Contacts presse", "en": "Press contacts",
            "ru": "Контакты для прессы"}[lang] in text
    # joined from parts: one sound structure tree, footers over every page but the first
    assert structure_problems(pdf) == []
    assert syntax_problems(root / f"build/newsletters/2026-05.{lang}.pdf") == []
    footer = {"fr": "Page {} sur {}", "en": "Page {} of {}", "ru": "Страница {} из {}"}[lang]
    pages = len(pdf.pages)
    assert footer.format(1, pages) not in first
    for number, page in enumerate(pdf.pages[1:], start=2):
        assert footer.format(number, pages) in page.extract_text()


def test_issue_numbers_count_from_the_first_month(tmp_path):
    from publisher.pipeline import build_newsletter

    shutil.copytree(AURORA / "sources", tmp_path / "sources")
    build_newsletter(tmp_path, "2026-03", lang="en", as_of=BEFORE_EMBARGO)
    text = (tmp_path / "build/newsletters/2026-03.en.txt").read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith("No. 1 · March 2026")


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_email_edition_is_self_contained_with_styles_inlined(may):
    root, _ = may
    html = (root / "build/newsletters/2026-05.fr.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    tags = [tag for tag, _ in parser.tags]
    assert "script" not in tags and "link" not in tags
    # the one style sheet left in <head> is the dark mode, which cannot be inlined
    [sheet] = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert sheet.strip().startswith("@media (prefers-color-scheme: dark)")
    assert html.index("</style>") < html.index("</head>")
    assert '<meta name="color-scheme" content="light dark">' in html
    for tag, attrs in parser.tags:
        for name in ("src", "background"):
            if name in attrs:
                assert attrs[name].startswith("data:image/png;base64,"), (tag, attrs[name][:60])
    styled = [attrs for tag, attrs in parser.tags if tag in ("p", "h1", "h2")]
    assert styled and all("style" in attrs for attrs in styled)
    # fluid up to 600 px; the outer cell gets no rule written for the sheet's cells
    sheet_table = next(attrs for tag, attrs in parser.tags
                       if tag == "table" and "sheet" in attrs.get("class", ""))
    assert "max-width: 600px" in sheet_table["style"]
    outer_cell = next(attrs for tag, attrs in parser.tags if tag == "td")
    assert "style" not in outer_cell
    assert "url(" not in html
    logo = next(attrs for tag, attrs in parser.tags if tag == "img")
    assert logo["alt"] == "Aurora" and logo["width"] == "48" and logo["height"] == "48"
    # a preheader: the contents, hidden, read first by the inbox
    preheader = re.search(r'<div class="preheader"[^>]*>([^<]+)</div>', html)
    assert preheader and preheader[1].startswith("Succès du premier vol d\u2019Altaïr")


def test_email_images_as_absolute_links_when_the_site_says_so(tmp_path):
    from publisher.pipeline import build_newsletter

    shutil.copytree(AURORA / "sources", tmp_path / "sources")
    site = tmp_path / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8")
                    + "email:\n  assets_url: https://aurora.example/press/\n", encoding="utf-8")
    # a photo larger than the page needs: the PDF gets a reduced copy, the e-mail
    # links to the photo itself
    from PIL import Image

    Image.new("RGB", (2400, 1600), (40, 90, 160)).save(tmp_path / "sources/images/photo.jpg")
    release = tmp_path / "sources/releases/2026/2026-04-02-altair-launch-date.fr.md"
    release.write_text(release.read_text(encoding="utf-8")
                       + "\n![Le lanceur sur son pas de tir](../../images/photo.jpg)\n",
                       encoding="utf-8")
    result = build_newsletter(tmp_path, "2026-04", lang="fr", as_of=BEFORE_EMBARGO)
    assert result.errors == []
    assert list((tmp_path / "build/.cache").glob("objects/*/*.jpg"))  # the reduced copy
    html = (tmp_path / "build/newsletters/2026-04.fr.html").read_text(encoding="utf-8")
    assert 'src="https://aurora.example/press/images/photo.jpg"' in html
    assert ".cache" not in html and ".svg" not in html
    # the SVG logo is a PNG part of the message (no client shows an SVG)
    [inline] = re.findall(r'src="(data:[^;]+);', html)
    assert inline == "data:image/png"
    assert "https://aurora.example/press/newsletters/2026-04.fr.html" in html  # view online


def test_plain_text_part(may):
    root, _ = may
    text = (root / "build/newsletters/2026-05.fr.txt").read_text(encoding="utf-8")
    assert "<" not in text.replace("<http", "").replace("<mailto", "")
    assert "Lettre d\u2019information — mai 2026" in text.splitlines()[0]
    assert "SUCCÈS DU PREMIER VOL D\u2019ALTAÏR" in text
    assert all(len(line) <= 72 for line in text.splitlines())
    assert "olga.smirnova@zenit.example" in text


def test_every_edition_passes_pdfua_and_the_structure_checks(may):
    root, _ = may
    paths = sorted((root / "build/newsletters").glob("*.pdf"))
    assert len(paths) == 3
    for path in paths:
        assert pdfua_problems(path) == [], path.name
        assert ua_problems(path) == [], path.name
