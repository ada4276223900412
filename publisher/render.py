"""Stage 4 — render: composed HTML to PDF bytes with WeasyPrint.

One :class:`Renderer` per process holds the WeasyPrint ``FontConfiguration``
and image cache, reused for every document.  Resources go through the
project's :class:`~publisher.resources.ResourcePolicy`; a refused resource,
a missing image or a CSS problem is reported, never silently dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass, field

from .compose import Composed
from .errors import Problem, RenderError
from .resources import ResourcePolicy, make_fetcher


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    warnings: list[str] = field(default_factory=list)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _source_date(epoch: int):
    """Fonts subset by fontTools take their timestamp from SOURCE_DATE_EPOCH."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    if previous is None:
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


class Renderer:
    """WeasyPrint with one font configuration and image cache for the process."""

    def __init__(self, pdf_variant: str | None = "pdf/ua-1"):
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self.image_cache: dict = {}
        self.pdf_variant = pdf_variant

    def render(self, composed: Composed, policy: ResourcePolicy, *, identifier: str,
               epoch: int, file: str) -> Rendered:
        from weasyprint import HTML

        refused: list[str] = []
        fetcher = make_fetcher(policy, refused)
        collect = _Collect()
        logger = logging.getLogger("weasyprint")
        saved = logger.level, logger.propagate
        logger.addHandler(collect)
        logger.setLevel(logging.WARNING)
        logger.propagate = False  # reported as problems below, not printed
        try:
            options = {
                "pdf_identifier": hashlib.sha256(identifier.encode()).hexdigest()[:32].encode(),
                "pdf_variant": self.pdf_variant,
                "cache": self.image_cache,
            }
            with _source_date(epoch):
                document = HTML(string=composed.html, base_url=composed.base_url,
                                url_fetcher=fetcher).render(font_config=self.font_config,
                                                            **options)
                pdf = document.write_pdf(**options)
        except Exception as exc:  # WeasyPrint failures are reported, not raised raw
            raise RenderError(Problem(file, None, f"WeasyPrint could not render it: "
                                                  f"{type(exc).__name__}: {exc}")) from exc
        finally:
            logger.removeHandler(collect)
            logger.level, logger.propagate = saved
        problems = [Problem(file, None, f"refused resource: {message}") for message in refused]
        if problems:
            raise RenderError(problems)
        return Rendered(pdf, len(document.pages), collect.messages)
