"""Bodies: CommonMark with tables and footnotes, typography on text only."""

from __future__ import annotations

from pathlib import Path

from publisher.text.markdown import render_body
from publisher.text.typography import typographer


def _render(body: str, lang: str = "fr"):
    return render_body(body, typographer(lang), source=Path("x.md"), shown="x.md",
                       first_line=10, resolve_resource=lambda ref, line: f"file:///p/{ref}")


def test_code_and_links_keep_their_characters():
    result = _render('Voir `a -- "b"` et <https://example.org/a--b> ou '
                     '[ici](https://x.org/?q="1") !')
    assert "<code>a -- &quot;b&quot;</code>" in result.html
    # the address as written; a line may break after its slashes (an invisible
    # zero-width space there) but never right after https:// (a word joiner)
    assert ('href="https://example.org/a--b">https:/\u2060/\u2060example.org/\u200ba--b</a>'
            in result.html)
    assert "\u202f!" in result.html


def test_tables_and_footnotes():
    body = "| a | b |\n|---|---|\n| 1 | 2 |\n\nTexte[^1].\n\n[^1]: Une note.\n"
    html = _render(body).html
    assert "<table>" in html and "<td>2</td>" in html
    assert 'class="footnote-ref"' in html and "Une note." in html


def test_raw_html_is_off():
    assert "<script>" not in _render("<script>alert(1)</script>\n").html


def test_headings_start_below_the_title():
    assert "<h2>Contexte</h2>" in _render("# Contexte\n").html


def test_image_without_alt_text_is_reported_at_its_line():
    result = _render("Premier.\n\n![](photo.jpg)\n")
    assert [(p.file, p.line) for p in result.problems] == [("x.md", 12)]
    assert "no alt text" in result.problems[0].message


def test_a_passage_takes_its_own_languages_quotes_and_spaces():
    result = _render('Il a dit : "oui" et ["Das ist gut!", sagte er]{lang=de} puis '
                     "[Achtung!]{lang=de} ! Fin.")
    assert result.problems == []
    assert "«\u202foui\u202f»" in result.html  # the document's French around it
    assert 'lang="de">„Das ist gut!“, sagte er</a>' in result.html
    assert 'lang="de">Achtung!</a>\u202f!' in result.html  # no French space inside
    english = _render('He said ["Bonjour !"]{lang=fr} and "yes".', lang="en").html
    assert 'lang="fr">«\u202fBonjour\u202f!\u202f»</a> and “yes”.' in english


def test_a_passage_in_the_documents_language_or_an_unknown_one_keeps_its_typography():
    same = _render('Il dit ["oui"]{lang=fr}.').html
    assert '<span lang="fr">«\u202foui\u202f»</span>' in same
    unknown = _render('Il dit ["oui"]{lang=qqq}.')
    assert "«\u202foui\u202f»" in unknown.html
    assert [p.message.split(";")[0] for p in unknown.problems] == [
        "unknown language 'qqq' in {lang=…}"]
