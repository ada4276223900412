"""The e-mail editions as messages: each `.eml` parsed back with Python's own
`email` parser, as a mail client reads it."""

from __future__ import annotations

import base64
import datetime as dt
import re
from email import policy
from email.parser import BytesParser

import pytest
from conftest import SAMPLE_STEM

LANGS = ("fr", "en", "ru")
SUBJECTS = {"fr": "Lettre d\u2019information — juin 2018",
            "en": "Newsletter — June 2018",
            "ru": "Информационный бюллетень — июнь 2018 г."}
EMBARGO = "2018-06-15T10:00:00+02:00"


def _parse(path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def _head(path) -> str:
    return path.read_bytes().partition(b"\r\n\r\n")[0].decode("ascii")


def _browsable(message) -> str:
    """The HTML part with each cid: image replaced by its part as a data: URI, as
    a client shows it; fails when a reference has no part."""
    html = message.get_body(("html",))
    parts = {}
    for part in message.walk():
        if part.get("Content-ID"):
            parts[part["Content-ID"].strip("<>")] = part
    content = html.get_content()
    for cid in re.findall(r'src="cid:([^"]+)"', content):
        assert cid in parts, f"cid:{cid} has no part"

    def inline(match):
        part = parts[match[1]]
        data = base64.b64encode(part.get_content()).decode()
        return f'src="data:{part.get_content_type()};base64,{data}"'

    return re.sub(r'src="cid:([^"]+)"', inline, content)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").rstrip("\n").split("\n")


@pytest.mark.parametrize("lang", LANGS)
def test_newsletter_message_is_text_and_html_with_its_images_as_parts(sample_build, lang):
    project, _ = sample_build
    folder = project.root / "build/newsletters"
    message = _parse(folder / f"2018-06.{lang}.eml")
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert related.get_content_type() == "multipart/related"
    images = [p for p in related.iter_parts() if p.get_content_maintype() == "image"]
    assert images and all(p.get_content_type() in ("image/png", "image/jpeg") for p in images)
    # the HTML part, its images resolved, is the .html beside the message
    # (in the message, lines end in CRLF as MIME writes text)
    assert _lines(_browsable(message)) == \
        _lines((folder / f"2018-06.{lang}.html").read_text(encoding="utf-8"))
    assert _lines(plain.get_content()) == \
        _lines((folder / f"2018-06.{lang}.txt").read_text(encoding="utf-8"))
    assert "cid:" in message.get_body(("html",)).get_content()
    assert "image/svg" not in message.get_body(("html",)).get_content()


@pytest.mark.parametrize("lang", LANGS)
def test_headers_subject_sender_date_and_unsubscribe(sample_build, lang):
    project, _ = sample_build
    path = project.root / f"build/newsletters/2018-06.{lang}.eml"
    head = _head(path)  # 7-bit: non-ASCII only as RFC 2047 encoded words
    message = _parse(path)
    assert message["Subject"] == SUBJECTS[lang]
    if lang != "en":
        assert "=?utf-8?" in head.split("Subject:")[1].split("\r\nFrom:")[0]
    assert str(message["From"]) == "CNES Service de presse <presse@example.org>"
    assert message["Date"].datetime.date() == dt.date(2018, 6, 15)
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.org>", message["Message-ID"])
    assert message["List-Unsubscribe"] == "<mailto:presse+desabonnement@example.org>"
    assert message["List-Unsubscribe-Post"] is None  # one-click needs an https: address
    assert message["Content-Language"] == lang
    ids = {_parse(project.root / f"build/newsletters/2018-06.{other}.eml")["Message-ID"]
           for other in LANGS}
    assert len(ids) == 3


def test_release_message_carries_its_pdf(sample_build):
    project, _ = sample_build
    message = _parse(project.root / f"build/releases/{SAMPLE_STEM}.fr.eml")
    assert message.get_content_type() == "multipart/mixed"
    assert message["Subject"] == "Coopération spatiale entre la France et la Russie"
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == f"{SAMPLE_STEM}.fr.pdf"
    assert attached.get_content() == project.pdf(f"{SAMPLE_STEM}.fr").read_bytes()
    text = message.get_body(("plain",)).get_content()
    assert "Coopération spatiale".upper() in text.upper()
    assert "EMBARGO" not in text  # nothing about an embargo the release does not have
    _browsable(message)


def test_a_name_outside_ascii_is_encoded_in_the_headers(project):
    site = project.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8").replace(
        "from: CNES Service de presse <presse@example.org>",
        "from: Служба печати CNES <presse@example.org>\n  reply_to: Pascale Bresson "
        "<pascale.bresson@cnes.fr>\n  unsubscribe: [https://cnes.example/leave, "
        "'mailto:presse+desabonnement@example.org']").replace(
        "  unsubscribe: mailto:presse+desabonnement@example.org\n", ""), encoding="utf-8")
    result = project.build(project.release("ru"))
    assert result.ok, [str(p) for p in result.problems]
    path = project.root / f"build/releases/{SAMPLE_STEM}.ru.eml"
    head = _head(path)
    sender = head.split("\r\nFrom:")[1].split("\r\nDate:")[0]
    assert "=?utf-8?" in sender and head.isascii()
    message = _parse(path)
    assert message["From"].addresses[0].display_name == "Служба печати CNES"
    assert str(message["Reply-To"]) == "Pascale Bresson <pascale.bresson@cnes.fr>"
    assert message["List-Unsubscribe"].strip() == \
        "<https://cnes.example/leave>, <mailto:presse+desabonnement@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058


def test_rebuilding_gives_the_same_bytes(sample_build, project):
    built, _ = sample_build
    result = project.build(project.release("fr"))
    assert result.ok
    name = f"build/releases/{SAMPLE_STEM}.fr.eml"
    assert (project.root / name).read_bytes() == (built.root / name).read_bytes()


@pytest.mark.parametrize(("lang", "line"), [
    ("fr", "SOUS EMBARGO JUSQU\u2019AU 15 juin 2018, 10:00 (UTC+02:00)"),
    ("en", "EMBARGOED UNTIL June 15, 2018, 10:00\u202fAM (GMT+02:00)"),
])
def test_an_embargoed_release_says_so_first_in_its_language_and_time_zone(project, lang, line):
    source = project.release(lang)
    source.write_text(source.read_text(encoding="utf-8").replace(
        "\n---\n", f"\nembargo: {EMBARGO}\n---\n", 1), encoding="utf-8")
    before = dt.datetime(2018, 6, 15, 6, 0, tzinfo=dt.timezone.utc)
    result = project.build(source, as_of=before)
    assert result.ok, [str(p) for p in result.problems]
    path = project.root / f"build/releases/{SAMPLE_STEM}.{lang}.eml"
    message = _parse(path)
    assert " ".join(message["Subject"].split()).startswith(" ".join(line.split()) + " — ")
    text = message.get_body(("plain",)).get_content()
    assert text.splitlines()[0] == line
    html = message.get_body(("html",)).get_content()
    assert re.search(r'<p class="embargo"[^>]*>' + re.escape(line) + "</p>", html)
    # once it has lifted, the same release says nothing of it
    after = dt.datetime(2018, 6, 15, 9, 0, tzinfo=dt.timezone.utc)
    assert project.build(source, as_of=after).ok
    assert _parse(path)["Subject"] == _parse(path)["Subject"].replace("EMBARGO", "")
