"""Joining tagged PDFs: one structure tree, links between parts, shared fonts."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from conftest import REPO
from pdfread import structure_problems, syntax_problems
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from publisher.pdf.join import PART_LINK, join
from publisher.pdf.subset import Originals

SANS = (REPO / "fonts/Inter-Regular.otf").as_uri()  # CFF outlines
SERIF = (REPO / "fonts/NotoSerif-Regular.ttf").as_uri()  # TrueType outlines
FONTS = f"""
@font-face {{ font-family: TestSans; src: url({SANS}); }}
@font-face {{ font-family: TestSerif; src: url({SERIF}); }}
@page {{ size: A5; margin: 20mm; }}
h2 {{ font-family: TestSans; font-weight: normal; bookmark-level: 1; }}
p {{ font-family: TestSerif; }}
"""


@pytest.fixture(scope="module")
def fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _pdf(fonts, body: str, css: str = "", variant: str | None = "pdf/ua-1") -> bytes:
    from weasyprint import HTML

    html = (f"<html lang='en'><head><title>Joined</title><style>{FONTS}{css}</style></head>"
            f"<body>{body}</body></html>")
    return HTML(string=html).write_pdf(font_config=fonts,
                                       pdf_variant=variant)


@pytest.fixture(scope="module")
def joined(fonts):
    front = _pdf(fonts, "<h2>Contents</h2>"
                 f"<p><a href='{PART_LINK}second'>To the second part</a></p>")
    first = _pdf(fonts, "<h2 id='first'>Alpha</h2><p>Quick brown foxes.</p>")
    second = _pdf(fonts, "<h2 id='second'>Zeta</h2><p>Jumping wizards vex; 0123456789.</p>"
                  "<p style='break-before: page'>Overflow onto a second page.</p>")
    folios = _pdf(fonts, "<div></div>" + "<div class='f'></div>" * 3,
                  "@page { @bottom-center { font-family: TestSans; "
                  "content: 'Page ' counter(page) ' of ' counter(pages) } } "
                  ".f { break-before: page }", variant=None)
    parts = [front, first, second]
    originals = Originals([REPO / "fonts/Inter-Regular.otf",
                           REPO / "fonts/NotoSerif-Regular.ttf"])
    return (join(parts, folios, identifier=b"0" * 32),
            join(parts, folios, identifier=b"0" * 32, share_fonts=False),
            join(parts, folios, identifier=b"0" * 32, originals=originals))


def _programs(pdf: bytes) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
            name = str(font.get_object()["/BaseFont"]).split("+")[-1]
            found.setdefault(name, set()).add((key, descriptor.raw_get(key).idnum))
    return found


def test_one_structure_tree_and_links_between_parts(joined):
    pdf = PdfReader(io.BytesIO(joined[0]))
    assert len(pdf.pages) == 4
    assert [syntax_problems(pdf) for pdf in joined] == [[], [], []]
    assert structure_problems(pdf) == []
    [link] = [a.get_object() for a in pdf.pages[0]["/Annots"]]
    target = pdf.named_destinations[str(link["/Dest"])]
    assert pdf.get_destination_page_number(target) == 2
    assert [(item.title, pdf.get_destination_page_number(item)) for item in pdf.outline] == [
        ("Contents", 0), ("Alpha", 1), ("Zeta", 2)]
    assert pdf.trailer["/Root"]["/Lang"] == "en" and pdf.metadata.title == "Joined"


def test_footers_run_through_the_joined_pages_as_artifacts(joined):
    pdf = PdfReader(io.BytesIO(joined[0]))
    for number, page in enumerate(pdf.pages, start=1):
        assert f"Page {number} of 4" in page.extract_text()
        streams = page.raw_get("/Contents")
        assert all(isinstance(stream, IndirectObject) for stream in streams)  # never inline
        contents = b"".join(stream.get_object().get_data() for stream in streams)
        assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in contents


def test_each_typeface_is_embedded_once_and_draws_the_same(joined):
    """Copied between the parts' subsets (fontTools) or subset once from the font
    file (HarfBuzz): one program per typeface, the same pages to the pixel."""
    copied, separate, subset = joined
    for shared in (copied, subset):
        # Inter is a CFF font, Noto Serif a TrueType one: both kinds are merged
        assert {len(ids) for ids in _programs(shared).values()} == {1}
        assert {name: key for name, [(key, _id)] in _programs(shared).items()} == {
            "TestSans": "/FontFile3", "TestSerif": "/FontFile2"}
        assert len(shared) < len(separate)
    assert min(len(ids) for ids in _programs(separate).values()) > 1
    assert subset != copied  # the font file's subset is not the copied program
    pages = []
    for pdf in joined:
        document = pypdfium2.PdfDocument(pdf)
        pages.append([document[i].render(scale=1.5).to_pil().tobytes()
                      for i in range(len(document))])
        document.close()
    assert pages[0] == pages[1] == pages[2]


def test_the_harfbuzz_subset_is_the_one_weasyprint_makes(fonts):
    """For one document's glyphs, the subset of the font file is byte for byte the
    program WeasyPrint embedded."""
    import pikepdf

    from publisher.pdf.join import _member
    from publisher.pdf.subset import postscript_name, subset

    pdf = pikepdf.open(io.BytesIO(_pdf(fonts, "<h2>Zeta</h2><p>Jumping wizards vex.</p>")))
    checked = 0
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0":
            member = _member(obj)
            embedded = member.descriptor[member.program_key].read_bytes()
            name = postscript_name(embedded)
            path = {"Inter-Regular": "Inter-Regular.otf",
                    "NotoSerif-Regular": "NotoSerif-Regular.ttf"}[name]
            made = subset((REPO / "fonts" / path).read_bytes(), member.gids)
            assert made == embedded, name
            checked += 1
    assert checked == 2
