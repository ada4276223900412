"""One typed schema for site.yaml, contacts.yaml and release front matter.

Each field carries its type (a checker that converts the YAML value or raises
:class:`Invalid`), whether it is required, its default and a docstring.  The
:func:`validate` function collects every problem with its YAML line instead of
stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..defaults import DEFAULTS, PROFILES
from ..defaults import limits as merged_limits
from ..errors import Problem
from .characters import CONTROL, bidi_message, codepoint
from .moments import FIRST_YEAR
from .yamlfile import Located


class Invalid(Exception):
    """A value does not fit its field; the message says how to fix it."""

    def __init__(self, message: str, path: tuple = ()):
        self.message = message
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class Field:
    name: str
    check: Callable[[object, Located, tuple], object]
    doc: str
    required: bool = False
    default: object = None


# --- checkers --------------------------------------------------------------


def limit(located: Located, name: str) -> int:
    """The project's limit ``name`` (site.yaml: limits), else the toolkit's."""
    return int(merged_limits(getattr(located, "limits", None))[name])


def text(value, located, path):
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise Invalid("expected text; put it in quotes if it looks like something else")
    value = str(value).strip()
    most = limit(located, "text_chars")
    if len(value) > most:
        raise Invalid(f"is {len(value)} characters long, more than {most}; shorten it or "
                      "raise 'limits: {text_chars: …}' in site.yaml")
    control = CONTROL.search(value)  # written as a YAML escape ("\x07"): not in the file
    if control:
        raise Invalid(f"holds the control character {codepoint(control.group())}, which has "
                      "no place in a release (nor in a message's subject); remove it")
    reason = bidi_message(value)
    if reason:
        raise Invalid(reason)
    return value


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def date(value, located, path):
    # the loader keeps dates as text: anything else (20180615, 20180615.5) is not a date
    shown = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            day = None
        if day is not None:
            if day.year < FIRST_YEAR:
                raise Invalid(f"{shown}: a year before {FIRST_YEAR} is not a release date; "
                              "check the year")
            return day
    raise Invalid(f"{shown} is not an ISO 8601 date; write it as YYYY-MM-DD, e.g. 2018-06-15")


def datetime_with_offset(value, located, path):
    """An embargo: ISO 8601 with its offset, or a date and time with a time zone
    (see :mod:`publisher.inputs.moments`)."""
    from .moments import BadMoment, read_moment

    if isinstance(value, dt.datetime):
        value = value.isoformat()
    if isinstance(value, (bool, list, dict)) or value is None:
        raise Invalid("expected a date and time, e.g. 2018-06-15T10:00:00+02:00")
    try:
        return read_moment(str(value))
    except BadMoment as exc:
        raise Invalid(str(exc)) from None


def language(value, located, path):
    from babel import Locale, UnknownLocaleError

    code = text(value, located, path)
    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise Invalid(
            f"unknown language {code!r}; use a code Babel knows, such as fr, en, ru or pt_BR"
        ) from None
    return str(locale)


ICC_SUFFIXES = (".icc", ".icm")  # print.condition naming the press's own profile


def press_condition(value, located, path):
    value = text(value, located, path)
    if value.lower().endswith(ICC_SUFFIXES):
        return value  # the site's own profile, relative to sources/ (checked by the build)
    known = {"FOGRA39": "FOGRA39", "TR006": "TR006", "GRACOL2006": "TR006"}
    found = known.get(value.upper().replace(" ", "").replace("_", ""))
    if found is None:
        raise Invalid(f"unknown press condition {value!r}; use FOGRA39, TR006 (GRACoL 2006) "
                      "or the ICC profile of your press, e.g. press.icc")
    return found


def end_mark(value, located, path):
    """The mark printed after a release's body; '' or false for none."""
    if value is False or value == "":
        return ""
    return text(value, located, path)


