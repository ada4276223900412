"""Real releases: the corpus of tests/fixtures/corpus (written in the styles real
press offices use) built into the sample project, and read back as a journalist
and a typesetter would: title, date, every contact, end marks, hyphenation,
titles, pagination."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SAMPLE_STEM, ProjectDir
from pdfread import (
    links,
    parent_tree_problems,
    pdfua_problems,
    reader,
    structure_elements,
    text,
    ua_problems,
)

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
SOURCES = sorted(EXPECTED)
HYPHEN = "\u2010"  # what the renderer draws where it hyphenates a word
ABOUT_OR_CONTACTS = ("À PROPOS", "ABOUT", "ÜBER", "ACERCA", "INFORMAZIONI", "О CNES",
                     "CONTACTS PRESSE", "PRESS CONTACTS", "PRESSEKONTAKT", "CONTACTOS",
                     "CONTATTI", "КОНТАКТЫ")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The sample project with every corpus release, its releases built."""
    from publisher.pipeline import build

    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(REPO / "sources", root / "sources")
    for name in SOURCES:
        shutil.copy(CORPUS / name, root / "sources/releases/2018" / name)
    site = root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "typography:\n  keep: [Yahoo!]\n",
                    encoding="utf-8")
    paths = [root / "sources/releases/2018" / name for name in SOURCES]
    paths += sorted((root / "sources/releases/2018").glob(f"{SAMPLE_STEM}.*.md"))
    result = build(root, paths, jobs=2)
    return ProjectDir(root), result


def _pdf(project: ProjectDir, source: str) -> Path:
    return project.pdf(source.removesuffix(".md"))


def _flat(value: str) -> str:
    """Text with its line ends as spaces, and a compound broken at its hyphen whole."""
    flat = " ".join(value.replace("\u00a0", " ").replace("\u202f", " ").split())
    return re.sub(r"(\w)- (\w)", r"\1-\2", flat)


def test_every_release_of_the_corpus_builds(corpus):
    _, result = corpus
    built = {o.path.name for o in result.outputs}
    assert built >= {name.removesuffix(".md") + ".pdf" for name in SOURCES}
    assert result.ok, [str(p) for p in result.errors]
    # the one number no country makes valid is a warning, not a lost release
    assert [p.message.split(" is printed")[0] for p in result.warnings] == [
        "phone number '0800 TEL AIDE' of 'Sophie Le Bihan'"]


@pytest.mark.parametrize("source", SOURCES)
def test_a_journalist_finds_title_date_and_every_contact(corpus, source):
    project, _ = corpus
    pdf = _pdf(project, source)
    expected = EXPECTED[source]
    content = _flat(text(pdf))
    assert _flat(expected["title"].replace('"', "")) in content.replace("“", "").replace("”", "")
    import datetime as dt

    from publisher.localise import long_date

    day = dt.date.fromisoformat(source[:10])
    assert _flat(long_date(day, source.split(".")[-2])) in content
    uris = links(pdf)
    for contact in expected["contacts"]:
        assert contact["name"] in content
        assert _flat(contact["organisation"]).replace("'", "’") in content.replace("'", "’")
        assert f"mailto:{contact['email']}" in uris
        if contact["valid"]:
            tel = [u for u in uris if re.sub(r"[^\d+]", "", u.split(";")[0])
                   == contact["phone_digits"]]
            assert tel, (contact, uris)
            if contact["extension"]:
                assert tel[0].endswith(f";ext={contact['extension']}")
        else:
            assert not [u for u in uris if u.startswith("tel:") and "0800" in u]
    assert len(reader(pdf).pages) <= 3


@pytest.mark.parametrize("source", SOURCES)
def test_one_end_mark_as_the_body_wrote_it(corpus, source):
    project, _ = corpus
    lines = [line.strip() for line in text(_pdf(project, source)).splitlines()]
    own = EXPECTED[source]["own_end_mark"]
    marks = [line for line in lines if re.fullmatch(r"[#\-–—/ ]+|-?\s*(30|end|fin)\s*-?|– fin –",
                                                    line, re.IGNORECASE)]
    assert marks == [own or "###"], marks


