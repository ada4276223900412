"""A page of a PDF as a PNG, rasterised with pypdfium2."""

from __future__ import annotations

import io
from pathlib import Path

from ..errors import Problem, UsageError
from ..write import write


def preview(pdf: Path, output: Path, *, page: int = 1, width: int = 900) -> Path:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(str(pdf))
    except pypdfium2.PdfiumError:
        raise UsageError(Problem(str(pdf), None, "is not a PDF that can be read; give a PDF "
                                                 "that publisher built")) from None
    try:
        if not 1 <= page <= len(document):
            raise UsageError(Problem(str(pdf), None, f"has {len(document)} page(s); "
                                                     f"--page {page} is out of range"))
        sheet = document[page - 1]
        scale = width / sheet.get_width()
        image = sheet.render(scale=scale).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    finally:
        document.close()
    write(Path(output), buffer.getvalue())
    return Path(output)
