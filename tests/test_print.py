"""The print profile: PDF/X-4, bleed, crop marks, page boxes, CMYK, image resolution."""

from __future__ import annotations

import io
import re

import pypdfium2
import pytest
from conftest import SAMPLE_STEM, release_text
from pdfread import press_problems, syntax_problems
from PIL import Image
from pypdf import PdfReader

BLEED_PT = 3 / 25.4 * 72  # 3 mm


@pytest.fixture
def printed(only_fr):
    result = only_fr.build(only_fr.release("fr"), profile="print")
    assert result.problems == []
    return only_fr, only_fr.root / f"build/print/releases/{SAMPLE_STEM}.fr.pdf"


def test_print_edition_goes_to_its_own_folder(printed):
    project, path = printed
    assert path.exists()
    assert not project.pdf(f"{SAMPLE_STEM}.fr").exists()  # the screen edition is apart


def test_page_boxes_and_bleed(printed):
    _, path = printed
    for page in PdfReader(str(path)).pages:
        trim, media, bleed = page.trimbox, page.mediabox, page.bleedbox
        assert (float(trim.width), float(trim.height)) == pytest.approx((595.28, 841.89), 0.01)
        assert float(media.width) - float(trim.width) == pytest.approx(2 * BLEED_PT, abs=0.01)
        assert float(media.left) == pytest.approx(float(trim.left) - BLEED_PT, abs=0.01)
        assert float(bleed.width) >= float(trim.width)


def test_pdfx4_identification_and_cmyk_colours(printed):
    _, path = printed
    pdf = PdfReader(str(path))
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    content = pdf.pages[0].get_contents().get_data()
    assert b"/DeviceCMYK cs" in content  # brand colours from site.yaml's print.colours


