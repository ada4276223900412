"""What publisher relies on beyond WeasyPrint's documented API (publisher/pdf/weasy.py).

These fail when a WeasyPrint release changes any of it.
"""

from __future__ import annotations

import base64
import io

import pikepdf
from PIL import Image

from publisher.pdf.weasy import page_box, raster_size, stable_document_id


def _document(html: str):
    from weasyprint import HTML

    return HTML(string=html).render(pdf_variant="pdf/x-4")


def _png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#0b3a6e").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _walk(box):
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _walk(child)


def test_page_box_is_the_laid_out_tree():
    document = _document("<style>@page { size: A5; margin: 10mm }</style><p>Hello</p>")
    root = page_box(document.pages[0])
    assert root.content_box_x() > 0 and root.width > 0
    texts = [box.text for box in _walk(root) if hasattr(box, "text")]
    assert "Hello" in texts


def test_raster_size_of_an_image_box():
    document = _document(f"<img src='{_png(40, 20)}' alt='x' style='width: 4cm'>")
    sizes = [raster_size(box) for box in _walk(page_box(document.pages[0]))]
    assert 40 in sizes


def test_document_id_is_stable_and_derived_from_the_name():
    digest = "0123456789abcdef" * 4
    pdfs = []
    for _ in range(2):
        document = _document("<title>T</title><p>Hello</p>")
        stable_document_id(document, digest)
        pdfs.append(document.write_pdf(pdf_variant="pdf/x-4"))
    assert pdfs[0] == pdfs[1]
    with pikepdf.open(io.BytesIO(pdfs[0])) as pdf:
        xmp = pdf.Root.Metadata.read_bytes()
    assert b"xmp.did:01234567-89ab-cdef-0123-456789abcdef" in xmp
    # without it, WeasyPrint draws the id at random
    unstable = [_document("<title>T</title><p>Hello</p>").write_pdf(pdf_variant="pdf/x-4")
                for _ in range(2)]
    assert unstable[0] != unstable[1]