def locales(value, located, path):
    """{file language: Babel locale}: en: en_GB."""
    chosen = {}
    for key, item in _mapping(value, "a mapping of language to locale, e.g. {en: en_GB}").items():
        lang = language(key, located, path + (key,))
        locale = language(item, located, path + (key,))
        if locale.split("_")[0] != lang.split("_")[0]:
            raise Invalid(f"'{key}: {item}': the locale must be of the same language "
                          f"({lang}_XX)")
        chosen[lang] = locale
    return chosen


def _count(value: list, located, path):
    most = limit(located, "list_items")
    if len(value) > most:
        raise Invalid(f"has {len(value)} items, more than {most}; keep the ones that matter or "
                      "raise 'limits: {list_items: …}' in site.yaml")


def text_list(value, located, path):
    if isinstance(value, str):
        return [text(value, located, path)]
    if not isinstance(value, list):
        raise Invalid("expected a list, e.g. [space, climate]")
    _count(value, located, path)
    return [text(v, located, path + (i,)) for i, v in enumerate(value)]


def per_language(value, located, path):
    """Text, or a mapping of language code to text."""
    if isinstance(value, dict):
        return {str(k).replace("-", "_"): text(v, located, path + (k,)) for k, v in value.items()}
    return {"*": text(value, located, path)}


def email(value, located, path):
    value = text(value, located, path)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise Invalid(f"{value!r} is not an e-mail address")
    return value


def mailbox(value, located, path):
    """A sender: an address, with a name before it or not."""
    from email.utils import parseaddr

    value = text(value, located, path)
    name, address = parseaddr(value)
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address or ""):
        raise Invalid(f"{value!r} is not an e-mail address; write it as "
                      "Press office <press@example.org>")
    return value


def unsubscribe_list(value, located, path):
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        item = text(item, located, path)
        if item.startswith("mailto:"):
            email(item[len("mailto:"):].split("?")[0], located, path)
        else:
            web_url(item, located, path)
            if not item.startswith("https://"):
                raise Invalid(f"{item!r}: an unsubscribe address is https:, not http:")
        out.append(item)
    return out


def port(value, located, path):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise Invalid("expected a port number between 1 and 65535")
    return value


def smtp_security(value, located, path):
    value = text(value, located, path).lower()
    if value not in ("starttls", "tls", "none"):
        raise Invalid(f"{value!r} is not one of starttls, tls, none")
    return value


def env_name(value, located, path):
    value = text(value, located, path)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise Invalid(f"{value!r} is not the name of an environment variable; the password "
                      "itself goes in the environment, never in site.yaml")
    return value


def positive(value, located, path):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise Invalid("expected a number above 0")
    return value


def up_to(most: float):
    """A number above 0 and at most ``most`` (a wait or a rate: never infinite)."""
    def check(value, located, path):
        value = positive(value, located, path)
        if not value <= most:  # also refuses .nan
            raise Invalid(f"expected a number above 0 and at most {most:g}")
        return value
    return check


def whole(value, located, path):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid("expected a whole number, 0 or more")
    return value


def whole_up_to(most: int):
    def check(value, located, path):
        value = whole(value, located, path)
        if value > most:
            raise Invalid(f"expected a whole number from 0 to {most}")
        return value
    return check


def country(value, located, path):
    value = text(value, located, path)
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise Invalid(f"{value!r} is not a country code; write its two letters (ISO 3166-1), "
                      "e.g. FR, US, JP")
    return value.upper()


def colour(value, located, path):
    value = text(value, located, path)
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value):
        raise Invalid(f"{value!r} is not a colour; write it as #rrggbb")
    return value


def organisation(value, located, path):
    """An organisation: its name (text or per language), or {name, country}."""
    if isinstance(value, dict) and "name" in value:
        return mapping_of([
            Field("name", per_language, "Name, as text or per language.", required=True),
            Field("country", country, "Country whose national phone numbers its "
                                      "contacts' are."),
        ], "organisation")(value, located, path)
    return {"name": per_language(value, located, path)}


def mapping_of(fields: list[Field], kind: str):
    def check(value, located, path):
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping of {kind} fields")
        values, problems = validate(value, located, fields, kind, path)
        if problems:
            raise _Many(problems)
        return values

    return check