def test_french_first_of_the_month_and_brands_as_written(corpus):
    project, _ = corpus
    first = _flat(text(_pdf(project, "2018-06-01-satellite-nappes-phreatiques.fr.md")))
    assert "1er juin 2018" in first
    brands = _flat(text(_pdf(project, "2018-06-13-inclusion-numerique.fr.md")))
    assert "Yahoo!" in brands and "Yahoo !" not in brands


def _pdfs(project):
    return [_pdf(project, s) for s in SOURCES] + [
        project.pdf(f"{SAMPLE_STEM}.{lang}") for lang in ("fr", "en", "ru")]


def test_no_name_or_address_is_hyphenated_nor_three_lines_in_a_row(corpus):
    project, _ = corpus
    for pdf in _pdfs(project):
        lines = text(pdf).splitlines()
        run = 0
        for line in lines:
            if not line.rstrip().endswith(HYPHEN):
                run = 0
                continue
            run += 1
            word = line.rstrip()[:-1].split()[-1]
            assert not word[:1].isupper(), (pdf.name, line)
            assert not re.search(r"@|www\.|://|\.(org|com|net)", word), (pdf.name, line)
            assert run <= 2, (pdf.name, line)


def test_no_title_ends_on_a_single_word(corpus):
    project, _ = corpus
    for source in SOURCES:
        title = _flat(EXPECTED[source]["title"])
        lines = [_flat(line) for line in text(_pdf(project, source)).splitlines()]
        start = next(i for i, line in enumerate(lines) if title.startswith(line) and line)
        joined = ""
        for line in lines[start:]:
            joined = _flat(f"{joined} {line}")
            if joined == title:
                assert len(line.split()) >= 2, (source, line)
                break
        else:
            pytest.fail(f"{source}: title not found as lines")


def _text_bottom(page) -> float:
    """How far down the page text reaches, as a share of the page (footer aside)."""
    height = float(page.mediabox.height)
    lowest = [height]

    def visit(text_, cm, tm, font, size):
        y = (tm[5] * cm[3] + cm[5]) if cm else tm[5]
        if text_.strip() and y > height * 0.08:  # the running footer is below 8 %
            lowest[0] = min(lowest[0], y)

    page.extract_text(visitor_text=visit)
    return 1 - lowest[0] / height


def test_no_page_holds_only_about_and_contacts_after_a_half_empty_one_nor_starts_with_the_end_mark(
        corpus):
    project, _ = corpus
    for pdf in _pdfs(project):
        pages = reader(pdf).pages
        for number in range(1, len(pages)):
            first = _flat(pages[number].extract_text()).upper()
            if first.startswith(ABOUT_OR_CONTACTS):
                assert _text_bottom(pages[number - 1]) > 0.5, (pdf.name, number + 1)
            own = EXPECTED.get(pdf.stem + ".md", {}).get("own_end_mark") or "###"
            assert not first.startswith(own.upper()), (pdf.name, "end mark opens a page")


@pytest.mark.parametrize("mark", ["###", "# # #", "-30-", "-end-", "– fin –", "---///---",
                                  "ENDS", "- 30 -"])
def test_a_body_ending_with_its_own_mark_keeps_it_alone(mark):
    from publisher.localise import split_end_mark

    body, found, after = split_end_mark(f"First paragraph.\n\nLast one.\n\n{mark}\n")
    assert (body.rstrip(), found, after) == ("First paragraph.\n\nLast one.", mark, "")


def test_what_follows_the_mark_is_kept_after_it():
    from publisher.localise import split_end_mark

    body = "Text.\n\n###\n\nMedia contact: Ann Lee, +1 202-358-0142\n"
    assert split_end_mark(body) == ("Text.\n", "###", "Media contact: Ann Lee, +1 202-358-0142")


