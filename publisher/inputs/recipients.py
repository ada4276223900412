"""The people ``publisher send`` writes to: ``sources/recipients.yaml``, or the
``recipients.csv`` a CRM exports, beside it.

Each row gives an ``email`` and may give a ``name``, the languages the person
reads (``lang``, in order of preference), the ``lists`` (or beats) they are on
and ``embargo_ok`` for a journalist who accepts material under embargo.  A row
that cannot be used is reported with its file and line and left out; the
others are read.  A press list comes from a CRM export, so nothing in it is
trusted: addresses are validated (:mod:`.addresses`), a name that could change
a message's headers is refused, a CSV's broken quoting, NUL bytes and
oversized cells are reported at their line and column, and a YAML list's
aliases are bounded before they are expanded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, display_path
from .addresses import BadAddress, Mailbox, mailbox_key, name_problem, read_address
from .resources import RefusedResource, ResourcePolicy
from .yamlfile import YamlSyntaxError, parse_yaml

FIELDS = ("name", "email", "lang", "lists", "embargo_ok")
_ALIASES = {"langs": "lang", "language": "lang", "languages": "lang", "beats": "lists",
            "list": "lists", "e-mail": "email", "mail": "email"}
_SPLIT = re.compile(r"[;,\s]+")
_TRUE = {"true", "yes", "y", "1", "x", "oui"}
_FALSE = {"false", "no", "n", "0", "", "non"}


@dataclass(frozen=True)
class Recipient:
    email: str  # normalised (see publisher.inputs.addresses)
    name: str = ""
    langs: tuple[str, ...] = ()  # in order of preference; none: the site's language
    lists: tuple[str, ...] = ()
    embargo_ok: bool = False
    file: str = ""
    line: int | None = None

    @property
    def mailbox(self) -> Mailbox:
        """The address as the server is given it (:mod:`.addresses`)."""
        try:
            return read_address(self.email)
        except BadAddress:  # made by hand, not read: as it is
            return Mailbox(self.email, self.email, not self.email.isascii())

    @property
    def envelope(self) -> str:
        return self.mailbox.envelope

    @property
    def smtputf8(self) -> bool:
        """Only a server that offers SMTPUTF8 can take this address."""
        return self.mailbox.smtputf8


def recipients_file(root: Path, configured: str) -> Path:
    """The recipients file: the YAML one, else the CSV one beside it."""
    path = root / configured
    if not path.exists() and path.suffix in (".yaml", ".yml"):
        csv_path = path.with_suffix(".csv")
        if csv_path.exists():
            return csv_path
    return path


def read_recipients(path: Path, root: Path, policy: ResourcePolicy,
                    limits: dict | None = None) -> tuple[list[Recipient], list[Problem]]:
    """Every usable row of ``path``, and a problem for each row left out."""
    shown = display_path(path, root)
    if not path.exists():
        return [], [Problem(shown, None, "no recipients file; write one row per person "
                                         "(email, name, lang, lists, embargo_ok) in "
                                         f"{shown} or a .csv beside it", code="M001")]
    try:
        data = policy.read_bytes(path, "file", shown)
    except (RefusedResource, OSError) as exc:
        return [], [Problem(shown, None, f"cannot read the recipients: {exc}", code="M001")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem(shown, None, "not UTF-8 text; export the list as UTF-8", code="M001")]
    rows = _csv_rows(text, shown) if path.suffix.lower() == ".csv" else \
        _yaml_rows(text, shown, limits)
    recipients: list[Recipient] = []
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    for row, line in rows:
        if isinstance(row, Problem):
            problems.append(row)
            continue
        assert isinstance(row, dict)  # a row is a problem or its fields
        recipient, found = _recipient(row, shown, line)
        problems += found
        if recipient is None:
            continue
        key = mailbox_key(recipient.email)
        if key in seen:
            problems.append(Problem(shown, line, f"{recipient.email} is already on line "
                                                 f"{seen[key]}; this row is left out",
                                    severity="warning", code="M003"))
            continue
        seen[key] = line
        recipients.append(recipient)
    return recipients, problems


def _yaml_rows(text: str, shown: str, limits: dict | None) -> list[tuple[object, int | None]]:
    # a press list is long: its own rows are not bounded by the limits of a
    # release's front matter, only by the size of the file; what its aliases
    # expand to is (a list that is an alias bomb is refused before it grows)
    limits = dict(limits or {}, list_items=1_000_000)
    try:
        located = parse_yaml(text, shown, limits=limits, document_nodes=2_000_000)
    except YamlSyntaxError as exc:
        return [(exc.problem, None)]
    rows = located.data.get("recipients") if isinstance(located.data, dict) else located.data
    prefix = ("recipients",) if isinstance(located.data, dict) else ()
    if not isinstance(rows, list):
        return [(Problem(shown, located.line(), "expected a list of recipients, one per "
                                                "'- email: …' entry", code="M001"), None)]
    out: list[tuple[object, int | None]] = []
    for index, row in enumerate(rows):
        line = located.line(*prefix, index)
        if not isinstance(row, dict):
            out.append((Problem(shown, line, "expected a recipient (email: …, name: …); "
                                             "this row is left out", code="M002"), line))
            continue
        out.append(({key: (value, located.line(*prefix, index, key))
                     for key, value in row.items()}, line))
    return out


def _csv_rows(text: str, shown: str):
    """The rows of a CSV export, each with the line it starts on; a row that
    cannot be read (a NUL byte, broken quoting, a cell past the reader's limit)
    is one problem at its line and column, and the rows after it are read."""
    try:
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=True)
    flaws = _csv_flaws(text, delimiter) if "\0" in text or '"' in text else {}
    out: list = []
    header = None
    line = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            if not any(start <= at[0] <= line for at in flaws):
                out.append((Problem(shown, start, f"this row cannot be read as CSV ({exc}); "
                                                  "it is left out", code="M004"), start))
            continue
        line = reader.line_num
        if any(start <= at[0] <= line for at in flaws):
            continue  # reported below, once each
        if header is None:
            header = cells
            continue
        if any(cell.strip() for cell in cells):
            out.append((cells, start))
    problems = [(Problem(shown, at[0], message, col=at[1], code="M004"), at[0])
                for at, message in sorted(flaws.items())]
    if header is None:
        return problems
    names = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    if "email" not in names:
        return [(Problem(shown, 1, "the first line names no 'email' column; give the "
                                   "columns as name,email,lang,lists,embargo_ok", code="M001"), 1)]
    rows = [(item if isinstance(item[0], Problem) else
             ({name: (cell, item[1]) for name, cell in zip(names, item[0], strict=False)
               if name}, item[1])) for item in out]
    return sorted(problems + rows, key=lambda item: item[1] or 0)


def _csv_flaws(text: str, delimiter: str) -> dict[tuple[int, int], str]:
    """(line, column) → what is wrong there: a NUL byte, text after a cell's closing
    quote, a quote that is never closed."""
    flaws: dict[tuple[int, int], str] = {}
    line, col = 1, 0
    quoted = closed = False
    opened, opened_at = (0, 0), 0
    start = True  # at the start of a cell
    for index, char in enumerate(text):
        col += 1
        if char == "\0":
            flaws.setdefault((line, col), "a NUL byte (U+0000): the export is damaged or "
                                          "not UTF-8 text; export the list again as UTF-8 "
                                          "CSV; this row is left out")
        if quoted:
            if char == '"':
                quoted, closed = False, True
            elif char == "\n":
                line, col = line + 1, 0
            continue
        if closed:
            closed = False
            if char == '"':  # a doubled quote inside the cell
                quoted = True
                continue
            if char not in (delimiter, "\r", "\n"):
                flaws.setdefault((line, col), f"{char!r} after the closing quote of a cell; "
                                              "inside a quoted cell, write a quote twice "
                                              "(\"\"); this row is left out")
        if char == '"' and start:
            quoted, opened, opened_at, start = True, (line, col), index, False
        elif char == "\n":
            line, col, start = line + 1, 0, True
        elif char == delimiter:
            start = True
        elif char != "\r":
            start = False
    if quoted:
        after = len(text[opened_at:].splitlines()) - 1
        flaws[opened] = (f"this quote opens a cell that is never closed, so the {after} "
                         f"line{'s' if after != 1 else ''} after it would be read as part of "
                         "it; close the quote; this row and those after it are left out")
    return flaws


def _recipient(row: dict, shown: str, line: int | None):
    from ..inputs.schema import suggest

    problems: list[Problem] = []
    values: dict[str, object] = {}
    for key, (value, at) in row.items():
        name = _ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        if name not in FIELDS:
            hint = suggest(name, FIELDS) or "the fields are " + ", ".join(FIELDS)
            problems.append(Problem(shown, at, f"unknown field '{key}' ignored; {hint}",
                                    severity="warning", code="M003"))
            continue
        values[name] = value
    address = values.get("email")
    address = address.strip() if isinstance(address, str) else ""
    if not address:
        return None, problems + [Problem(shown, line, "this row has no email; it is left out",
            code="M002")]
    at = row.get("email", (0, line))[1]
    try:
        address = read_address(address).address
    except BadAddress as exc:
        return None, problems + [Problem(shown, at, f"{_quoted(address)} is not an e-mail "
                                                    f"address ({exc}); this row is left out",
                                                        code="M002")]
    langs = []
    for code in _items(values.get("lang")):
        known = _language(code)
        if known is None:
            return None, problems + [Problem(
                shown, row.get("lang", (0, line))[1], f"unknown language '{code}' for "
                f"{address}; use codes such as fr, en or pt_BR; this row is left out", code="M002")]
        langs.append(known)
    embargo_ok = values.get("embargo_ok", False)
    if isinstance(embargo_ok, str):
        flag = embargo_ok.strip().lower()
        embargo_ok = True if flag in _TRUE else False if flag in _FALSE else None
    if not isinstance(embargo_ok, bool):
        return None, problems + [Problem(
            shown, row.get("embargo_ok", (0, line))[1], f"embargo_ok for {address} must be "
            "true or false; this row is left out", code="M002")]
    given = values.get("name")
    name = str(given).strip() if given else ""
    reason = name_problem(name)
    if reason:
        return None, problems + [Problem(shown, row.get("name", (0, line))[1],
                                         f"{reason}; the row of {address} is left out",
                                             code="M002")]
    return Recipient(email=address, name=name,
                     langs=tuple(langs), lists=tuple(_items(values.get("lists"))),
                     embargo_ok=embargo_ok, file=shown, line=line), problems


def _quoted(text: str) -> str:
    """``text`` in quotes for a message, control characters escaped, cut when long."""
    shown = repr(text[:80] + ("…" if len(text) > 80 else ""))
    return shown


def _items(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item for item in _SPLIT.split(str(value)) if item]


def _language(code: str) -> str | None:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return None