def list_of(item_check, kind: str):
    def check(value, located, path):
        if not isinstance(value, list):
            raise Invalid(f"expected a list of {kind}")
        _count(value, located, path)
        out, problems = [], []
        for i, item in enumerate(value):
            try:
                out.append(item_check(item, located, path + (i,)))
            except Invalid as exc:
                problems.append(located.problem(exc.path or path + (i,), exc.message, code="S003"))
            except _Many as many:
                problems.extend(many.problems)
        if problems:
            raise _Many(problems)
        return out

    return check


class _Many(Exception):
    def __init__(self, problems):
        self.problems = problems


# --- schemas ---------------------------------------------------------------

CONTACT_FIELDS = [
    Field("name", text, "Full name as printed.", required=True),
    Field("role", per_language, "Role, as text or per language: {fr: …, en: …}."),
    Field("phone", text, "Phone number, national or international form, with an extension "
                         "if any (ext. 752, x752, poste 752, Durchwahl 752, 内線752)."),
    Field("mobile", text, "Mobile number, as phone."),
    Field("fax", text, "Fax number, as phone."),
    Field("email", email, "E-mail address."),
    Field("organisation", text, "Organisation id (see site.yaml 'organisations') or name."),
    Field("country", country, "Country whose national numbers the contact's are (US); "
                              "default: the organisation's, then the site's."),
    Field("address", text, "Postal address."),
    Field("note", per_language, "A short note, e.g. hours and time zone, as text or per "
                                "language."),
    Field("sort_name", text, "How the name sorts, e.g. 'Le Gall, Jean-Yves' (default: "
                             "family name taken as the last word)."),
]


def contact_ref(value, located, path):
    """A contact id from contacts.yaml, or an inline contact mapping."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return mapping_of(CONTACT_FIELDS, "contact")(value, located, path)
    raise Invalid("a contact is an id from contacts.yaml or a mapping with name, phone, email")


def figure(value, located, path):
    fields = [
        Field("label", text, "What the figure counts.", required=True),
        Field("value", number, "The number.", required=True),
        Field("unit", text, "A currency code (EUR), % or free text (km)."),
    ]
    return mapping_of(fields, "figure")(value, located, path)


def number(value, located, path):
    from decimal import Decimal, InvalidOperation

    if isinstance(value, bool) or isinstance(value, (list, dict)) or value is None:
        raise Invalid("expected a number")
    try:
        number = Decimal(str(value).replace("_", "").strip())
    except InvalidOperation:
        raise Invalid(
            f"{value!r} is not a number; write it with a dot for decimals: 1500000.50"
        ) from None
    if not number.is_finite():
        raise Invalid(f"{value!r} is not a number a reader can be given; write the figure")
    if len(number.as_tuple().digits) > MAX_DIGITS or not (
            MIN_EXPONENT <= number.adjusted() <= MAX_EXPONENT):
        raise Invalid(f"{str(value)[:40]!r} is out of range: a figure has at most "
                      f"{MAX_DIGITS} digits, between 1e{MIN_EXPONENT} and 1e{MAX_EXPONENT}")
    return number


MAX_DIGITS, MIN_EXPONENT, MAX_EXPONENT = 30, -12, 18


def limits(value, located, path):
    """site.yaml ``limits``: raise or lower the toolkit's, each a positive number."""
    if not isinstance(value, dict):
        raise Invalid("expected a mapping of limit name to number, e.g. {source_mb: 20}")
    known = DEFAULTS["limits"]
    out = {}
    for key, item in value.items():
        if key not in known:
            raise Invalid(f"unknown limit '{key}'; " + (
                suggest(str(key), known) or "known limits: " + ", ".join(known)), path + (key,))
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not item > 0:
            raise Invalid(f"'{key}' must be a positive number", path + (key,))
        out[str(key)] = item
    return out


ABOUT_FIELDS = [
    Field("title", text, "Heading of the boilerplate, e.g. À propos du CNES.", required=True),
    Field("text", text, "The boilerplate paragraph.", required=True),
]

