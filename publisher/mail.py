"""The e-mail edition of an output, as a standard MIME message (``.eml``).

:func:`letter` turns the HTML a layout composed for e-mail (``*/email.html``)
and its plain-text part into a :class:`Letter`: images are PNG or JPEG
parts referenced by ``cid:`` (an SVG logo or image is rasterised), or
absolute links under site.yaml's ``email.assets_url``; the styles are
moved into the elements they were written for.  :func:`message` writes a
letter as a ``multipart/alternative`` message (text, then HTML with its
images in ``multipart/related``) and its attachments, with boundaries and
a ``Message-ID`` that depend only on the content, so that a rebuild gives
the same bytes.  :func:`for_recipient` addresses a built message to one
person without touching its body.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html as htmllib
import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from .inputs.resources import file_of

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_KEEP = re.compile(r"<style data-keep>(.*?)</style>", re.S)
_SRC = re.compile(r'src="(file://[^"]+)"')
_CID = re.compile(r'src="cid:([^"]+)"')
_SUBTYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}


@dataclass(frozen=True)
class Image:
    cid: str  # the Content-ID, without its angle brackets
    data: bytes
    subtype: str  # png, jpeg or gif
    width: int = 0  # pixels, when known
    height: int = 0


@dataclass(frozen=True)
class Attached:
    name: str
    data: bytes
    mime: str = "application/pdf"


@dataclass
class Letter:
    """Everything a message is made of, before it is written."""

    subject: str
    html: str  # images as cid: references
    text: str
    sender: str = ""  # "Name <address>", from site.yaml's email.from
    reply_to: str = ""
    date: dt.datetime | None = None
    message_id: str = ""  # <…@…>
    lang: str = ""
    images: list[Image] = field(default_factory=list)
    attachments: list[Attached] = field(default_factory=list)
    unsubscribe: list[str] = field(default_factory=list)  # https: and mailto: URIs

    @property
    def browsable_html(self) -> str:
        """The HTML with each ``cid:`` image as a ``data:`` URI, as a mail client
        shows it (the ``.html`` beside the ``.eml``)."""
        images = {image.cid: image for image in self.images}

        def inline(match):
            image = images.get(match[1])
            if image is None:
                return match[0]
            encoded = base64.b64encode(image.data).decode()
            return f'src="data:image/{image.subtype};base64,{encoded}"'

        return _CID.sub(inline, self.html)


class Images:
    """The images of one e-mail: absolute links under ``assets_url`` for the
    project's own images, ``cid:`` parts otherwise (SVG rasterised to PNG)."""

    def __init__(self, read, assets_url: str = "", sources_dir: str = "",
                 originals: dict[str, str] | None = None, rasterise=None):
        self.read = read  # file: URL → bytes, through the build's resource policy
        self.base = (assets_url or "").rstrip("/")
        self.sources_dir = sources_dir.rstrip("/") + "/" if sources_dir else ""
        self.originals = originals or {}
        self.rasterise = rasterise  # (svg bytes, width px) → png bytes
        self.parts: dict[str, Image] = {}

    def url_for(self, file_url: str, width: int = 0) -> str:
        source = self.originals.get(file_url, file_url)
        name = file_of(source).name
        is_svg = name.lower().endswith(".svg")
        if self.base and self.sources_dir and source.startswith(self.sources_dir) \
                and not is_svg:
            return f"{self.base}/{source[len(self.sources_dir):]}"
        return "cid:" + self.part(file_url, width).cid

    def part(self, file_url: str, width: int = 0) -> Image:
        data = self.read(file_url)
        name = file_of(file_url).name
        subtype: str | None
        if name.lower().endswith(".svg"):
            data, subtype = self.rasterise(data, width or 600), "png"
        else:
            subtype = _image_subtype(data)
            if subtype is None:  # webp, tiff…: as PNG, which every client shows
                data, subtype = _as_png(data), "png"
        digest = hashlib.sha256(data).hexdigest()[:16]
        cid = f"{digest}.{subtype}@publisher"
        if cid not in self.parts:
            width_px, height_px = _pixel_size(data)
            self.parts[cid] = Image(cid, data, subtype, width_px, height_px)
        return self.parts[cid]

    def rewrite(self, html: str) -> str:
        return _SRC.sub(lambda m: f'src="{self.url_for(m[1])}"', html)

    def logo(self, file_url: str, css_px: int) -> dict:
        """The logo for the e-mail's head: an ``<img>``'s src, width and height
        (drawn at twice its size, for sharp screens)."""
        image = self.part(file_url, css_px * 2)
        height = round(css_px * image.height / image.width) if image.width else css_px
        return {"src": "cid:" + image.cid, "width": css_px, "height": height}


