"""Stage 4 — render: composed HTML to PDF bytes with WeasyPrint.

The state WeasyPrint keeps between documents belongs to one build (or one
``publisher watch`` session), never to the process: a :class:`RenderState`
holds the font configuration and the stylesheets parsed with it
(:class:`FontState`), and an image cache of its own.  A font state shared by
several builds is keyed by the content of the fonts and layouts it was made
from (see :class:`publisher.pipeline.Session`); the image cache, keyed by URL
inside WeasyPrint, never outlives its build.

Resources go through the project's
:class:`~publisher.inputs.resources.ResourcePolicy`; a refused resource, a
missing image or a CSS problem is reported, never silently dropped.  Two
profiles: ``screen`` (the default) is a tagged PDF identified as PDF/UA-1;
``print`` is PDF/X-4 with bleed, crop marks, TrimBox and BleedBox, brand
colours in CMYK, and a warning for raster images under the print resolution.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html as html_lib
import logging
import multiprocessing.util
import re
import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .compose import Composed
from .errors import Problem, RenderError, os_problem
from .inputs.profiles import Profile
from .inputs.resources import RefusedResource, ResourcePolicy, file_of, make_fetcher
from .pdf.press import press_ready
from .pdf.tagged import accessible, link_descriptions
from .pdf.weasy import page_box, raster_size, stable_document_id
from .text.ladders import ladders, unhyphenated

# the stylesheet elements that compose writes: <style> without attributes, <link> to CSS
_SHEET = re.compile(r'(<style>(.*?)</style>|<link rel="stylesheet" href="([^"]+)">)', re.S)


@dataclass
class Attachment:
    name: str
    data: bytes
    description: str


@dataclass(frozen=True)
class RenderJob:
    """How to render one document."""

    identifier: str  # the PDF's /ID and XMP id derive from it
    epoch: int  # timestamps
    file: str  # what problems point at
    profile: Profile
    attachments: tuple[Attachment, ...] = ()
    seconds: float = 0  # the most its layout may take (0: no limit)
    # a part of a kit is joined and compressed again by qpdf: WeasyPrint need not
    compress: bool = True


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    warnings: list[str] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)  # anchor → page index
    document: object = None  # the WeasyPrint Document, for checks that inspect its boxes


class FontState:
    """WeasyPrint's font configuration and the stylesheets parsed with it.

    A stylesheet's ``@font-face`` rules are registered in the configuration when
    it is parsed, so the two live and die together.
    """

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.config = FontConfiguration()
        # parsed stylesheets by content: (CSS, warnings, refusals) from their parsing
        self.sheets: dict[tuple, tuple] = {}
        # WeasyPrint copies the fonts of @font-face rules into a temporary folder
        # that it removes only when the configuration is garbage collected, which
        # never happens in a worker process (it ends with os._exit): removed when
        # this state goes, or when its process ends, whichever comes first
        multiprocessing.util.Finalize(self, _remove_font_folder, args=(self.config,),
                                      exitpriority=10)


def _remove_font_folder(config) -> None:
    folder = getattr(config, "_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        config._folder = None


class RenderState:
    """What one build keeps between its documents: fonts, stylesheets, images."""

    def __init__(self, policy: ResourcePolicy, fonts: FontState | None = None,
                 locate: Callable[[str], tuple[str, int] | None] | None = None):
        self.policy = policy
        self.fonts = fonts or FontState()
        self.locate = locate  # URL → (layout file, line) that refers to it
        self.images: dict = {}  # WeasyPrint's image cache (keyed by URL): this build's only
        self._policy_key = (tuple(policy.roots), tuple(sorted(policy.allowed_hosts)))

    def refusal(self, url: str, message: str, file: str) -> Problem:
        """A resource the policy refused, blamed on the layout line that asks for it
        when one does (else on the document)."""
        where = self.locate(url) if self.locate is not None else None
        shown, line = where if where else (file, None)
        return Problem(shown, line, f"refused resource: {self.policy.shown(message)}", code="P003")

    def stylesheets(self, composed: Composed):
        """The document's stylesheets parsed once, and its HTML without them.

        A kit is rendered as dozens of parts with the same stylesheets; parsing
        them costs more than laying out a page.  The <style> and <link> elements
        are taken out and given to WeasyPrint, in the same order, as parsed
        :class:`weasyprint.CSS` objects kept by content.  They all move to the
        same cascade origin, so their precedence is unchanged.  For a document
        with any other kind of stylesheet element, None: WeasyPrint reads it.
        """
        from weasyprint import CSS

        html = self.policy.virtual(composed.html)
        base_url = self.policy.virtual(composed.base_url)
        found = _SHEET.findall(html)
        elements = re.findall(r"<style\b|<link\b[^>]*stylesheet", html)
        if not found or len(elements) != len(found):
            return None
        sheets = []
        cache = self.fonts.sheets
        for _whole, style, link in found:
            if link:
                url = urljoin(base_url, html_lib.unescape(link))
                real = self.policy.real(url)
                if not real.startswith("file:"):
                    return None
                try:
                    text = self.policy.read_bytes(file_of(real), "settings").decode("utf-8")
                except (RefusedResource, OSError, UnicodeDecodeError):
                    return None  # WeasyPrint reports it as it renders
                key = ("link", url, text, self._policy_key)
            else:
                url, text = base_url, style
                key = ("style", url, text, self._policy_key)
            if key not in cache or "@import" in text:  # an import may have changed
                if len(cache) > 256:
                    cache.clear()
                collect = _Collect()
                refused: list[tuple[str, str]] = []
                try:
                    css = CSS(string=text, base_url=url, font_config=self.fonts.config,
                              url_fetcher=make_fetcher(self.policy, refused))
                finally:
                    collect.detach()
                cache[key] = (css, collect.messages, refused)
            sheets.append(cache[key])
        return _SHEET.sub("", html), sheets


class _Collect(logging.Filter):
    """WeasyPrint's messages during one render, kept to be reported as problems
    rather than printed: warnings (CSS it ignored…) in ``messages``, what it
    could not load (an image it could not read or decode…) in ``errors``.

    A filter on WeasyPrint's logger for the render's length: it takes the
    warnings and errors (which go no further) and lets the rest (its debug
    output) pass; the logger's level, handlers and propagation stay as the
    application set them."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.errors: list[str] = []
        self.logger = logging.getLogger("weasyprint")
        self.logger.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if isinstance(record.args, tuple):  # an exception without a message: its kind
            record.args = tuple(type(a).__name__ if isinstance(a, Exception) and not str(a)
                                else a for a in record.args)
        message = record.getMessage()
        # a resource it could not use (an image, a stylesheet, a font) costs the output;
        # the rest (an ignored CSS rule, what PDF/UA asks for) is a warning
        lost = record.levelno >= logging.ERROR and message.startswith("Failed to load")
        (self.errors if lost else self.messages).append(message)
        return False

    def detach(self):
        self.logger.removeFilter(self)