def about(value, located, path):
    if not isinstance(value, dict):
        raise Invalid("expected a mapping of language code to {title, text}")
    check = mapping_of(ABOUT_FIELDS, "about")
    return {str(k).replace("-", "_"): check(v, located, path + (k,)) for k, v in value.items()}


def _mapping(value, what):
    if not isinstance(value, dict):
        raise Invalid(f"expected {what}")
    return value


def profile(value, located, path):
    value = text(value, located, path)
    if value not in PROFILES:
        raise Invalid(f"unknown profile '{value}'; use " + " or ".join(PROFILES))
    return value


def web_url(value, located, path):
    """An absolute http(s) address."""
    from urllib.parse import urlsplit

    value = text(value, located, path)
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid(f"{value!r} is not a web address; write it as https://example.org/…")
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise Invalid(f"{value!r} holds spaces or control characters; encode them (%20)")
    return value


def host(value, located, path):
    value = text(value, located, path)
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:"
                        r"[A-Za-z0-9-]*[A-Za-z0-9])?)*", value):
        raise Invalid(f"{value!r} is not a host name; write it as images.example.org "
                      "(no scheme, no path)")
    return value.lower()


def boolean(value, located, path):
    if not isinstance(value, bool):
        raise Invalid("expected true or false")
    return value


def cmyk(value, located, path):
    if (not isinstance(value, list) or len(value) != 4
            or not all(isinstance(x, (int, float)) and 0 <= x <= 100 for x in value)):
        raise Invalid("expected four percentages [C, M, Y, K], e.g. [100, 70, 0, 40]")
    return [float(x) for x in value]


def release_selection(value, located, path):
    """A list of release ids, or a selector mapping {tags, from, to}."""
    if isinstance(value, list):
        return {"ids": text_list(value, located, path)}
    if isinstance(value, dict):
        fields = [
            Field("tags", text_list, "Releases with any of these tags.", default=[]),
            Field("from", date, "First release date included."),
            Field("to", date, "Last release date included."),
        ]
        return mapping_of(fields, "release selector")(value, located, path)
    raise Invalid("expected a list of release ids or a selector {tags, from, to}")


def problem_codes(value, located, path):
    """Codes of problems (publisher.codes), as check: {ignore: …} lists them."""
    from ..codes import CODES

    codes = [code.upper() for code in text_list(value, located, path)]
    for index, code in enumerate(codes):
        if code not in CODES:
            hint = suggest(code, CODES) or "the README lists the codes"
            raise Invalid(f"{code!r} is not the code of a problem; {hint}", path + (index,))
    return codes


