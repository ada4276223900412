"""``site.yaml`` as typed, frozen settings.

:func:`site_settings` turns what :mod:`.schema` validated (with its
``file:line`` messages) into a :class:`Site`: the stages read attributes, not
string keys, and a setting that is not given has the default from
:data:`publisher.defaults.DEFAULTS`.  A mapping keyed by language (``about``,
``addressee``, ``locales``) or by an id (``organisations``) stays a mapping of
typed values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..defaults import DEFAULTS


@dataclass(frozen=True)
class About:
    title: str
    text: str


@dataclass(frozen=True)
class Organisation:
    name: Mapping[str, str]  # by language, "*" for any
    country: str | None = None


@dataclass(frozen=True)
class PrintSettings:
    bleed: str = DEFAULTS["print_bleed"]
    colours: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # CMYK percentages
    min_dpi: float = DEFAULTS["print_min_dpi"]
    condition: str = DEFAULTS["print_condition"]  # FOGRA39, TR006, or a file in sources/


@dataclass(frozen=True)
class EmailSettings:
    assets_url: str = ""
    sender: str = ""  # "from": Press office <press@example.org>
    reply_to: str = ""
    unsubscribe: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int | None = None
    security: str = "starttls"
    user: str | None = None
    password_env: str = DEFAULTS["smtp_password_env"]
    per_minute: float = DEFAULTS["smtp_per_minute"]
    retries: int = DEFAULTS["smtp_retries"]
    backoff_seconds: float = DEFAULTS["smtp_backoff_seconds"]
    timeout_seconds: float = DEFAULTS["smtp_timeout_seconds"]
    connect_seconds: float = DEFAULTS["smtp_connect_seconds"]
    message_seconds: float = DEFAULTS["smtp_message_seconds"]
    batch_seconds: float = DEFAULTS["smtp_batch_seconds"]

    @property
    def port_in_use(self) -> int:
        return self.port or DEFAULTS["smtp_ports"][self.security]


@dataclass(frozen=True)
class Site:
    """The organisation, as ``sources/site.yaml`` says it."""

    name: str = ""
    legal_name: str | None = None
    logo: str | None = None
    address: str | None = None
    website: str | None = None
    default_lang: str | None = None
    country: str | None = None
    page_size: str = DEFAULTS["page_size"]
    colours: Mapping[str, str] = field(default_factory=dict)
    about: Mapping[str, About] = field(default_factory=dict)
    addressee: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()
    limits: Mapping[str, float] = field(default_factory=dict)
    organisations: Mapping[str, Organisation] = field(default_factory=dict)
    page_limit: float | None = None
    end_mark: str = DEFAULTS["end_mark"]
    keep: tuple[str, ...] = ()  # typography.keep: words typography leaves as written
    locales: Mapping[str, str] = field(default_factory=dict)
    profile: str = DEFAULTS["profile"]
    print: PrintSettings = field(default_factory=PrintSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    smtp: SmtpSettings | None = None
    ignore: tuple[str, ...] = ()  # check.ignore: problem codes publisher check leaves out
    word_spacing: float = DEFAULTS["check_word_spacing"]  # check.word_spacing

    @property
    def issuer(self) -> str:
        """The name a document is by: the legal name, else the short one."""
        return self.legal_name or self.name

    def settings(self) -> dict[str, object]:
        """What :func:`publisher.defaults.resolve` takes from the site."""
        return {"page_size": self.page_size, "country": self.country,
                "end_mark": self.end_mark, "profile": self.profile,
                "default_lang": self.default_lang, "colours": dict(self.colours)}


def site_settings(values: Mapping[str, object]) -> Site:
    """A :class:`Site` from site.yaml's validated values (missing ones: defaults)."""
    def section(key: str) -> Mapping:
        found = values.get(key)
        return found if isinstance(found, Mapping) else {}

    printing, email, smtp = section("print"), section("email"), section("smtp")
    given = {key: value for key, value in values.items() if value is not None}
    return Site(
        name=str(given.get("name", "")),
        legal_name=_text(given.get("legal_name")),
        logo=_text(given.get("logo")),
        address=_text(given.get("address")),
        website=_text(given.get("website")),
        default_lang=_text(given.get("default_lang")),
        country=_text(given.get("country")),
        page_size=str(given.get("page_size") or DEFAULTS["page_size"]),
        colours=dict(section("colours")),
        about={lang: About(str(item["title"]), str(item["text"]))
               for lang, item in section("about").items()},
        addressee=dict(section("addressee")),
        allowed_hosts=tuple(_items(given.get("allowed_hosts"))),
        limits=dict(section("limits")),
        organisations={str(key): Organisation(dict(item["name"]), item.get("country"))
                       for key, item in section("organisations").items()},
        page_limit=_number(given.get("page_limit")),
        end_mark=str(given.get("end_mark", DEFAULTS["end_mark"])),
        keep=tuple(_items(section("typography").get("keep"))),
        locales=dict(section("locales")),
        profile=str(given.get("profile") or DEFAULTS["profile"]),
        print=PrintSettings(
            bleed=str(printing.get("bleed") or DEFAULTS["print_bleed"]),
            colours={str(k): tuple(v) for k, v in (printing.get("colours") or {}).items()},
            min_dpi=float(printing.get("min_dpi") or DEFAULTS["print_min_dpi"]),
            condition=str(printing.get("condition") or DEFAULTS["print_condition"])),
        email=EmailSettings(
            assets_url=str(email.get("assets_url") or ""),
            sender=str(email.get("from") or ""), reply_to=str(email.get("reply_to") or ""),
            unsubscribe=tuple(_items(email.get("unsubscribe")))),
        smtp=None if not smtp else SmtpSettings(**{
            key: value for key, value in smtp.items() if value is not None}),
        ignore=tuple(_items(section("check").get("ignore"))),
        word_spacing=float(section("check").get("word_spacing")
                           or DEFAULTS["check_word_spacing"]),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> float | None:
    return None if value is None or isinstance(value, bool) else float(str(value))


def _items(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, (list, tuple)) else []


@dataclass(frozen=True)
class ContactEntry:
    """A contact as ``contacts.yaml`` (or a release's inline ``contacts``) gives it."""

    name: str
    role: Mapping[str, str] = field(default_factory=dict)  # by language, "*" for any
    phone: str = ""
    mobile: str = ""
    fax: str = ""
    email: str = ""
    organisation: str = ""  # an id of site.yaml's organisations, or a name
    country: str | None = None
    address: str = ""
    note: Mapping[str, str] = field(default_factory=dict)
    sort_name: str = ""
    id: str = ""  # its id in contacts.yaml; "" when written inline
    file: str = ""  # where it is written, for messages
    line: int | None = None

    def number(self, kind: str) -> str:
        """The ``phone``, ``mobile`` or ``fax`` number as written."""
        return {"phone": self.phone, "mobile": self.mobile, "fax": self.fax}[kind]

    def content(self) -> tuple:
        """What a release printed with this contact depends on (not where it is written)."""
        return (self.name, sorted(self.role.items()), self.phone, self.mobile, self.fax,
                self.email, self.organisation, self.country, self.address,
                sorted(self.note.items()), self.sort_name, self.id)


def contact_entry(values: Mapping[str, object], *, id: str = "", file: str = "",
                  line: int | None = None) -> ContactEntry:
    """A :class:`ContactEntry` from a contact's validated values."""
    def text(key: str) -> str:
        value = values.get(key)
        return "" if value is None else str(value)

    def by_language(key: str) -> dict[str, str]:
        value = values.get(key)
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}

    country = values.get("country")
    return ContactEntry(name=text("name"), role=by_language("role"), phone=text("phone"),
                        mobile=text("mobile"), fax=text("fax"), email=text("email"),
                        organisation=text("organisation"),
                        country=str(country) if country else None, address=text("address"),
                        note=by_language("note"), sort_name=text("sort_name"), id=id,
                        file=file, line=line)


