"""The people ``publisher send`` writes to: ``sources/recipients.yaml``, or the
``recipients.csv`` a CRM exports, beside it.

Each row gives an ``email`` and may give a ``name``, the languages the person
reads (``lang``, in order of preference), the ``lists`` (or beats) they are on
and ``embargo_ok`` for a journalist who accepts material under embargo.  A row
that cannot be used is reported with its file and line and left out; the
others are read.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, display_path
from .resources import RefusedResource, ResourcePolicy
from .yamlfile import YamlSyntaxError, parse_yaml

FIELDS = ("name", "email", "lang", "lists", "embargo_ok")
_ALIASES = {"langs": "lang", "language": "lang", "languages": "lang", "beats": "lists",
            "list": "lists", "e-mail": "email", "mail": "email"}
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
_SPLIT = re.compile(r"[;,\s]+")
_TRUE = {"true", "yes", "y", "1", "x", "oui"}
_FALSE = {"false", "no", "n", "0", "", "non"}


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str = ""
    langs: tuple[str, ...] = ()  # in order of preference; none: the site's language
    lists: tuple[str, ...] = ()
    embargo_ok: bool = False
    file: str = ""
    line: int | None = None


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
                                         f"{shown} or a .csv beside it")]
    try:
        data = policy.read_bytes(path, "file", shown)
    except (RefusedResource, OSError) as exc:
        return [], [Problem(shown, None, f"cannot read the recipients: {exc}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem(shown, None, "not UTF-8 text; export the list as UTF-8")]
    rows = _csv_rows(text, shown) if path.suffix.lower() == ".csv" else \
        _yaml_rows(text, shown, limits)
    recipients: list[Recipient] = []
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    for row, line in rows:
        if isinstance(row, Problem):
            problems.append(row)
            continue
        recipient, found = _recipient(row, shown, line)
        problems += found
        if recipient is None:
            continue
        key = recipient.email.lower()
        if key in seen:
            problems.append(Problem(shown, line, f"{recipient.email} is already on line "
                                                 f"{seen[key]}; this row is left out",
                                    severity="warning"))
            continue
        seen[key] = line
        recipients.append(recipient)
    return recipients, problems


def _yaml_rows(text: str, shown: str, limits: dict | None):
    # a press list is long: its rows are not bounded by the limits of a release's
    # front matter, only by the size of the file
    limits = dict(limits or {}, yaml_nodes=2_000_000, list_items=1_000_000)
    try:
        located = parse_yaml(text, shown, limits=limits)
    except YamlSyntaxError as exc:
        return [(exc.problem, None)]
    rows = located.data.get("recipients") if isinstance(located.data, dict) else located.data
    prefix = ("recipients",) if isinstance(located.data, dict) else ()
    if not isinstance(rows, list):
        return [(Problem(shown, located.line(), "expected a list of recipients, one per "
                                                "'- email: …' entry"), None)]
    out = []
    for index, row in enumerate(rows):
        line = located.line(*prefix, index)
        if not isinstance(row, dict):
            out.append((Problem(shown, line, "expected a recipient (email: …, name: …); "
                                             "this row is left out"), line))
            continue
        out.append(({key: (value, located.line(*prefix, index, key))
                     for key, value in row.items()}, line))
    return out


def _csv_rows(text: str, shown: str):
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        return []
    names = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    if "email" not in names:
        return [(Problem(shown, 1, "the first line names no 'email' column; give the "
                                   "columns as name,email,lang,lists,embargo_ok"), 1)]
    out = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        row = {name: (cell, start) for name, cell in zip(names, cells, strict=False) if name}
        out.append((row, start))
    return out


def _recipient(row: dict, shown: str, line: int | None):
    from ..inputs.schema import suggest

    problems: list[Problem] = []
    values: dict[str, object] = {}
    for key, (value, at) in row.items():
        name = _ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        if name not in FIELDS:
            hint = suggest(name, FIELDS) or "the fields are " + ", ".join(FIELDS)
            problems.append(Problem(shown, at, f"unknown field '{key}' ignored; {hint}",
                                    severity="warning"))
            continue
        values[name] = value
    address = values.get("email")
    address = address.strip() if isinstance(address, str) else ""
    if not address:
        return None, problems + [Problem(shown, line, "this row has no email; it is left out")]
    if not _ADDRESS.fullmatch(address):
        return None, problems + [Problem(shown, row.get("email", (0, line))[1],
                                         f"{address!r} is not an e-mail address; this row "
                                         "is left out")]
    langs = []
    for code in _items(values.get("lang")):
        known = _language(code)
        if known is None:
            return None, problems + [Problem(
                shown, row.get("lang", (0, line))[1], f"unknown language '{code}' for "
                f"{address}; use codes such as fr, en or pt_BR; this row is left out")]
        langs.append(known)
    embargo_ok = values.get("embargo_ok", False)
    if isinstance(embargo_ok, str):
        flag = embargo_ok.strip().lower()
        embargo_ok = True if flag in _TRUE else False if flag in _FALSE else None
    if not isinstance(embargo_ok, bool):
        return None, problems + [Problem(
            shown, row.get("embargo_ok", (0, line))[1], f"embargo_ok for {address} must be "
            "true or false; this row is left out")]
    name = values.get("name")
    return Recipient(email=address, name=str(name).strip() if name else "",
                     langs=tuple(langs), lists=tuple(_items(values.get("lists"))),
                     embargo_ok=embargo_ok, file=shown, line=line), problems


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