SITE_FIELDS = [
    Field("name", text, "Short name of the organisation (printed in the header).", required=True),
    Field("legal_name", text, "Full legal name."),
    Field("logo", text, "Logo image, relative to sources/."),
    Field("address", text, "Postal address printed in the footer of the first page."),
    Field("website", lambda v, loc, p: web_url(v, loc, p),
          "Web address printed in the header (https://…)."),
    Field("default_lang", language, "Language of sources that do not say theirs."),
    Field("country", text, "ISO country code used to read national phone numbers (FR)."),
    Field("page_size", text, "CSS page size: A4, letter, …", default=DEFAULTS["page_size"]),
    Field("colours", mapping_of([
        Field("primary", colour, "Main brand colour."),
        Field("accent", colour, "Accent colour."),
        Field("text", colour, "Body text colour."),
    ], "colour"), "Brand colours as #rrggbb.", default={}),
    Field("about", about, "Per language: {title, text} of the About boilerplate.", default={}),
    Field("addressee", per_language, "A line above the dateline, per language, as some "
                                     "languages' releases open (ja: 報道関係者各位).",
          default={}),
    Field("allowed_hosts", lambda v, loc, p: [host(x, loc, p + (i,)) for i, x in
                                              enumerate(text_list(v, loc, p))],
          "Hosts whose https:// resources layouts may load.", default=[]),
    Field("limits", limits, "Raise or lower what one input may hold: "
                            + ", ".join(DEFAULTS["limits"]) + ".", default={}),
    Field("organisations", lambda v, loc, p: {
        str(k): organisation(item, loc, p + (k,))
        for k, item in _mapping(v, "a mapping of organisation id to name").items()},
        "Organisation ids used by contacts → name (text or per language), or "
        "{name, country}.", default={}),
    Field("page_limit", number, "Most pages a release may have (publisher check)."),
    Field("end_mark", end_mark, "Mark printed after a body that ends without its own "
                                "('###', '-30-'…; '' for none).", default=DEFAULTS["end_mark"]),
    Field("typography", mapping_of([
        Field("keep", text_list, "Words typography leaves as written (brands: Yahoo!).",
              default=[]),
    ], "typography"), "Typography settings.", default={}),
    Field("locales", locales, "Babel locale per file language (dates, numbers, quotes): "
                              "{en: en_GB, pt: pt_PT}.", default={}),
    Field("profile", profile, "Output profile: screen (tagged, accessible) or print.",
          default=DEFAULTS["profile"]),
    Field("print", mapping_of([
        Field("bleed", text, "Bleed around the trimmed page, e.g. 3mm.",
              default=DEFAULTS["print_bleed"]),
        Field("colours", lambda v, loc, p: {
            str(k): cmyk(item, loc, p + (k,))
            for k, item in _mapping(v, "a mapping of colour name to [C, M, Y, K]").items()},
            "Brand colours as CMYK percentages: primary: [100, 70, 0, 40].", default={}),
        Field("min_dpi", number, "Warn about raster images under this resolution.",
              default=DEFAULTS["print_min_dpi"]),
        Field("condition", press_condition, "Press condition of the output intent: "
                                            "FOGRA39 (default) or TR006 (GRACoL 2006).",
              default=DEFAULTS["print_condition"]),
    ], "print"), "Settings of the print profile.", default={}),
    Field("email", mapping_of([
        Field("assets_url", lambda v, loc, p: web_url(v, loc, p),
              "Absolute URL where sources/ is published: the e-mail's photos link there "
              "(without it they travel in the message), and the newsletter's 'view "
              "online' link goes to newsletters/ under it."),
        Field("from", mailbox, "Who the messages are from: Press office <press@example.org>."),
        Field("reply_to", mailbox, "Where replies go, when not to the sender."),
        Field("unsubscribe", unsubscribe_list, "How to leave the list: an https: address, "
                                               "a mailto: address, or both (List-Unsubscribe)."),
    ], "email"), "Settings of the e-mail editions.", default={}),
    Field("smtp", mapping_of([
        Field("host", host, "The mail server: smtp.example.org.", required=True),
        Field("port", port, "Its port (default 587 with starttls, 465 with tls, 25 with none)."),
        Field("security", smtp_security, "starttls (default), tls, or none (a relay on this "
                                         "machine only).", default="starttls"),
        Field("user", text, "User name, when the server asks for one."),
        Field("password_env", env_name, "The environment variable holding the password "
                                        "(never the password itself).",
              default=DEFAULTS["smtp_password_env"]),
        Field("per_minute", up_to(100_000), "At most this many messages a minute.",
              default=DEFAULTS["smtp_per_minute"]),
        Field("retries", whole_up_to(20), "Tries again after a temporary refusal (4xx).",
              default=DEFAULTS["smtp_retries"]),
        Field("backoff_seconds", up_to(3600), "Wait before the first retry; doubled each time.",
              default=DEFAULTS["smtp_backoff_seconds"]),
        Field("timeout_seconds", up_to(3600), "How long the server may take over one answer.",
              default=DEFAULTS["smtp_timeout_seconds"]),
        Field("connect_seconds", up_to(3600), "How long from connecting to being logged in.",
              default=DEFAULTS["smtp_connect_seconds"]),
        Field("message_seconds", up_to(3600), "How long one message may take to go.",
              default=DEFAULTS["smtp_message_seconds"]),
        Field("batch_seconds", up_to(7 * 86400), "How long one send may take in all; what "
                                                 "is left then is sent by the next.",
              default=DEFAULTS["smtp_batch_seconds"]),
    ], "smtp"), "The mail server publisher send uses."),
    Field("check", mapping_of([
        Field("ignore", problem_codes, "Codes of problems publisher check does not report "
                                       "(S001, L004…).", default=[]),
        Field("word_spacing", positive, "The widest word spacing publisher check lets a "
                                        "justified line have, in normal spaces.",
              default=DEFAULTS["check_word_spacing"]),
    ], "check"), "Settings of publisher check.", default={}),
]


