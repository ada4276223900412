"""Each language's rules, read back from the PDF as a native reader sees them:
Polish and Czech one-letter words never end a line, a compound broken at its
hyphen repeats it on the next line (Polish, Czech, Portuguese), a spaced
hyphen is the language's dash, Korean lines break between words only — and
the gate reports a forbidden line end (tests/fixtures/native, written for
these tests)."""

from __future__ import annotations

import email
import re
import shutil
from email import policy
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir
from pypdf import PdfReader

from publisher.text.rules import rules_of

NATIVE = Path(__file__).parent / "fixtures" / "native"
KOREAN = Path(__file__).parent / "fixtures" / "scripts" / "2018-06-20-satellite-ocean.ko.md"
STEMS = {"pl": "2018-06-21-stacja-pomiarowa.pl", "cs": "2018-06-21-merici-stanice.cs",
         "pt": "2018-06-21-estacao-costeira.pt", "ko": "2018-06-20-satellite-ocean.ko",
         "pt_BR": "2018-06-22-rede-de-sensores.pt_BR",
         "en-table": "2018-06-23-instrument-table.en", "ko-table": "2018-06-23-gwancheuk-jangbi.ko"}
HYPHENS = "-\u2010"


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    from publisher.pipeline import build

    root = tmp_path_factory.mktemp("native")
    shutil.copytree(REPO / "sources", root / "sources")
    folder = root / "sources/releases/2018"
    paths = [shutil.copy(source, folder) for source in sorted(NATIVE.glob("*.md"))]
    paths.append(shutil.copy(KOREAN, folder))
    result = build(root, [Path(p) for p in paths], jobs=2)
    assert result.errors == [], [str(p) for p in result.errors]
    return ProjectDir(root)


def _lines(project: ProjectDir, lang: str) -> list[str]:
    reader = PdfReader(project.pdf(STEMS[lang]))
    return [line.strip() for page in reader.pages
            for line in page.extract_text().splitlines() if line.strip()]


def _source(lang: str) -> str:
    path = KOREAN if lang == "ko" else NATIVE / f"{STEMS[lang]}.md"
    return path.read_text(encoding="utf-8").split("---", 2)[2]


@pytest.mark.parametrize("lang", ["pl", "cs"])
def test_one_letter_words_never_end_a_line(native, lang):
    words = rules_of(lang, lang).no_break_after
    lines = _lines(native, lang)
    ending = [line for line in lines if line.split()[-1] in words]
    assert ending == []
    # the text has many of them, in the middle of lines: the rule had work to do
    inside = sum(1 for line in lines for word in line.split()[:-1] if word in words)
    assert inside >= 15


@pytest.mark.parametrize("lang", ["pl", "cs", "pt"])
def test_a_compound_broken_at_its_hyphen_repeats_it_on_the_next_line(native, lang):
    compounds = {c.lower() for c in re.findall(r"[^\W\d_]+-[^\W\d_]+", _source(lang))}
    lines = _lines(native, lang)
    broken = []
    for line, following in zip(lines, lines[1:], strict=False):
        if line[-1] not in HYPHENS or not following:
            continue
        head, tail = line.split()[-1].rstrip(HYPHENS), following.split()[0].lstrip(HYPHENS)
        joined = re.sub(r"\W+$", "", f"{head}-{tail}").lower()
        if joined in compounds:
            broken.append((line.split()[-1], following.split()[0]))
    assert broken, "no compound broke at its hyphen: the text proves nothing"
    assert [pair for pair in broken if pair[1][0] not in HYPHENS] == []


@pytest.mark.parametrize(("lang", "dash"), [("pl", "\u2013"), ("cs", "\u2013"),
                                            ("pt", "\u2014")])
def test_a_spaced_hyphen_is_the_language_s_dash_and_never_starts_a_line(native, lang, dash):
    lines = _lines(native, lang)
    text = " ".join(lines)
    assert f" {dash} " in text.replace("\u00a0", " ") and " - " not in text
    assert [line for line in lines if line[0] == dash] == []  # "-gerir" may: it repeats