class _OutOfTime(BaseException):
    """Raised in a render that took too long (a BaseException, so that no
    ``except Exception`` inside WeasyPrint swallows it)."""


def _in_finaliser(frame) -> bool:
    """Whether ``frame`` runs in a garbage-collector callback or a ``__del__``, where
    Python reports an exception as unraisable and carries on."""
    import gc

    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` (in the main thread, where signals work)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        if _in_finaliser(frame):  # raised there, it would be lost: try again shortly
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            return
        signal.setitimer(signal.ITIMER_REAL, 0.5)  # and again, should something swallow it
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render(composed: Composed, job: RenderJob, state: RenderState) -> Rendered:
    """Render ``composed`` to PDF with the build's ``state``."""
    from weasyprint import HTML
    from weasyprint import Attachment as WeasyAttachment

    moment = dt.datetime.fromtimestamp(job.epoch, dt.timezone.utc).replace(tzinfo=None)
    digest = hashlib.sha256(job.identifier.encode()).hexdigest()
    try:
        prepared = state.stylesheets(composed)
    except OSError as exc:  # fonts are written to temporary files: a full disk
        raise RenderError(_disk_problem(exc)) from None
    except Exception as exc:  # as below: reported, not raised raw
        raise RenderError(Problem(job.file, None, f"WeasyPrint could not read its stylesheets: "
                                                  f"{type(exc).__name__}: {exc}",
                                                      code="P001")) from exc
    html, sheets = prepared if prepared else (state.policy.virtual(composed.html), [])
    refused = [message for _css, _messages, refusals in sheets for message in refusals]
    fetcher = make_fetcher(state.policy, refused)
    collect = _Collect()
    collect.messages.extend(m for _css, messages, _refusals in sheets for m in messages)
    try:
        options = {
            "stylesheets": [css for css, _messages, _refusals in sheets],
            "pdf_identifier": digest[:32].encode(),
            "pdf_variant": job.profile.pdf_variant,
            "uncompressed_pdf": not job.compress,
            "pdf_tags": True,  # the print edition is tagged too
            "cache": state.images,
            "attachments": [
                WeasyAttachment(string=a.data, name=a.name, description=a.description,
                                created=moment, modified=moment)
                for a in job.attachments],
        }
        with _time_limit(job.seconds):
            for attempt in range(3):  # no more than two hyphenated lines in a row
                document = HTML(string=html, base_url=state.policy.virtual(composed.base_url),
                                url_fetcher=fetcher).render(font_config=state.fonts.config,
                                                            **options)
                words = ladders(document) if attempt < 2 else []
                if not words:
                    break
                html = unhyphenated(html, words)
            stable_document_id(document, digest)
            pdf = accessible(document.write_pdf(**options), link_descriptions(html),
                             compress=job.compress)
            if job.profile.condition and job.profile.pdf_variant:  # a print edition
                pdf = press_ready(pdf, job.profile.condition)
    except _OutOfTime:
        raise RenderError(Problem(job.file, None, f"laying it out took more than "
                                                  f"{job.seconds:g} s, so it was stopped; "
                                                  "shorten it, or raise 'limits: "
                                                  "{render_seconds: …}' in site.yaml",
                                                      code="P002")) from None
    except OSError as exc:
        raise RenderError(_disk_problem(exc)) from None
    except Exception as exc:  # WeasyPrint failures are reported, not raised raw
        raise RenderError(Problem(job.file, None, f"WeasyPrint could not render it: "
                                                  f"{type(exc).__name__}: {exc}",
                                                      code="P001")) from exc
    finally:
        collect.detach()
        # a failed image is tried (and reported) again by the next document
        for url in [url for url, image in state.images.items() if image is None]:
            del state.images[url]
    problems = [state.refusal(url, message, job.file) for url, message in dict.fromkeys(refused)]
    problems += [_lost(state.policy.shown(message), job.file)
                 for message in dict.fromkeys(collect.errors)
                 if not (refused and "RefusedResource" in message)]  # said just above
    if problems:
        raise RenderError(problems)
    warnings = collect.messages
    if job.profile.min_dpi:
        warnings += low_resolution_images(document, job.profile.min_dpi)
    anchors: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            anchors.setdefault(anchor, index)
    return Rendered(pdf, len(document.pages), warnings, anchors, document)


def _disk_problem(exc: OSError) -> Problem:
    """WeasyPrint writes the fonts it uses to temporary files."""
    import tempfile

    return os_problem(exc, tempfile.gettempdir() + "/")


def _lost(message: str, file: str) -> Problem:
    """A resource WeasyPrint could not use, said about the resource when it is a
    file of the project (a broken logo is one problem, not one per document)."""
    match = re.match(r"Failed to load (image|stylesheet|font) at '([^':]+)': ?(.*)", message)
    if match is None:
        return Problem(file, None, message, code="P004")
    kind, name, reason = match.groups()
    return Problem(name, None, f"cannot be used as {'an' if kind == 'image' else 'a'} {kind} "
                               f"({reason or 'unreadable'}); open it to check it, or export "
                               "it again", code="P004")


def low_resolution_images(document, min_dpi: float) -> list[str]:
    """Raster images whose printed size gives fewer than ``min_dpi`` pixels per inch."""
    found = []

    def walk(box, page_number):
        pixels = raster_size(box)
        if pixels and box.width:
            dpi = pixels / (box.width / 96)  # CSS pixels are 1/96 inch
            if dpi < min_dpi - 0.5:
                src = box.element.get("src", "") if box.element is not None else ""
                name = "an embedded image" if src.startswith("data:") else src.rsplit("/", 1)[-1]
                found.append(f"image {name} on page {page_number} is {dpi:.0f} dpi at its "
                             f"printed size; print needs {min_dpi:.0f}: use a larger image "
                             "or print it smaller")
        for child in getattr(box, "children", []) or []:
            walk(child, page_number)

    for number, page in enumerate(document.pages, start=1):
        walk(page_box(page), number)
    return found