@pytest.mark.parametrize("body", ["Only text.\n", "###\n", "A list:\n\n### Heading\n\nText.\n",
                                  "It ends with the word fin\n"])
def test_a_body_without_a_mark_is_left_as_it_is(body):
    from publisher.localise import split_end_mark

    assert split_end_mark(body) == (body, "", "")


def test_long_dates_as_each_locale_writes_them():
    import datetime as dt

    from publisher.localise import long_date

    first, other = dt.date(2018, 6, 1), dt.date(2018, 6, 15)
    assert long_date(first, "fr") == "1er juin 2018"
    assert long_date(other, "fr") == "15 juin 2018"
    assert long_date(first, "fr_CA") == "1er juin 2018"
    assert long_date(first, "it") == "1º giugno 2018"
    assert long_date(other, "en_GB") == "15 June 2018"
    assert long_date(other, "en") == "June 15, 2018"


def test_the_site_chooses_the_locale_and_the_end_mark(project):
    site = project.read("sources/site.yaml")
    project.write("sources/site.yaml", site + "locales: {en: en_GB}\nend_mark: ''\n")
    result = project.build(project.release("en"))
    assert result.ok, [str(p) for p in result.problems]
    content = _flat(text(project.pdf(f"{SAMPLE_STEM}.en")))
    assert "Paris, 15 June 2018" in content
    assert "###" not in content and "# # #" not in content


def test_a_locale_of_another_language_is_refused(project):
    site = project.read("sources/site.yaml")
    project.write("sources/site.yaml", site + "locales: {en: fr_FR}\n")
    result = project.build(project.release("en"))
    assert not result.ok
    assert any("the locale must be of the same language" in p.message for p in result.errors)


def test_a_third_hyphenated_line_in_a_row_keeps_its_word_whole():
    from publisher.text.ladders import unhyphenated

    html = ('<p title="construction">Une construction, la reconstruction.</p>'
            "<style>p { content: 'construction' }</style>")
    assert unhyphenated(html, ["construction"]) == (
        '<p title="construction">Une <span style="hyphens: manual">construction</span>, la '
        "reconstruction.</p><style>p { content: 'construction' }</style>")


def test_contacts_written_after_the_end_mark_follow_it(corpus):
    project, _ = corpus
    lines = [_flat(line) for line in text(project.pdf(
        "2018-06-27-harbour-wind-survey.en")).splitlines()]
    mark = lines.index("###")
    assert lines[mark + 1] == "Media contacts:"
    assert "Notes to editors:" in " ".join(lines[mark + 1:])


@pytest.mark.parametrize("source", SOURCES)
def test_every_release_of_the_corpus_passes_pdfua_and_the_structure_checks(corpus, source):
    project, _ = corpus
    path = _pdf(project, source)
    assert pdfua_problems(path) == []
    assert ua_problems(path) == []
    assert parent_tree_problems(path) == []


def _roles(path, role: str) -> list:
    """(/Scope, roles of the kids) of every ``role`` element."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        return [(str((n.get("/A") or {}).get("/Scope", "")),
                 [str(k.S) for k in (n.K if isinstance(n.K, pikepdf.Array) else [n.K])
                  if isinstance(k, pikepdf.Dictionary) and "/S" in k])
                for n in structure_elements(pdf) if n.S == role]


def test_table_headers_have_a_scope_and_footnotes_a_body(corpus):
    project, _ = corpus
    advisory = _pdf(project, "2018-06-06-meridian-2-launch-advisory.en.md")
    headers = _roles(advisory, "/TH")
    assert headers and all(scope == "/Column" for scope, _kids in headers)
    notes = _pdf(project, "2018-06-13-inclusion-numerique.fr.md")
    items = [kids for _scope, kids in _roles(notes, "/LI") if "/Lbl" in kids]
    assert items and all(kids == ["/Lbl", "/LBody"] for kids in items)
