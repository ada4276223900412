"""PDFium (through pypdfium2), one thread at a time.

PDFium is not thread-safe: in ``publisher serve`` a build (which rasterises
the logo for the e-mail editions) and the web pages (which rasterise PDF
pages) run in threads of one process, so every use of it holds this lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

LOCK = threading.RLock()


@contextmanager
def opened(source) -> Iterator:
    """A PDF (a path as text, or bytes) opened by PDFium, closed after the block;
    the lock is held throughout.  Raises ``pypdfium2.PdfiumError`` when it is not
    a PDF PDFium can read."""
    import pypdfium2

    with LOCK:
        document = pypdfium2.PdfDocument(source)
        try:
            yield document
        finally:
            document.close()
