"""What publisher needs of WeasyPrint beyond its documented API, in one place.

- :func:`page_box`: a rendered page's box tree, for the checks that look at
  what was laid out (overflow, image resolution).  WeasyPrint keeps it as
  ``Page._page_box``.
- :func:`stable_document_id`: PDF/X-4 metadata carries an ``xmp.did`` that
  WeasyPrint draws at random; publisher derives it from the output's name so
  that rebuilds are byte-identical.  It wraps the documented
  ``DocumentMetadata.generate_rdf_metadata`` of one document.
- :func:`raster_size`: the pixel width of a box's raster image.

``tests/test_weasy.py`` fails when WeasyPrint changes any of these.
"""

from __future__ import annotations

import re
import uuid


def page_box(page):
    """The root box of a rendered :class:`weasyprint.Page`."""
    return page._page_box


def stable_document_id(document, digest: str) -> None:
    """Make ``document``'s XMP ``xmp.did`` derive from ``digest`` instead of chance."""
    stable = f"xmp.did:{uuid.UUID(digest[:32])}"
    metadata = document.metadata
    generate = metadata.generate_rdf_metadata

    def generate_stable(*args, **kwargs):
        data = generate(*args, **kwargs)
        return re.sub(rb"xmp\.did:[0-9a-f-]{36}", stable.encode(), data)

    metadata.generate_rdf_metadata = generate_stable


def raster_size(box) -> int | None:
    """The width in pixels of the raster image ``box`` replaces, or None."""
    from weasyprint.images import RasterImage

    image = getattr(box, "replacement", None)
    return image.width if isinstance(image, RasterImage) else None