def test_korean_lines_break_between_words_only(native):
    body = " ".join(_source("ko").split())
    checked = 0
    for line in _lines(native, "ko"):
        at = body.find(line)
        if at < 0 or len(line) < 8:  # not a line of the body (header, contacts…)
            continue
        checked += 1
        after = body[at + len(line):at + len(line) + 1]
        assert after in ("", " "), f"a line ends inside a word: …{line[-6:]}|{after}"
    assert checked >= 4


def test_the_rules_leave_no_invisible_characters_in_copied_text_or_e_mail(native):
    for lang, stem in STEMS.items():
        text = "\n".join(_lines(native, lang))
        assert "\u2060" not in text and "\u00ad" not in text, lang
        message = email.message_from_bytes(
            (native.root / "build/releases" / f"{stem}.eml").read_bytes(), policy=policy.default)
        for part in message.walk():
            if part.get_content_type() in ("text/html", "text/plain"):
                content = part.get_content()
                assert "\u2060" not in content and "\u00ad" not in content, (lang, part)


def test_the_gate_reports_a_one_letter_word_at_a_line_end():
    from weasyprint import HTML

    from publisher.gate.inspect import line_end_problems

    def found(html: str) -> list:
        return line_end_problems(HTML(string=html).render(), "x.pl.md")

    problems = found('<p lang="pl">Spotkanie w<br>Warszawie</p>')
    assert [(p.code, p.file) for p in problems] == [("G009", "x.pl.md")]
    assert "'w'" in problems[0].message and "page 1" in problems[0].message
    assert found('<p lang="pl">Spotkanie w\u00a0Warszawie</p>') == []
    assert found('<p lang="en">Meeting a<br>minister</p>') == []  # English allows it


def test_brazilian_portuguese_has_brazil_s_words_and_portugal_s_for_the_rest(native):
    brazil = " ".join(_lines(native, "pt_BR")).casefold()  # labels may be set in capitals
    assert "contatos para a imprensa" in brazil and "celular" in brazil
    assert "contactos" not in brazil and "telemóvel" not in brazil
    assert "comunicado de imprensa" in brazil  # the same in both: from the pt catalog


def test_a_regional_catalog_holds_only_what_differs_and_the_gate_accepts_it():
    from publisher.gate.inspect import catalog_problems
    from publisher.inputs.fonts import font_files

    fonts = tuple((path, "") for path in font_files([REPO / "fonts"]))
    found = catalog_problems([REPO / "layouts"], REPO, fonts)
    assert [str(p) for p in found if "pt_BR" in p.file] == []


def _rows(lang: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in _source(lang).splitlines()
            if line.startswith("| ") and not line.startswith("| ---")][1:]


def _pages(project: ProjectDir, lang: str) -> list[str]:
    reader = PdfReader(project.pdf(STEMS[lang]))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.mark.parametrize("lang", ["en-table", "ko-table"])
def test_a_table_s_label_column_is_as_wide_as_its_longest_word(native, lang):
    lines = _lines(native, lang)
    labels = [row[0] for row in _rows(lang)]
    assert labels
    for label in labels:  # each label whole on one line, never cut inside
        assert any(label in line for line in lines), label


def test_a_table_s_rows_are_never_split_and_its_header_is_repeated(native):
    pages = _pages(native, "en-table")
    rows = _rows("en-table")
    assert len(pages) >= 2, "the table should run to a second page"
    on = [next(i for i, page in enumerate(pages) if row[0] in page) for row in rows]
    assert len(set(on)) >= 2  # the table runs across a page break
    for row, page in zip(rows, on, strict=True):
        end = " ".join(row[1].split()[-4:]).replace("'", "\u2019")
        assert end in pages[page], row[0]  # the row's end is on the page of its label
    for page in sorted(set(on)):
        assert "Instrument What it does" in pages[page]