@dataclass(frozen=True)
class Selection:
    """Which releases a kit holds: ``ids`` in order, or those whose tags and dates match."""

    ids: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class KitSettings:
    """A press kit as ``sources/kits/<slug>.yaml`` says it."""

    title: Mapping[str, str] = field(default_factory=dict)  # by language, "*" for any
    subtitle: Mapping[str, str] = field(default_factory=dict)
    lang: tuple[str, ...] = ()
    date: dt.date | None = None
    cover: str | None = None
    intro: Mapping[str, str] = field(default_factory=dict)
    releases: Selection = field(default_factory=Selection)
    contacts_appendix: bool = True
    attachments: tuple[str, ...] = ()
    profile: str | None = None


def kit_settings(values: Mapping[str, object]) -> KitSettings:
    """:class:`KitSettings` from a kit's validated values."""
    def by_language(key: str) -> dict[str, str]:
        value = values.get(key)
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}

    chosen = values.get("releases")
    chosen = chosen if isinstance(chosen, Mapping) else {}
    ids = chosen.get("ids")
    day = values.get("date")
    cover, profile = values.get("cover"), values.get("profile")
    return KitSettings(
        title=by_language("title"), subtitle=by_language("subtitle"),
        lang=tuple(_items(values.get("lang"))),
        date=day if isinstance(day, dt.date) else None,
        cover=str(cover) if cover else None, intro=by_language("intro"),
        releases=Selection(ids=tuple(_items(ids)) if ids is not None else None,
                           tags=tuple(_items(chosen.get("tags"))), start=chosen.get("from"),
                           end=chosen.get("to")),
        contacts_appendix=values.get("contacts_appendix") is not False,
        attachments=tuple(_items(values.get("attachments"))),
        profile=str(profile) if profile else None)