KIT_FIELDS = [
    Field("title", per_language, "Title, as text or per language.", required=True),
    Field("subtitle", per_language, "Subtitle, as text or per language.", default={}),
    Field("lang", lambda v, loc, p: [language(x, loc, p) for x in text_list(v, loc, p)],
          "One language or a list: one kit per language.", required=True),
    Field("date", date, "Date printed on the cover.", required=True),
    Field("cover", text, "Cover image, relative to the kit file."),
    Field("intro", per_language, "Introduction in Markdown, as text or per language.",
          default={}),
    Field("releases", release_selection, "Release ids in order, or a selector "
                                         "{tags, from, to}.",
          required=True),
    Field("contacts_appendix", boolean, "Add the contacts appendix (default true).",
          default=True),
    Field("attachments", text_list, "Files to embed in the PDF, relative to the kit file.",
          default=[]),
    Field("profile", profile, "Output profile: screen or print (default: the site's)."),
]
FRONT_MATTER_FIELDS = [
    Field("title", text, "Headline of the release.", required=True),
    Field("subtitle", text, "Second part of the title."),
    Field("date", date, "Release date, ISO 8601 (2018-06-15).", required=True),
    Field("lang", language, "Language; may be given by the file name (….fr.md) instead."),
    Field("dateline", text, "Place the release is issued from (Paris)."),
    Field("contacts", list_of(contact_ref, "contacts"), "Contact ids or inline contacts.",
          default=[]),
    Field("tags", text_list, "Keywords, also written to the PDF metadata.", default=[]),
    Field("embargo", datetime_with_offset, "Not to be published before: with its UTC "
                                           "offset, or a time zone (Europe/Paris)."),
    Field("figures", list_of(figure, "figures"), "Key figures: {label, value, unit}.",
          default=[]),
    Field("layout", text, "Layout directory under layouts/.", default=DEFAULTS["layout"]),
    Field("translated_from", mapping_of([
        Field("file", text, "File name of the original, in the same folder.", required=True),
        Field("sha256", text, "sha256 of the original when it was translated.",
              required=True),
    ], "translated_from"), "The original this translation follows (publisher new --translate)."),
]


def validate(data, located: Located, fields: list[Field], kind: str, path: tuple = ()):
    """Check ``data`` against ``fields``; return (values, problems)."""
    values: dict = {}
    problems: list[Problem] = []
    if not isinstance(data, dict):
        return values, [located.problem(path, f"expected a mapping of {kind} fields", code="S004")]
    known = {f.name: f for f in fields}
    meant: set[str] = set()  # required keys a typo stands for: the typo is the one problem
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), list(known), n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else "known keys: " + ", ".join(known)
            meant.update(hint)
            problems.append(located.problem(path + (key,), f"unknown {kind} key '{key}'; {fix}",
                code="S001"))
    for f in fields:
        if key_missing(data, f.name):
            if f.required and f.name not in meant:
                problems.append(
                    located.problem(path, f"{kind} is missing the required key '{f.name}' "
                                          f"({f.doc.rstrip('.')})", code="S002")
                )
            values[f.name] = f.default
            continue
        try:
            values[f.name] = f.check(data[f.name], located, path + (f.name,))
        except Invalid as exc:
            problems.append(located.problem(exc.path or path + (f.name,),
                                            f"'{f.name}': {exc.message}", code="S003"))
        except _Many as many:
            problems.extend(many.problems)
    return values, problems


def key_missing(data: dict, name: str) -> bool:
    return name not in data or data[name] is None


def suggest(word: str, choices) -> str:
    hint = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean '{hint[0]}'?" if hint else ""
