"""Stage 4 — render: composed HTML to PDF bytes with WeasyPrint.

One :class:`Renderer` per process holds the WeasyPrint ``FontConfiguration``
and image cache, reused for every document.  Resources go through the
project's :class:`~publisher.resources.ResourcePolicy`; a refused resource,
a missing image or a CSS problem is reported, never silently dropped.

Two profiles: ``screen`` (the default) is a tagged PDF identified as PDF/UA-1;
``print`` is PDF/X-4 with bleed, crop marks, TrimBox and BleedBox, brand
colours in CMYK, and a warning for raster images under the print resolution.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html as html_lib
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .compose import Composed
from .errors import Problem, RenderError
from .resources import ResourcePolicy, file_of, make_fetcher

# the stylesheet elements that compose writes: <style> without attributes, <link> to CSS
_SHEET = re.compile(r'(<style>(.*?)</style>|<link rel="stylesheet" href="([^"]+)">)', re.S)

PROFILES = {
    "screen": {"pdf_variant": "pdf/ua-1"},
    "print": {"pdf_variant": "pdf/x-4"},
}


def profile_settings(name: str, site: dict) -> dict:
    """Everything a profile changes, with the site's print settings applied."""
    settings = {"name": name, **PROFILES[name]}
    if name == "print":
        options = site.get("print") or {}
        settings["bleed"] = options.get("bleed") or "3mm"
        settings["min_dpi"] = float(options.get("min_dpi") or 300)
        settings["colours"] = {
            key: "device-cmyk({})".format(" ".join(f"{v / 100:g}" for v in values))
            for key, values in (options.get("colours") or {}).items()}
    return settings


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    warnings: list[str] = field(default_factory=list)
    document: object = None  # the WeasyPrint Document, for checks that inspect its boxes


