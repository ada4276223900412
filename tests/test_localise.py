"""Babel's numbers, currencies, dates and embargo times, in the PDF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from conftest import release_text
from pdfread import text

from publisher.localise import format_embargo, format_figure

SOURCE = "sources/releases/2018/2018-06-20-figures.{lang}.md"


@pytest.mark.parametrize(("value", "unit", "lang", "expected"), [
    ("1500000", "EUR", "fr", "1\u202f500\u202f000\u00a0€"),
    ("1500000", "EUR", "en", "€1,500,000"),
    ("1500000.5", "EUR", "de", "1.500.000,50\u00a0€"),
    ("12.5", "%", "fr", "12,5\u00a0%"),
    ("12.5", "%", "en", "12.5%"),
    ("4200", "km", "ru", "4\u00a0200\u00a0km"),
    ("3", None, "en", "3"),
])
def test_figures(value, unit, lang, expected):
    assert format_figure(Decimal(value), unit, lang) == expected


def test_any_babel_locale_works():
    assert format_figure(Decimal("1500000"), "JPY", "ja") == "￥1,500,000"


def test_embargo_is_written_in_its_own_offset():
    moment = dt.datetime.fromisoformat("2018-06-20T10:00:00+02:00")
    assert format_embargo(moment, "fr") == "20 juin 2018, 10:00 (UTC+02:00)"
    assert format_embargo(moment, "en") == "June 20, 2018, 10:00\u202fAM (GMT+02:00)"


def test_embargo_and_figures_in_the_pdf(project):
    body = "Texte du communiqué.\n"
    front = dict(dateline="Toulouse", embargo="2018-06-20T10:00:00+02:00",
                 figures='[{label: Budget, value: 1500000, unit: EUR}, '
                         '{label: Part, value: 12.5, unit: "%"}]')
    project.write(SOURCE.format(lang="fr"), release_text(body=body, **front))
    path = project.root / SOURCE.format(lang="fr")

    before = dt.datetime(2018, 6, 20, 7, 59, tzinfo=dt.timezone.utc)
    result = project.build(path, as_of=before)
    assert result.problems == []
    content = text(result.outputs[0].path)
    assert "Toulouse, le 20 juin 2018" in content
    assert "Ne pas publier avant le 20 juin 2018, 10:00 (UTC+02:00)" in content
    assert "CHIFFRES CLÉS" in content  # set in capitals by the layout
    assert "1\u202f500\u202f000\u00a0€" in content and "12,5\u00a0%" in content

    after = dt.datetime(2018, 6, 20, 8, 0, tzinfo=dt.timezone.utc)
    result = project.build(path, as_of=after)
    assert "Ne pas publier" not in text(result.outputs[0].path)


def test_inline_contact_and_image_with_alt_text(project):
    from pdfread import links, reader

    project.write("sources/releases/2018/signature.svg",
                  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
                  '<rect width="40" height="20" fill="#0b3a6e"/></svg>')
    contact = ('[{name: Anna Petrova, role: {en: Press attaché}, phone: "+7 495 123-45-67", '
               'email: anna@example.org}]')
    body = "Signed today.\n\n![The two heads of agency signing](signature.svg)\n"
    path = project.write(SOURCE.format(lang="en"), release_text(contacts=contact, body=body))
    result = project.build(path)
    assert result.problems == []
    pdf = result.outputs[0].path
    content = text(pdf)
    assert "Anna Petrova" in content and "+7 495 123-45-67" in content
    assert "tel:+7-495-123-45-67" in links(pdf)
    figures = []

    def walk(node):
        node = node.get_object()
        if node.get("/S") == "/Figure":
            figures.append(str(node.get("/Alt")))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object") and hasattr(kid.get_object(), "get"):
                walk(kid)

    walk(reader(pdf).trailer["/Root"]["/StructTreeRoot"])
    assert "The two heads of agency signing" in figures


@pytest.mark.parametrize(("lang", "inline", "line"), [
    ("fr", "juin 2018", "Juin 2018"),  # lower case in a sentence, capital opening a line
    ("de", "Juni 2018", "Juni 2018"),
    ("ru", "июнь 2018\u202fг.", "Июнь 2018\u202fг."),  # the nominative a title takes, not "июня"
    ("pl", "czerwiec 2018", "Czerwiec 2018"),
    ("cs", "červen 2018", "Červen 2018"),
    ("uk", "червень 2018\u202fр.", "Червень 2018\u202fр."),
    ("lt", "2018 m. birželis", "2018 m. birželis"),  # the year first: nothing to raise
    ("hu", "2018. június", "2018. június"),
    ("ga", "Meitheamh 2018", "Meitheamh 2018"),
    ("el", "Ιούνιος 2018", "Ιούνιος 2018"),
    ("ja", "2018年6月", "2018年6月"),
    ("ar", "يونيو 2018", "يونيو 2018"),
])
def test_a_month_title_as_each_language_writes_it(lang, inline, line):
    from publisher.localise import month_title

    assert month_title(dt.date(2018, 6, 1), lang) == inline
    assert month_title(dt.date(2018, 6, 1), lang, start_of_line=True) == line


def test_every_catalog_language_has_a_month_title_opening_with_a_capital():
    from conftest import REPO

    from publisher.localise import month_title

    langs = sorted(p.name for p in (REPO / "layouts/locale").iterdir() if p.is_dir())
    assert len(langs) >= 34
    for lang in langs:
        title = month_title(dt.date(2018, 6, 1), lang, start_of_line=True)
        first = next(c for c in title if c.isalpha())
        assert first == first.upper() or not title[0].isalpha(), (lang, title)
