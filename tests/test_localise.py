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