class _Collect(logging.Handler):
    """WeasyPrint's warnings, kept to be reported as problems rather than printed."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.logger = logging.getLogger("weasyprint")
        self.saved = self.logger.level, self.logger.propagate
        self.logger.addHandler(self)
        self.logger.setLevel(logging.WARNING)
        self.logger.propagate = False

    def emit(self, record):
        self.messages.append(record.getMessage())

    def release(self):
        self.logger.removeHandler(self)
        self.logger.level, self.logger.propagate = self.saved


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

    def __init__(self):
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self.image_cache: dict = {}
        # parsed stylesheets by content: (CSS, warnings, refusals) from their parsing
        self.sheets: dict[tuple, tuple] = {}

    def stylesheets(self, composed: Composed, policy: ResourcePolicy):
        """The document's stylesheets parsed once per process, and its HTML without them.

        A kit is rendered as dozens of parts with the same stylesheets; parsing
        them costs more than laying out a page.  The <style> and <link> elements
        are taken out and given to WeasyPrint, in the same order, as parsed
        :class:`weasyprint.CSS` objects kept by content.  They all move to the
        same cascade origin, so their precedence is unchanged.  For a document
        with any other kind of stylesheet element, None: WeasyPrint reads it.
        """
        from weasyprint import CSS

        from .resources import RefusedResource

        found = _SHEET.findall(composed.html)
        elements = re.findall(r"<style\b|<link\b[^>]*stylesheet", composed.html)
        if not found or len(elements) != len(found):
            return None
        sheets = []
        for _whole, style, link in found:
            if link:
                url = urljoin(composed.base_url, html_lib.unescape(link))
                if not url.startswith("file:"):
                    return None
                try:
                    policy.check_url(url)
                    text = file_of(url).read_text(encoding="utf-8")
                except (RefusedResource, OSError):
                    return None  # WeasyPrint reports it as it renders
                key = ("link", url, text)
            else:
                url, text = composed.base_url, style
                key = ("style", url, text)
            if key not in self.sheets or "@import" in text:  # an import may have changed
                if len(self.sheets) > 256:
                    self.sheets.clear()
                collect, refused = _Collect(), []
                try:
                    css = CSS(string=text, base_url=url, font_config=self.font_config,
                              url_fetcher=make_fetcher(policy, refused))
                finally:
                    collect.release()
                self.sheets[key] = (css, collect.messages, refused)
            sheets.append(self.sheets[key])
        return _SHEET.sub("", composed.html), sheets

    def render(self, composed: Composed, policy: ResourcePolicy, *, identifier: str,
               epoch: int, file: str, profile: dict | None = None,
               attachments=()) -> Rendered:
        from weasyprint import HTML
        from weasyprint import Attachment as WeasyAttachment

        profile = profile or profile_settings("screen", {})
        moment = dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(tzinfo=None)
        digest = hashlib.sha256(identifier.encode()).hexdigest()
        try:
            prepared = self.stylesheets(composed, policy)
        except Exception as exc:  # as below: reported, not raised raw
            raise RenderError(Problem(file, None, f"WeasyPrint could not read its stylesheets: "
                                                  f"{type(exc).__name__}: {exc}")) from exc
        html, sheets = prepared if prepared else (composed.html, [])
        refused = [message for _css, _messages, refusals in sheets for message in refusals]
        fetcher = make_fetcher(policy, refused)
        collect = _Collect()
        collect.messages.extend(m for _css, messages, _refusals in sheets for m in messages)
        try:
            options = {
                "stylesheets": [css for css, _messages, _refusals in sheets],
                "pdf_identifier": digest[:32].encode(),
                "pdf_variant": profile["pdf_variant"],
                "cache": self.image_cache,
                "attachments": [
                    WeasyAttachment(string=a.data, name=a.name, description=a.description,
                                    created=moment, modified=moment)
                    for a in attachments],
            }
            with _source_date(epoch):
                document = HTML(string=html, base_url=composed.base_url,
                                url_fetcher=fetcher).render(font_config=self.font_config,
                                                            **options)
                pdf = document.write_pdf(finisher=_finisher(digest), **options)
        except Exception as exc:  # WeasyPrint failures are reported, not raised raw
            raise RenderError(Problem(file, None, f"WeasyPrint could not render it: "
                                                  f"{type(exc).__name__}: {exc}")) from exc
        finally:
            collect.release()
        problems = [Problem(file, None, f"refused resource: {message}") for message in refused]
        if problems:
            raise RenderError(problems)
        warnings = collect.messages
        if profile.get("min_dpi"):
            warnings += low_resolution_images(document, profile["min_dpi"])
        return Rendered(pdf, len(document.pages), warnings, document)


def render(composed: Composed, policy: ResourcePolicy, **options) -> Rendered:
    """Render ``composed`` with the process's shared :class:`Renderer`."""
    return shared_renderer().render(composed, policy, **options)


_SHARED: Renderer | None = None


def shared_renderer() -> Renderer:
    """The process's one Renderer: one FontConfiguration and image cache for every build."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Renderer()
    return _SHARED


def _finisher(digest: str):
    """A stable XMP document id instead of a random one."""
    import pydyf

    stable = f"xmp.did:{uuid.UUID(digest[:32])}".encode()

    def finish(document, pdf):
        for obj in pdf.objects:
            if isinstance(obj, pydyf.Stream) and obj.extra.get("Type") == "/Metadata":
                obj.stream = [re.sub(rb"xmp\.did:[0-9a-f-]{36}", stable, bytes(chunk))
                              if isinstance(chunk, (bytes, bytearray)) else chunk
                              for chunk in obj.stream]

    return finish


def low_resolution_images(document, min_dpi: float) -> list[str]:
    """Raster images whose printed size gives fewer than ``min_dpi`` pixels per inch."""
    from weasyprint.images import RasterImage

    found = []

    def walk(box, page_number):
        image = getattr(box, "replacement", None)
        if isinstance(image, RasterImage) and box.width:
            dpi = image.width / (box.width / 96)  # CSS pixels are 1/96 inch
            if dpi < min_dpi - 0.5:
                src = box.element.get("src", "") if box.element is not None else ""
                name = "an embedded image" if src.startswith("data:") else src.rsplit("/", 1)[-1]
                found.append(f"image {name} on page {page_number} is {dpi:.0f} dpi at its "
                             f"printed size; print needs {min_dpi:.0f}: use a larger image "
                             "or print it smaller")
        for child in getattr(box, "children", []) or []:
            walk(child, page_number)

    for number, page in enumerate(document.pages, start=1):
        walk(page._page_box, number)
    return found
