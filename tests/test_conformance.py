"""PDF/UA-1 as far as a machine can check it, on every screen PDF of the sample:
the independent checker pdfua, and the project's own reading of the structure
(tests/pdfread.py): marked content, artifacts, links, languages."""

from __future__ import annotations

import re

import pikepdf
import pytest
from conftest import SAMPLE_STEM
from pdfread import lang_spans, marked_text, pdfua_problems, structure_problems, ua_problems
from pypdf import PdfReader

LANGS = ("fr", "en", "ru")
OUTPUTS = [f"releases/{SAMPLE_STEM}.{lang}.pdf" for lang in LANGS] + [
    f"kits/cnes-roscosmos-2018.{lang}.pdf" for lang in LANGS] + [
    f"newsletters/2018-06.{lang}.pdf" for lang in LANGS]


@pytest.mark.parametrize("name", OUTPUTS)
def test_every_screen_pdf_passes_pdfua_and_the_structure_checks(sample_build, name):
    project, _ = sample_build
    path = project.root / "build" / name
    assert pdfua_problems(path) == []
    assert ua_problems(path) == []
    assert structure_problems(PdfReader(str(path))) == []


@pytest.mark.parametrize("name", OUTPUTS)
def test_footers_leaders_and_end_marks_are_artifacts(sample_build, name):
    project, _ = sample_build
    artifact, tagged = marked_text(project.root / "build" / name)
    assert "###" in artifact and "###" not in tagged
    footer = re.compile({"fr": r"Page \d+ sur \d+", "en": r"Page \d+ of \d+",
                         "ru": r"Страница \d+ из \d+"}[name[-6:-4]])
    assert footer.search(artifact) and not footer.search(tagged)
    if name.startswith("kits/"):
        assert ". . . . ." in artifact and ". . . . ." not in tagged


def _annotations(path):
    with pikepdf.open(path) as pdf:
        return [[str(a.get("/Contents")) for a in page.obj.get("/Annots") or []]
                for page in pdf.pages]


def test_links_are_described_in_the_document_language(sample_build):
    project, _ = sample_build
    kit = _annotations(project.root / "build/kits/cnes-roscosmos-2018.fr.pdf")
    # one annotation per contents entry, described with its page
    assert kit[1] == ["Coopération spatiale entre la France et la Russie — page 3",
                      "Contacts presse — page 5"]  # the release as issued: 2 pages
    contacts = [c for page in kit for c in page]
    assert "Appeler le +33 1 44 76 75 39" in contacts
    assert "Écrire à pascale.bresson@cnes.fr" in contacts
    russian = [c for page in _annotations(project.pdf(f"{SAMPLE_STEM}.ru")) for c in page]
    assert "Позвонить по номеру +33 1 44 76 75 39" in russian


def test_a_passage_in_another_language_carries_its_own(sample_build):
    project, _ = sample_build
    with pikepdf.open(project.pdf(f"{SAMPLE_STEM}.ru")) as pdf:
        assert str(pdf.Root.Lang) == "ru"
    # the legal name in the masthead and the postal address, both French
    assert lang_spans(project.pdf(f"{SAMPLE_STEM}.ru")) == [("/Span", "fr"), ("/Span", "fr")]
    assert lang_spans(project.pdf(f"{SAMPLE_STEM}.fr")) == []  # French in French: nothing


def test_a_passage_the_source_marks_is_tagged_with_its_language(project):
    source = project.release("fr")
    text_ = source.read_text(encoding="utf-8").replace(
        "Jeudi 15 juin,", "Jeudi 15 juin, [en présence du consul]{lang=fr} "
        "[und der Botschafterin]{lang=de},")
    source.write_text(text_, encoding="utf-8")
    result = project.build(source)
    assert result.ok, [str(p) for p in result.problems]
    path = project.pdf(f"{SAMPLE_STEM}.fr")
    with pikepdf.open(path) as pdf:
        assert "x-lang" not in str([a.get("/A") for p in pdf.pages
                                    for a in p.obj.get("/Annots") or []])
    assert "und der Botschafterin" in " ".join(marked_text(path)[1].split())
    assert ua_problems(path) == [] and pdfua_problems(path) == []
    assert lang_spans(path) == [("/Span", "de")]  # French in French needs nothing


def test_an_unknown_passage_language_is_an_error_at_its_line(project):
    source = project.release("fr")
    lines = source.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("Jeudi"))
    source.write_text("\n".join(lines).replace("Jeudi 15 juin,", "[Jeudi]{lang=zz} 15 juin,"),
                      encoding="utf-8")
    result = project.build(source)
    [problem] = result.errors
    assert (problem.line, problem.message) == (
        number, "unknown language 'zz' in {lang=…}; use a code such as de, en or pt_BR")