def test_the_gate_reports_a_split_row_and_a_word_broken_in_a_cell():
    from weasyprint import HTML

    from publisher.gate.inspect import table_problems

    tall = "<p>" + "word " * 3000 + "</p>"
    split = HTML(string=f"<table><tr><td>Kestrel</td><td>{tall}</td></tr></table>").render()
    assert [p.code for p in table_problems(split, "x.md")] == ["G010"]
    narrow = HTML(string='<table><tr><td style="overflow-wrap: anywhere; width: 1cm">'
                         "OceanTemperatureProbe</td><td>" + "text " * 40 + "</td></tr></table>"
                  ).render()
    found = table_problems(narrow, "x.md")
    assert [p.code for p in found] == ["G011"] and "OceanTemperatureProbe" in found[0].message
    fine = HTML(string="<table><tr><td>Kestrel</td><td>short</td></tr></table>").render()
    assert table_problems(fine, "x.md") == []
    rows = "".join(f"<tr><td>Row {n}</td><td>text</td></tr>" for n in range(120))
    repeated = HTML(string=f"<table><thead><tr><th>Name</th><th>What</th></tr></thead>"
                           f"<tbody>{rows}</tbody></table>").render()
    assert len(repeated.pages) >= 2 and table_problems(repeated, "x.md") == []


def test_the_gate_reports_a_line_stretched_beyond_its_word_spacing():
    from weasyprint import HTML

    from publisher.gate.inspect import stretched_lines

    def found(text: str, most: float = 4.0) -> list:
        html = f'<p style="text-align: justify; width: 8cm; font-size: 10pt">{text}</p>'
        return stretched_lines(HTML(string=html).render(), "x.md", most)

    text = "one two Unbreakablewordthatfillsthemeasure and more words after"
    loose = found(text)
    assert [p.code for p in loose] == ["G012"] and "'one two'" in loose[0].message
    assert loose[0].severity == "warning"
    normal = "The station measures the water every hour and sends the data to the archive. " * 3
    assert found(normal) == []
    assert found(text, most=500) == []  # a layout that wants it may allow it


def test_a_paragraph_with_a_long_address_or_chinese_run_is_set_ragged():
    from publisher.text.markdown import unjustifiable

    assert unjustifiable("see https://example.org/a/very/long/path/that/does/not/break")
    assert unjustifiable("script: 報道関係者各位プレスリリースです新闻稿卫星发射成功")
    assert not unjustifiable("The station measures the water every hour, www.cnes.fr.")
    assert not unjustifiable("Donaudampfschifffahrtsgesellschaftskapitän")  # hyphenated


def test_the_word_spacing_a_check_allows_is_a_setting(project):
    from publisher.errors import ConfigError
    from publisher.load import load

    site = project.root / "sources/site.yaml"
    original = site.read_text(encoding="utf-8")
    assert load(project.root).site.word_spacing == 4.0
    site.write_text(original + "check: {word_spacing: 6}\n", encoding="utf-8")
    assert load(project.root).site.word_spacing == 6.0
    site.write_text(original + "check: {word_spacing: 0}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load(project.root)
    assert [p.code for p in refused.value.problems] == ["S003"]


def test_a_kit_s_e_mail_intro_keeps_no_invisible_break_characters(native):
    from publisher.pipeline import build_kit

    native.write("sources/kits/baltyk.yaml", "title: Bałtyk pod kontrolą\nlang: pl\n"
                 "date: 2018-06-21\nreleases: [2018-06-21-stacja-pomiarowa]\n"
                 "intro: Polsko-francuski system i biało-czerwone boje w Zatoce Gdańskiej.\n")
    try:
        result = build_kit(native.root, "baltyk")
        assert result.errors == [], [str(p) for p in result.errors]
        message = email.message_from_bytes(
            (native.root / "build/kits/baltyk.pl.eml").read_bytes(), policy=policy.default)
        parts = [part.get_content() for part in message.walk()
                 if part.get_content_type() in ("text/html", "text/plain")]
        assert parts and any("Polsko-francuski" in part for part in parts)
        assert not any("\u2060" in part or "\u00ad" in part for part in parts)
    finally:
        (native.root / "sources/kits/baltyk.yaml").unlink()