def _image_subtype(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def _as_png(data: bytes) -> bytes:
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    with PILImage.open(io.BytesIO(data)) as image:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _pixel_size(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # an image Pillow cannot read is still sent, without its size
        return 0, 0


def inline_styles(html: str) -> str:
    """Each rule of the e-mail's first ``<style>`` moved into the elements it selects
    (css-inline); the ``<style data-keep>`` block (dark mode) stays in ``<head>``."""
    import css_inline

    kept = _KEEP.findall(html)
    html = _KEEP.sub("", html)
    inliner = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False,
                                    load_remote_stylesheets=False)
    html = inliner.inline(html)
    if kept:
        block = "".join(f"<style>{css}</style>" for css in kept)
        html = html.replace("</head>", block + "</head>", 1)
    return html


def subject_of(html: str) -> str:
    """The message's subject: the composed page's ``<title>``, on one line."""
    found = _TITLE.search(html)
    return " ".join(htmllib.unescape(found[1]).split()) if found else ""


def to_text(html: str) -> str:
    """A body's HTML as plain text: paragraphs, lists and tables kept readable,
    links spelled out (inscriptis)."""
    from inscriptis import get_text
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    config = ParserConfig(css=CSS_PROFILES["strict"], display_links=True,
                          display_anchors=False)
    text = get_text(html, config) if html.strip() else ""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    out: list[str] = []
    for line in lines:  # no more than one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


_MARKER = re.compile(r"(\s*)([*+•-] |\d+[.)] )?")


def wrap(text: str, width: int = 72) -> str:
    """Lines longer than ``width`` folded at spaces, list items hanging under their
    text; a word longer than the line (a link) is never cut."""
    import textwrap

    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        found = _MARKER.match(line)
        hang = " " * (len(found[1]) + len(found[2] or "")) if found else ""
        out.extend(textwrap.wrap(line, width, subsequent_indent=hang, break_long_words=False,
                                 break_on_hyphens=False, drop_whitespace=True)
                   or [line])
    return "\n".join(out)


def message_id(identifier: str, sender: str) -> str:
    """A ``Message-ID`` that names the output, the same at every rebuild."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "publisher.invalid"
    return f"<{hashlib.sha256(identifier.encode()).hexdigest()[:32]}@{domain}>"


def _address(text: str) -> str:
    name, address = parseaddr(text)
    return formataddr((name, address), charset="utf-8") if address else ""


def message(letter: Letter) -> bytes:
    """The letter as RFC 5322 bytes (CRLF line ends, RFC 2047 encoded words)."""
    mail = EmailMessage(policy=email_policy.SMTP)
    mail["Subject"] = " ".join(letter.subject.split())  # one line, whatever it was given
    if letter.sender:
        name, address = parseaddr(letter.sender)
        mail["From"] = Address(display_name=name, addr_spec=address)
    if letter.reply_to:
        name, address = parseaddr(letter.reply_to)
        mail["Reply-To"] = Address(display_name=name, addr_spec=address)
    if letter.date is not None:
        mail["Date"] = format_datetime(letter.date)
    if letter.message_id:
        mail["Message-ID"] = letter.message_id
    if letter.unsubscribe:
        mail["List-Unsubscribe"] = ", ".join(f"<{uri}>" for uri in letter.unsubscribe)
        if any(uri.startswith("https://") for uri in letter.unsubscribe):  # RFC 8058
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail["MIME-Version"] = "1.0"
    mail.set_content(letter.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    mail.add_alternative(letter.html, subtype="html", charset="utf-8",
                         cte="quoted-printable")
    if letter.images:
        html_part = list(mail.iter_parts())[1]  # the alternative just added
        assert isinstance(html_part, EmailMessage)
        for image in letter.images:
            html_part.add_related(image.data, maintype="image", subtype=image.subtype,
                                  cid=f"<{image.cid}>", disposition="inline",
                                  filename=image.cid.split("@")[0])
    for item in letter.attachments:
        maintype, subtype = item.mime.split("/")
        mail.add_attachment(item.data, maintype=maintype, subtype=subtype,
                            filename=item.name)
    if letter.lang:  # after the content: setting it would remove this header
        mail["Content-Language"] = letter.lang.replace("_", "-")
    _stable_boundaries(mail)
    return mail.as_bytes()


def _stable_boundaries(part, path: str = "") -> None:
    """Boundaries from the content, not chance: the same message, the same bytes."""
    if not part.is_multipart():
        return
    children = part.get_payload()
    for index, child in enumerate(children):
        _stable_boundaries(child, f"{path}.{index}")
    digest = hashlib.sha256(path.encode())
    for child in children:
        digest.update(child.as_bytes())
    part.set_boundary(f"=_{digest.hexdigest()[:28]}")


def browsable(data: bytes) -> str:
    """A built message's HTML part with its ``cid:`` images as ``data:`` URIs: the
    page a mail client shows."""
    from email import policy as policies
    from email.parser import BytesParser

    message = BytesParser(policy=policies.default).parsebytes(data)
    images = {part["Content-ID"].strip("<>"): part for part in message.walk()
              if part["Content-ID"]}
    body = message.get_body(("html",))
    if body is None:
        return ""

    def inline(match):
        part = images.get(match[1])
        if part is None:
            return match[0]
        encoded = base64.b64encode(part.get_content()).decode()
        return f'src="data:{part.get_content_type()};base64,{encoded}"'

    return _CID.sub(inline, body.get_content())


def for_recipient(data: bytes, name: str, address: str, message_id: str) -> bytes:
    """A built message addressed to one recipient: a ``To`` header and its own
    ``Message-ID``; the body's bytes stay as built.

    The two headers are written by :mod:`email.headerregistry` under the SMTP
    policy (SMTPUTF8 for an address whose local part is not ASCII): a name is
    encoded and folded, never written raw, and a value that holds a line break
    raises :class:`ValueError` rather than reach the server.
    """
    from email.headerregistry import Address

    local, _, domain = address.rpartition("@")
    utf8 = not local.isascii()
    policy = (email_policy.SMTPUTF8 if utf8 else email_policy.SMTP).clone(raise_on_defect=True)
    head = EmailMessage(policy=policy)
    head["To"] = Address(display_name=name, username=local, domain=domain)
    head["Message-ID"] = message_id
    block = head.as_bytes().removesuffix(b"\r\n\r\n")
    check_header_block(block)
    lines = data.partition(b"\r\n\r\n")
    kept = [line for line in _unfolded(lines[0])
            if not line.lower().startswith((b"to:", b"message-id:"))]
    return b"\r\n".join([block, *kept]) + lines[1] + lines[2]


def _unfolded(head: bytes) -> list[bytes]:
    """The header lines of ``head``, each with its continuation lines."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


def check_header_block(block: bytes) -> None:
    """Raise :class:`ValueError` unless ``block`` is header lines only: CRLF line
    ends, no bare CR or LF, no line over 998 octets, no blank line."""
    for line in block.split(b"\r\n"):
        if b"\r" in line or b"\n" in line:
            raise ValueError("a header holds a bare line break")
        if not line.strip():
            raise ValueError("a blank line inside the headers")
        if len(line) > 998:
            raise ValueError("a header line longer than 998 octets")


def recipient_message_id(built: bytes, address: str) -> str:
    """One recipient's copy's ``Message-ID``: the same for the same version and
    address, so that a copy sent again after an interruption is one message."""
    digest = hashlib.sha256(built + b"\0" + address.lower().encode()).hexdigest()[:32]
    found = re.search(rb"^Message-ID: <[^@>]+@([^>]+)>", built, re.M | re.I)
    domain = found[1].decode() if found else "publisher.invalid"
    return f"<{digest}@{domain}>"


_NUMBER = r"([0-9.]+)"


def svg_ratio(data: bytes) -> float:
    """Height ÷ width of an SVG drawing, from its viewBox or its width and height."""
    head = data[:4096].decode("utf-8", "replace")
    box = re.search(r'viewBox="\s*[-0-9.]+[\s,]+[-0-9.]+[\s,]+' + _NUMBER + r"[\s,]+" + _NUMBER,
                    head)
    if box and float(box[1]) > 0:
        return float(box[2]) / float(box[1])
    width = re.search(r'\swidth="' + _NUMBER, head)
    height = re.search(r'\sheight="' + _NUMBER, head)
    if width and height and float(width[1]) > 0:
        return float(height[1]) / float(width[1])
    return 1.0


def rasterise_svg(data: bytes, width: int, font_config=None) -> bytes:
    """An SVG drawing as a PNG ``width`` pixels wide on white (it then reads the
    same in a light and a dark client): drawn by WeasyPrint, rasterised by PDFium."""
    import io

    from weasyprint import HTML

    from .pdf.pdfium import opened

    height = max(1, round(width * svg_ratio(data)))
    source = base64.b64encode(data).decode()
    page = (f"<style>@page {{ size: {width}px {height}px; margin: 0 }} body {{ margin: 0 }}"
            f"img {{ display: block; width: {width}px; height: {height}px }}</style>"
            f'<img src="data:image/svg+xml;base64,{source}" alt="">')
    pdf = HTML(string=page).write_pdf(font_config=font_config)
    with opened(pdf) as document:
        bitmap = document[0].render(scale=96 / 72, fill_color=(255, 255, 255, 255))
        image = bitmap.to_pil().convert("RGB")
    if image.size != (width, height):
        image = image.resize((width, height))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
