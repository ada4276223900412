"""A page of a PDF as a PNG, rasterised with pypdfium2."""

from __future__ import annotations

import io
from pathlib import Path

from ..errors import Problem, UsageError
from ..write import write


def preview(pdf: Path, output: Path, *, page: int = 1, width: int = 900) -> Path:
    import pypdfium2

    from .pdfium import opened

    try:
        with opened(str(pdf)) as document:
            if not 1 <= page <= len(document):
                raise UsageError(Problem(str(pdf), None, f"has {len(document)} page(s); "
                                                         f"--page {page} is out of range",
                                                             code="U002"))
            data = page_png(document, page, width)
    except pypdfium2.PdfiumError:
        raise UsageError(Problem(str(pdf), None, "is not a PDF that can be read; give a PDF "
                                                 "that publisher built", code="U002")) from None
    write(Path(output), data)
    return Path(output)


def page_png(document, page: int, width: int, *, small: bool = True) -> bytes:
    """Page ``page`` (from 1) of an open pypdfium2 document, ``width`` pixels wide, as
    PNG bytes; ``small`` compresses harder (slower)."""
    sheet = document[page - 1]
    image = sheet.render(scale=width / sheet.get_width()).to_pil()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **({"optimize": True} if small else {"compress_level": 1}))
    return buffer.getvalue()