def test_a_press_accepts_the_print_edition(printed):
    """An output intent with a CMYK profile, not one RGB colour, and still tagged."""
    _, path = printed
    assert press_problems(path) == []
    pdf = PdfReader(str(path))
    [intent] = pdf.trailer["/Root"]["/OutputIntents"]
    assert intent.get_object()["/OutputConditionIdentifier"] == "FOGRA39"
    assert bool(pdf.trailer["/Root"]["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in pdf.trailer["/Root"]
    # the crop marks print on every plate (registration), the rest is CMYK
    marks = [x.get_object() for x in pdf.pages[0]["/Resources"]["/XObject"].values()
             if b"/Registration cs" in x.get_object().get_data()]
    assert len(marks) == 1
    [space] = [v for k, v in marks[0]["/Resources"]["/ColorSpace"].items()
               if k == "/Registration"]
    assert list(space)[:3] == ["/Separation", "/All", "/DeviceCMYK"]
    # greys become black only, as a press expects of text
    content = pdf.pages[0].get_contents().get_data()
    assert re.search(rb"\n0 0 0 0\.\d+ k\n", content)


def test_the_screen_edition_fails_the_press_check(only_fr):
    only_fr.build(only_fr.release("fr"))
    problems = press_problems(only_fr.pdf(f"{SAMPLE_STEM}.fr"))
    assert "no PDF/X output intent" in problems
    assert any("rg (DeviceRGB)" in p for p in problems)


def _print_with(project, condition: str):
    """Build the French print edition with ``print.condition``: (result, PDF path)."""
    site = "".join(line for line in project.read("sources/site.yaml").splitlines(True)
                   if not line.startswith("  condition:"))  # a condition an earlier call set
    project.write("sources/site.yaml",
                  site.replace("  bleed: 3mm", f"  bleed: 3mm\n  condition: {condition}"))
    result = project.build(project.release("fr"), profile="print")
    return result, project.root / f"build/print/releases/{SAMPLE_STEM}.fr.pdf"


def _intent(path):
    [intent] = PdfReader(str(path)).trailer["/Root"]["/OutputIntents"]
    return intent.get_object()


def test_a_site_chooses_the_press_condition(only_fr):
    result, path = _print_with(only_fr, "GRACoL2006")
    assert result.problems == []
    assert press_problems(path) == []
    assert _intent(path)["/OutputConditionIdentifier"] == "CGATS TR 006"


def test_crop_marks_are_drawn_in_the_bleed(printed):
    _, path = printed
    page = pypdfium2.PdfDocument(str(path))[0]
    scale = 2
    image = page.render(scale=scale).to_pil().convert("L")
    bleed = int(BLEED_PT * scale)
    width, height = image.size
    corner = image.crop((0, 0, bleed * 2, bleed - 1))
    middle = image.crop((width // 2 - 50, 0, width // 2 + 50, bleed - 1))
    assert corner.getextrema()[0] < 128  # a mark near the corner
    assert middle.getextrema()[0] > 200  # nothing along the edge


def test_print_build_is_reproducible(printed):
    """Built again from nothing (no cache) in a fresh process: the same bytes."""
    from conftest import build_from_nothing

    project, path = printed
    first = path.read_bytes()
    build_from_nothing(project.root, project.release("fr"), profile="print")
    assert path.read_bytes() == first


def test_low_resolution_image_is_warned_about_in_print_only(project):
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), "#0b3a6e").save(buffer, format="PNG")
    (project.root / "sources/releases/2018/small.png").write_bytes(buffer.getvalue())
    path = project.write("sources/releases/2018/2018-06-20-photo.fr.md",
                         release_text(body="Texte.\n\n![Une photo trop petite](small.png)\n"))
    screen = project.build(path)
    assert screen.problems == []
    printed = project.build(path, profile="print")
    [warning] = printed.warnings
    assert warning.file == "sources/releases/2018/2018-06-20-photo.fr.md"
    assert "small.png on page 1" in warning.message
    assert "dpi at its printed size; print needs 300" in warning.message


def test_kit_can_ask_for_the_print_profile(project):
    kit = project.root / "sources/kits/cnes-roscosmos-2018.yaml"
    kit.write_text(kit.read_text(encoding="utf-8") + "profile: print\n", encoding="utf-8")
    from publisher.pipeline import build_kit

    result = build_kit(project.root, "cnes-roscosmos-2018", lang="en")
    assert result.errors == []
    [output] = result.outputs
    assert output.path == project.root / "build/print/kits/cnes-roscosmos-2018.en.pdf"
    pdf = PdfReader(str(output.path))
    assert syntax_problems(output.path) == []
    assert press_problems(output.path) == []
    assert float(pdf.pages[0].trimbox.width) == pytest.approx(595.28, 0.01)
    # joined from parts: every page keeps its bleed, the footers run through the kit
    for number, page in enumerate(pdf.pages, start=1):
        assert float(page.mediabox.width) - float(page.trimbox.width) == pytest.approx(
            2 * BLEED_PT, abs=0.01)
        if number > 1:
            assert f"Page {number} of {len(pdf.pages)}" in page.extract_text()
    # the kit's XMP identifies the kit (not one of its parts)
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    other = build_kit(project.root, "cnes-roscosmos-2018", lang="fr").outputs[0].path
    other_xmp = PdfReader(str(other)).trailer["/Root"]["/Metadata"].get_object().get_data()
    did = re.search(r"xmp\.did:[0-9a-f-]{36}", xmp)[0]
    assert did.encode() not in other_xmp


def test_a_site_gives_its_own_press_profile(only_fr):
    from publisher.pdf.press import ICC_DIR

    (only_fr.root / "sources/press.icc").write_bytes((ICC_DIR / "TR006.icc").read_bytes())
    result, path = _print_with(only_fr, "press.icc")
    assert result.problems == []
    assert press_problems(path) == []
    intent = _intent(path)
    assert intent["/OutputConditionIdentifier"] == "Custom"
    assert intent["/Info"].startswith("TR006 GRACoL 2006 coated")
    # an RGB profile, or one outside the project, is refused at its line
    (only_fr.root / "sources/screen.icc").write_bytes(b"\0" * 12 + b"mntrRGB " + b"\0" * 200)
    [problem] = _print_with(only_fr, "screen.icc")[0].errors
    assert problem.file == "sources/site.yaml"
    assert "screen.icc is not a CMYK output (printer) profile" in problem.message
    [problem] = _print_with(only_fr, "../../x.icc")[0].errors
    assert problem.message.startswith("print.condition: ")
