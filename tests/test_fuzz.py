"""A property-based fuzzer over release sources (``make fuzz``; CI runs it).

Each example is the French sample release mutated one way (its bytes, the
characters it holds, its encoding, its YAML, its tables, its Markdown) and
built on its own.  Whatever it holds, the build must end with either a PDF
that qpdf accepts or problems that name their file: never an exception,
never an "internal error".  Each render is bounded by the product's own time
limit (``limits: {render_seconds: …}``), so an input that would hang fails as
a problem instead.

In CI the examples are drawn from a fixed seed (``--hypothesis-profile=ci``,
the default), so a red run names an input that stays red; ``make fuzz
FUZZ_PROFILE=explore`` draws a thousand new ones per kind.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from conftest import REPO, SAMPLE_STEM, ProjectDir, french_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

# the deadline is a bound per case (the 10 s), far above the usual second
settings.register_profile("ci", max_examples=35, derandomize=True,
                          deadline=timedelta(seconds=10),
                          database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("explore", parent=settings.get_profile("ci"), max_examples=1000,
                          derandomize=False)
settings.load_profile(os.environ.get("FUZZ_PROFILE", "ci"))

SAMPLE = (REPO / f"sources/releases/2018/{SAMPLE_STEM}.fr.md").read_bytes()
TARGET = "sources/releases/2018/2018-06-16-fuzz.fr.md"


class Fuzzed:
    """A French-only copy of the sample project and a warm session to build in."""

    def __init__(self, root):
        from publisher.pipeline import Session

        self.root = root
        self.session = Session()

    def build(self, data: bytes):
        from publisher.pipeline import build

        path = self.root / TARGET
        path.write_bytes(data)
        return build(self.root, [path], jobs=1, session=self.session)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> Fuzzed:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(REPO / "sources", root / "sources")
    french_only(ProjectDir(root))
    site = root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "limits:\n  render_seconds: 10\n",
                    encoding="utf-8")
    return Fuzzed(root)


def _holds(fuzzed: Fuzzed, data: bytes) -> None:
    from email import policy
    from email.parser import BytesParser

    import pikepdf

    result = fuzzed.build(data)
    for problem in result.problems:
        assert problem.file, problem
        assert "internal error" not in problem.message, str(problem)
        assert "Traceback" not in problem.message, str(problem)
        assert "\n" not in str(problem), str(problem)
    if result.outputs:
        for output in result.outputs:
            if output.path.suffix == ".eml":  # the message: parses back, its PDF attached
                message = BytesParser(policy=policy.default).parsebytes(
                    output.path.read_bytes())
                assert message.get_body(("html",)) and message.get_body(("plain",))
                assert [a.get_content_type() for a in message.iter_attachments()] == \
                    ["application/pdf"], output.path
                continue
            with pikepdf.open(output.path) as pdf:
                assert pdf.check_pdf_syntax() == [], output.path
    else:
        assert result.errors, "no output and no error"


def _splice(data: bytes, at: int, insert: bytes, remove: int = 0) -> bytes:
    at = min(at, len(data))
    return data[:at] + insert + data[at + remove:]


# --- the kinds of mutation ------------------------------------------------------------------

positions = st.integers(min_value=0, max_value=len(SAMPLE))


@given(st.lists(st.tuples(positions, st.binary(max_size=4), st.integers(0, 4)),
                min_size=1, max_size=6))
def test_bytes(fuzzed, edits):
    data = SAMPLE
    for at, insert, remove in edits:
        data = _splice(data, at, insert, remove)
    _holds(fuzzed, data)


SPECIAL = ["\x00", "\x05", "\x1b", "\x7f", "\x85", "\u200b", "\u200e", "\u202e", "\u2066",
           "\ufeff", "\ufffd", "\ufffe", "\uffff", "\U0001F680", "e\u0301", "\u00a0", "\r",
           "\t", "\u2028", "#", ":", "---", "[", "{", "*", "&a", "|", "\\", "<script>", "`"]


@given(st.lists(st.tuples(positions, st.sampled_from(SPECIAL)), min_size=1, max_size=5))
def test_characters(fuzzed, edits):
    text = SAMPLE.decode("utf-8")
    for at, char in sorted(edits, reverse=True):
        at = min(at, len(text))
        text = text[:at] + char + text[at:]
    _holds(fuzzed, text.encode("utf-8", "surrogatepass"))


@given(st.sampled_from(["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-32", "utf-8-sig",
                        "mac-roman"]), st.integers(0, len(SAMPLE)))
def test_encodings(fuzzed, encoding, cut):
    text = SAMPLE.decode("utf-8")
    data = text.encode(encoding, "replace")
    _holds(fuzzed, data[:cut] if cut % 3 == 0 else data)


FRONT_END = SAMPLE.index(b"\n---", 4)
YAML_VALUES = ["", "~", "[", "]", "{", "}", "[a, b", "{a: b}", "- x", "&x 1", "*x", "!!binary AA",
               "!!python/object:os.system x", "'", '"', "1e400", "-0", "0x1F", "2018-02-30",
               "2018-06-15T25:00:00+02:00", "yes", "null", "|", ">", "? x", "%YAML 1.1",
               "@", "`", "a: b: c", "[" * 60 + "]" * 60, "x" * 6000]
KEYS = ["title", "subtitle", "date", "lang", "dateline", "contacts", "tags", "embargo",
        "figures", "layout", "translated_from", "titel", "<<", "? complex"]


@given(st.lists(st.tuples(st.sampled_from(["set", "delete", "duplicate", "indent"]),
                          st.sampled_from(KEYS), st.sampled_from(YAML_VALUES),
                          st.integers(0, 12)), min_size=1, max_size=4))
def test_yaml_structure(fuzzed, edits):
    text = SAMPLE.decode("utf-8")
    front, body = text[4:FRONT_END], text[FRONT_END:]
    lines = front.splitlines()
    for kind, key, value, index in edits:
        index = index % (len(lines) or 1)
        if kind == "set":
            lines.insert(index, f"{key}: {value}")
        elif kind == "delete" and lines:
            lines.pop(index)
        elif kind == "duplicate" and lines:
            lines.insert(index, lines[index])
        elif kind == "indent" and lines:
            lines[index] = "  " * (index % 3 + 1) + lines[index]
    _holds(fuzzed, ("---\n" + "\n".join(lines) + body).encode("utf-8"))


@given(st.integers(1, 12), st.integers(0, 40), st.integers(0, 400), st.booleans(),
       st.integers(0, 12_000))
def test_long_tables(fuzzed, columns, rows, words, separated, tail):
    header = "| " + " | ".join(f"c{i}" for i in range(columns)) + " |\n"
    rule = "|" + "---|" * columns + "\n"
    cell = " ".join(["mot"] * words)
    table = header + rule + "".join("| " + " | ".join([cell] * columns) + " |\n"
                                    for _ in range(rows))
    after = ("\n" if separated else "") + ("texte " * (tail // 6))
    _holds(fuzzed, SAMPLE + b"\n\n" + (table + after + "\n").encode("utf-8"))


BLOCKS = ["> ", "- ", "1. ", "    ", "# ", "***", "[^1]", "[^1]: note", "![](x.png)",
          "![alt](../../images/cnes-mark.svg)", "[a](#top)", "[a](mailto:x@y.fr)",
          "[a](tel:+33100000000)", "<https://cnes.fr>", "`code`", "**gras**", "_", "~~~",
          "| a |\n|---|", "\\", "&amp;", "&#0;", "&#x202e;", "[a]: javascript:x", "[a]"]


@given(st.lists(st.tuples(st.sampled_from(BLOCKS), st.integers(1, 30)), min_size=1,
                max_size=8))
def test_markdown(fuzzed, pieces):
    body = "\n".join(block * repeat for block, repeat in pieces)
    _holds(fuzzed, SAMPLE + b"\n\n" + body.encode("utf-8") + b"\n")


# --- what reaches a mail server's headers -------------------------------------------------

NAME_CHARACTERS = st.sampled_from(list("Jean-Yves Le Gall, Ирина 王 ()<>\"';:@\\") + [
    "\n", "\r", "\r\n", "\r\n\r\n", "\t", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028",
    "\u2029", "\u202e", "\u2066", "\u200f", "=?utf-8?q?x?=", "Bcc: spy@evil.example"])
LOCAL = st.lists(st.sampled_from(list("abcXYZ019._%+-'!#$&*/=?^`{|}~") + [
    "..", ".", "\"", "(", ")", " ", "ü", "王", "\\", ",", "<", ">", "@", "\n"]),
    min_size=0, max_size=12).map("".join)
LABEL = st.lists(st.sampled_from(list("abcz019-") + ["ü", "王", "_", " ", "xn--", ""]),
                 min_size=0, max_size=10).map("".join)
DOMAIN = st.one_of(st.lists(LABEL, min_size=1, max_size=4).map(".".join),
                   st.sampled_from(["example.org", "EXAMPLE.ORG", "bücher.example",
                                    "[127.0.0.1]", "localhost", "a..org", "-host-.org",
                                    "example.org.", "x" * 64 + ".org"]))
ADDRESSES = st.one_of(st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN),
                      st.text(max_size=20))


def _message(subject: str) -> bytes:
    from publisher.mail import Letter, message

    return message(Letter(subject=subject, html="<p>x</p>", text="x",
                          sender="Press office <press@example.org>",
                          message_id="<a@example.org>"))


def _headers_hold(data: bytes, allowed: set[str]) -> None:
    from email import policy
    from email.parser import BytesParser

    from publisher.mail import check_header_block

    head, sep, _body = data.partition(b"\r\n\r\n")
    assert sep
    check_header_block(head)
    names = {line.split(b":", 1)[0].decode().lower() for line in head.split(b"\r\n")
             if line[:1] not in (b" ", b"\t")}
    assert names <= allowed, names
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    assert parsed.get_content_maintype() == "multipart"


@given(st.lists(st.tuples(st.lists(NAME_CHARACTERS, max_size=30).map("".join), ADDRESSES),
                min_size=1, max_size=6))
def test_recipients_never_change_a_message_s_headers(tmp_path_factory, rows):
    import yaml

    from publisher.inputs.addresses import read_address
    from publisher.inputs.recipients import read_recipients
    from publisher.inputs.resources import ResourcePolicy
    from publisher.mail import for_recipient

    root = tmp_path_factory.mktemp("press-list")
    path = root / "recipients.yaml"
    path.write_text(yaml.safe_dump({"recipients": [{"name": n, "email": a} for n, a in rows]},
                                   allow_unicode=True), encoding="utf-8")
    people, problems = read_recipients(path, root, ResourcePolicy([root]))
    for problem in problems:
        assert problem.file == "recipients.yaml" and problem.line, problem
        assert "\n" not in str(problem), str(problem)
    built = _message("Communiqué")
    allowed = {"to", "message-id", "subject", "from", "date", "mime-version", "content-type"}
    for person in people:
        assert read_address(person.email).address == person.email
        data = for_recipient(built, person.name, person.envelope, "<b@example.org>")
        _headers_hold(data, allowed)


@given(st.lists(NAME_CHARACTERS, min_size=1, max_size=40).map("".join))
def test_titles_never_change_a_message_s_headers(title):
    from publisher.inputs.schema import Invalid, text
    from publisher.inputs.yamlfile import Located

    try:
        subject = text(title, Located({}, "x.md"), ("title",))
    except Invalid:
        return  # refused at its line, as a title
    _headers_hold(_message(subject), {"subject", "from", "message-id", "mime-version",
                                      "content-type"})
