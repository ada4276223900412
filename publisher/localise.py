"""Stage 2 — localise: a loaded release becomes text in its language.

Dates, numbers and currencies come from Babel, phone numbers from
phonenumbers, quotes and spaces from :mod:`publisher.text.typography`.  The
result is a :class:`Localised` release: plain data that templates print as it
is, with nothing of the loader's objects (no paths, no parsed YAML).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from .defaults import DEFAULTS
from .errors import Problem
from .inputs.fonts import describe, uncovered
from .inputs.resources import RefusedResource, ResourcePolicy
from .inputs.settings import About, ContactEntry, Site, contact_entry
from .inputs.yamlfile import Located
from .load import Release
from .text.phones import Phone, read_phone
from .text.typography import typographer


def render_body(*args, **kwargs):
    """Markdown to HTML (markdown-it is imported when a body is first rendered,
    not by a build whose outputs all come from the cache)."""
    from .text.markdown import render_body as render

    return render(*args, **kwargs)


@dataclass
class Contact:
    id: str
    name: str
    role: str
    phone: str
    phone_uri: str
    email: str
    organisation: str  # the organisation's id (or name) as the source gives it
    organisation_name: str = ""  # its name in the release's language
    sort_name: str = ""  # how the name sorts: "Le Gall, Jean-Yves"
    extension: str = ""  # of the phone number
    mobile: Phone | None = None
    fax: Phone | None = None
    address: str = ""
    note: str = ""  # hours, time zone…
    external: bool = False  # of another organisation than the site's (printed with it)


@dataclass
class Figure:
    label: str
    value: str


@dataclass
class Localised:
    id: str  # the release's id: its file name without language and .md
    stem: str  # the output's name: the file name without .md
    file: str  # the source, as shown to people
    lang: str
    title: str
    subtitle: str
    date: dt.date
    date_long: str
    place: str
    embargo: str  # formatted, empty when not under embargo at the reference time
    body_html: str
    lede: str
    figures: list[Figure]
    contacts: list[Contact]
    about: About | None
    tags: list[str]
    created: str  # W3C date-time for the PDF metadata
    site: Site  # site.yaml with its printed texts in the release's typography
    problems: list[Problem] = field(default_factory=list)
    anchor: str = ""  # its article's id: where a kit's or newsletter's contents link to
    email_body: str = ""  # the e-mail edition's body, images as e-mail-ready URLs
    text: str = ""  # the body as plain text (the e-mail's text part)
    end_mark: str = ""  # printed after the body: the body's own, or the site's
    after_mark_html: str = ""  # what the source wrote after its own end mark
    addressee: str = ""  # the line some languages' releases open with (報道関係者各位)

    @property
    def contact_groups(self) -> list[tuple[str, list[Contact]]]:
        """The contacts by organisation, in the order the source names them (a joint
        release has more than one group)."""
        groups: dict[str, list[Contact]] = {}
        for contact in self.contacts:
            groups.setdefault(contact.organisation_name, []).append(contact)
        return list(groups.items())


@dataclass(frozen=True)
class LocaleInputs:
    """What localising a release needs besides the release itself."""

    site: Site
    site_located: Located | None
    contacts: dict[str, ContactEntry]
    as_of: dt.datetime
    policy: ResourcePolicy
    covered: frozenset[int]  # code points the shipped fonts cover
    prepare_image: Callable[..., str] | None = None  # (image URL, as written) → URL to render


def localise(release: Release, inputs: LocaleInputs) -> Localised:
    """Localise one release; its problems are collected in ``.problems``."""
    lang = release.lang
    assert lang is not None, "a release without a language is not localised"
    meta = release.meta
    site = inputs.site
    locale = site_locale(lang, site)
    typo = site_typographer(locale, site)
    problems: list[Problem] = []
    prepare_image = inputs.prepare_image

    resolve = image_resolver(inputs.policy, release.path.parent, release.file, prepare_image)
    body_text, own_mark, after_mark = split_end_mark(release.body)
    body = render_body(body_text, typo, source=release.path, shown=release.file,
                       first_line=release.body_line, resolve_resource=resolve,
                       doc_id=release.stem, limits=inputs.policy.limits)
    problems.extend(body.problems)
    after_html = ""
    if after_mark:  # contacts or notes to editors written after the mark
        tail = render_body(after_mark, typo, source=release.path, shown=release.file,
                           first_line=release.body_line + body_text.count("\n") + 1,
                           resolve_resource=resolve, doc_id=f"{release.stem}-end",
                           limits=inputs.policy.limits)
        problems.extend(tail.problems)
        after_html = tail.html
    problems.extend(placeholder_problems(release, site.keep))

    contacts = [
        _contact(ref, index, release, inputs, problems)
        for index, ref in enumerate(meta.get("contacts") or [])
    ]
    about = pick_language(site.about, lang)
    embargo = meta.get("embargo")
    localised = Localised(
        id=release.id,
        anchor=f"release-{release.id}",
        stem=release.stem,
        file=release.file,
        lang=lang,
        title=typo.text(meta["title"]),
        subtitle=typo.text(meta.get("subtitle") or ""),
        date=meta["date"],
        date_long=long_date(meta["date"], locale),
        place=typo.text(meta.get("dateline") or ""),
        embargo=format_embargo(embargo, locale) if embargo and embargo > inputs.as_of else "",
        body_html=body.html,
        lede=typo.text(body.first_paragraph),
        figures=[_figure(f, locale, typo) for f in meta.get("figures") or []],
        contacts=[c for c in contacts if c is not None],
        about=About(typo.text(about.title), typo.text(about.text)) if about else None,
        tags=list(meta.get("tags") or []),
        created=creation_date(meta["date"]),
        site=replace(site, name=typo.text(site.name),
                     legal_name=typo.text(site.legal_name) if site.legal_name else None,
                     address=typo.text(site.address) if site.address else None),
        problems=problems,
        end_mark=own_mark or site.end_mark,
        addressee=typo.text(pick_language(site.addressee, lang) or ""),
        after_mark_html=after_html,
    )
    problems.extend(_glyph_problems(release, inputs, localised))
    return localised


def creation_date(date: dt.date) -> str:
    """PDF creation date (W3C form): the moment :func:`source_epoch` gives."""
    moment = dt.datetime.fromtimestamp(source_epoch(date), dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def source_epoch(date: dt.date) -> int:
    """Timestamps in outputs: SOURCE_DATE_EPOCH when set, else the date at 00:00 UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return int(epoch)
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc).timestamp())


def site_locale(lang: str, site: Site) -> str:
    """The Babel locale of a file language: site.yaml's ``locales`` (en: en_GB) or itself."""
    return site.locales.get(lang) or lang


def site_typographer(locale: str, site: Site):
    """The typographer of ``locale`` that leaves the site's ``typography.keep`` alone."""
    return typographer(locale, site.keep)


# how a language writes the first day of the month where Babel's long date has a plain 1
FIRST_OF_THE_MONTH = {"fr": "er", "it": "º"}


def long_date(day: dt.date, locale: str) -> str:
    """The long date as the locale writes it: "1er juin" in French, "1º giugno" in
    Italian for the first day of the month."""
    from babel.dates import format_date, get_date_format

    ordinal = FIRST_OF_THE_MONTH.get(locale.split("_")[0])
    if day.day == 1 and ordinal:
        pattern = get_date_format("long", locale=locale).pattern
        if re.search(r"(?<![d'])d(?!d)", pattern):
            return format_date(day, re.sub(r"(?<![d'])d(?!d)", f"d'{ordinal}'", pattern,
                                           count=1), locale=locale)
    return format_date(day, "long", locale=locale)


# a conventional end mark, alone on the body's last line
END_MARK = re.compile(
    r"^[ \t]*(?:\#(?:[ \t]*\#){2,}|-[ \t]*30[ \t]*-|[-–—]{1,3}[ \t]*(?:end|ends|fin|ende|fine|"
    r"конец)[ \t]*[-–—]{1,3}|ENDS?|FIN|ENDE|-{2,}/{2,}-{2,})[ \t]*$", re.IGNORECASE)


def split_end_mark(body: str) -> tuple[str, str, str]:
    """(the body before its end mark, the mark as written, what follows the mark):
    the mark is the last line of the body that is a conventional end mark standing
    alone, often followed by the media contacts or notes to editors; it is ''
    (and the body whole) when there is none."""
    lines = body.split("\n")
    for index in range(len(lines) - 1, 0, -1):
        line = lines[index]
        if not END_MARK.match(line):
            continue
        before, after = "\n".join(lines[:index]), "\n".join(lines[index + 1:])
        alone = not lines[index - 1].strip() and (index + 1 == len(lines)
                                                   or not lines[index + 1].strip())
        if alone and before.strip():
            return before.rstrip() + "\n", line.strip(), after.strip()
    return body, "", ""


def format_embargo(moment: dt.datetime, lang: str) -> str:
    """Date and time in the embargo's own UTC offset, as the locale writes them."""
    from babel.dates import format_time, get_datetime_format, get_timezone_gmt

    zone = moment.tzinfo
    date = long_date(moment.date(), lang)
    time = format_time(moment, "short", tzinfo=zone, locale=lang)
    gmt = get_timezone_gmt(moment, locale=lang)
    return str(get_datetime_format("long", locale=lang)).replace("'", "").format(
        f"{time} ({gmt})", date)


def format_figure(value: Decimal, unit: str | None, lang: str) -> str:
    from babel import Locale
    from babel.numbers import format_currency, format_decimal, format_percent, list_currencies

    unit = (unit or "").strip()
    if unit == "%":
        return format_percent(value / 100, locale=lang, decimal_quantization=False)
    if unit.upper() in list_currencies() and len(unit) == 3:
        pattern = None
        if value == value.to_integral_value():
            standard = Locale.parse(lang).currency_formats["standard"].pattern
            pattern = re.sub(r"\.0+", "", standard)
        return format_currency(value, unit.upper(), locale=lang, format=pattern,
                               currency_digits=pattern is None)
    number = format_decimal(value, locale=lang, decimal_quantization=False)
    return f"{number}\u00a0{unit}" if unit else number


def _figure(figure: dict, lang: str, typo) -> Figure:
    return Figure(typo.text(figure["label"]), format_figure(figure["value"], figure.get("unit"),
                                                            lang))


def pick_language(values: Mapping, lang: str):
    """The entry of ``values`` for ``lang``, its base language, '*' or None."""
    base = lang.split("_")[0]
    for key in (lang, base, "*"):
        if key in values:
            return values[key]
    return None


def _contact(ref, index, release: Release, inputs: LocaleInputs,
             problems) -> Contact | None:
    if isinstance(ref, str):
        found = inputs.contacts.get(ref)
        if found is None:
            return None  # reported by load
        entry = found
    else:
        entry = contact_entry(ref, file=release.file, line=release.front.line("contacts", index))
    file, line = entry.file, entry.line
    lang = release.lang or ""
    roles = entry.role
    role = pick_language(roles, lang) or ""
    if roles and not role:
        problems.append(Problem(
            file, line, f"contact '{entry.id or entry.name}' has no role in "
                        f"'{release.lang}'; add 'role: {{{release.lang}: …}}'",
            severity="warning", code="C002"))
    organisation = entry.organisation
    known = inputs.site.organisations.get(organisation)
    countries = [entry.country, known.country if known else None, inputs.site.country]
    numbers: dict[str, Phone | None] = {}
    for kind in ("phone", "mobile", "fax"):
        written = entry.number(kind)
        read = numbers[kind] = read_phone(written, countries) if written else None
        if read is not None and not read.valid:
            tried = [c for c in countries if c]
            hint = ("write it in international form (+33 1 23 45 67 89)" if not tried else
                    f"it is not a valid number in {tried[0]}; give the contact its 'country' "
                    "or write the number in international form (+1 202 358 0142)")
            problems.append(Problem(file, line, f"{kind} number '{written}' of "
                                                f"'{entry.name}' is printed as written, "
                                                f"without a link: {hint}",
                                    severity="warning", code="C001"))
    phone = numbers["phone"]
    typo = site_typographer(site_locale(lang, inputs.site), inputs.site)
    name = organisation_name(organisation, inputs.site, lang)
    return Contact(
        id=entry.id or entry.name,
        name=entry.name,
        role=typo.text(role),
        phone=phone.number if phone else "",
        phone_uri=phone.uri if phone else "",
        email=entry.email,
        organisation=organisation,
        organisation_name=name,
        sort_name=entry.sort_name or sort_name(entry.name),
        extension=phone.extension if phone else "",
        mobile=numbers["mobile"],
        fax=numbers["fax"],
        address=entry.address,
        note=typo.text(pick_language(entry.note, lang) or ""),
        external=not is_issuer(organisation, inputs.site),
    )


# particles that belong to the family name ("Le Gall", "van der Rohe", "de la Cruz")
PARTICLES = {"de", "du", "des", "la", "le", "les", "d'", "d’", "van", "von", "der", "den",
             "ter", "ten", "zu", "da", "di", "dos", "das", "do", "del", "della", "degli",
             "dei", "lo", "st.", "saint", "bin", "ibn", "al", "el", "ben", "mac", "af", "av"}


def sort_name(name: str) -> str:
    """'Family, Given' for a name written 'Given Family', keeping the family name's
    particles: "Jean-Yves Le Gall" → "Le Gall, Jean-Yves"."""
    words = name.split()
    if len(words) < 2:
        return name
    start = len(words) - 1
    for index in range(1, len(words) - 1):
        if words[index].casefold() in PARTICLES:
            start = index
            break
    return f"{' '.join(words[start:])}, {' '.join(words[:start])}"


def is_issuer(organisation: str, site: Site) -> bool:
    """Whether ``organisation`` (an id or a name) is the site's own."""
    if not organisation:
        return True
    own = {(name or "").casefold() for name in (site.name, site.legal_name)} - {""}
    if organisation.casefold() in own:
        return True
    known = site.organisations.get(organisation)
    return known is not None and any(str(value).casefold() in own
                                     for value in known.name.values())


def organisation_name(organisation: str, site: Site, lang: str) -> str:
    """An organisation id as its name in ``lang`` (site.yaml's ``organisations``); a
    name is itself; the site's own organisation is the site's name."""
    known = site.organisations.get(organisation)
    if known is not None and known.name:
        return pick_language(known.name, lang) or next(iter(known.name.values()))
    if is_issuer(organisation, site):
        return site.name
    return organisation


def _glyph_problems(release: Release, inputs: LocaleInputs,
                    localised: Localised) -> list[Problem]:
    """Name every character that no shipped font can draw, where it comes from."""
    covered = inputs.covered
    problems = []
    lines = release.text.splitlines()
    # an inline contact's numbers are printed as read ("内線752" becomes the layout's "ext.")
    printed_as_read = set()
    for index, ref in enumerate(release.meta.get("contacts") or []):
        for kind in ("phone", "mobile", "fax"):
            if isinstance(ref, dict) and ref.get(kind) and read_phone(ref[kind], [
                    ref.get("country"), inputs.site.country]).valid:
                printed_as_read.add(release.front.line("contacts", index, kind))
    for number, line in enumerate(lines, start=1):
        if number in printed_as_read:
            continue
        missing = uncovered(line, covered)
        if missing:
            problems.append(Problem(
                release.file, number,
                f"no shipped font has {describe(missing)}; add a font that covers them to "
                "fonts/ (with its licence) or remove them", code="T004"))
    extra = [(c.name + c.role, c) for c in localised.contacts]
    for text, contact in extra:
        missing = uncovered(text, covered)
        entry = inputs.contacts.get(contact.id)
        if missing and entry:
            problems.append(Problem(entry.file, entry.line,
                                    f"no shipped font has {describe(missing)}; add a font "
                                    "that covers them to fonts/", code="T004"))
    if localised.about:
        missing = uncovered(localised.about.title + localised.about.text, covered)
        if missing and inputs.site_located:
            problems.append(inputs.site_located.problem(
                ("about",), f"no shipped font has {describe(missing)}; add a font that covers "
                            "them to fonts/", code="T004"))
    return problems


def image_resolver(policy: ResourcePolicy, folder: Path, shown: str, prepare_image=None):
    """How a body's image references become URLs to render (or problems at their line)."""

    def resolve(ref: str, line: int):
        try:
            url = policy.resolve_reference(ref, folder, "image")
            return prepare_image(url, ref) if prepare_image else url
        except RefusedResource as exc:
            return Problem(shown, line, str(exc), code="F001")

    return resolve


PLACEHOLDER = re.compile(r"\[\[(.+?)\]\]")  # what 'publisher new' writes

# text left for later: TODO, TBD, XXX, lorem ipsum, [Name], {{ … }}, 00 00 00 00 00
PLACEHOLDERS = re.compile(
    r"(?<![\w-])(?:TODO|TBD|TBC|FIXME|XXX+|A COMPLÉTER|À COMPLÉTER)(?![\w-])"
    r"|(?i:lorem ipsum)"
    r"|\{\{.*?\}\}|\{%.*?%\}"
    r"|\[(?:Name|Nom|Prénom|Vorname|Nachname|Nombre|Nome|Cognome|Имя|Фамилия|Title|Titre|Date|"
    r"Datum|Fecha|Data|City|Ville|Stadt|Ciudad|Città|Company|Société|Firma|Empresa|Azienda|"
    r"Organi[sz]ation|Phone|Téléphone|Telefon|Teléfono|Telefono|E-?mail|Quote|Citation|Zitat|"
    r"Cita|Insert|Insérer|Einfügen|Insertar|Inserire|Contact|Kontakt|Contacto|Contatto|"
    r"Ort|Lieu|Place|Luogo|Lugar|Role|Rôle|Funktion)(?:[ :][^\]\n]{0,40})?\](?![(\[:])"
    r"|(?<!\d)00(?:[ .\-]00){3,}(?!\d)|(?<![\w])(?:XX|xx)(?:[ .\-](?:XX|xx)){3,}(?!\w)")


def placeholder_problems(release: Release, keep: tuple[str, ...] = ()) -> list[Problem]:
    """Text not ready to send, anywhere in the source (front matter or body): what
    'publisher new' wrote, or TODO, lorem ipsum, [Name], 00 00 00 00 00… (a warning
    for a build, an error for ``publisher check``).  The words of ``keep`` (the
    site's ``typography.keep``: "Expedition XXX") are not placeholders."""
    found = []
    lines = (release.text or "").splitlines()
    start = max(release.body_line - 1, 0)
    for number, line in enumerate(lines, start=1):
        generated = PLACEHOLDER.search(line) if number > start else None
        if generated:
            found.append(Problem(release.file, number,
                                 f"placeholder text left from 'publisher new': "
                                 f"'{generated[1][:40]}…'; write the release in its place",
                                 severity="warning", code="R009"))
            continue
        for word in keep:
            line = line.replace(word, " " * len(word))
        match = PLACEHOLDERS.search(line)
        if match:
            found.append(Problem(release.file, number,
                                 f"placeholder text '{match.group()[:40]}' is not ready to "
                                 "send; write the final text in its place",
                                 severity="warning", code="R009"))
    return found


def body_problems(release: Release, inputs: LocaleInputs) -> list[Problem]:
    """What is wrong in a release's body, for a source whose front matter is broken
    (so that one run reports the whole file)."""
    if not release.body:
        return []
    lang = release.lang or inputs.site.default_lang or DEFAULTS["default_lang"]

    resolve = image_resolver(inputs.policy, release.path.parent, release.file,
                             inputs.prepare_image)
    body = render_body(release.body, typographer(lang), source=release.path, shown=release.file,
                       first_line=release.body_line, resolve_resource=resolve,
                       doc_id=release.stem, limits=inputs.policy.limits)
    return body.problems


def localise_markdown(text: str, lang: str, *, source: Path, shown: str, first_line: int,
                      policy: ResourcePolicy, prepare_image=None) -> tuple[str, list[Problem]]:
    """Markdown written outside a release (a kit's intro) as HTML in ``lang``."""

    resolve = image_resolver(policy, source.parent, shown, prepare_image)
    body = render_body(text, typographer(lang), source=source, shown=shown,
                       first_line=first_line, resolve_resource=resolve, limits=policy.limits)
    return body.html, body.problems


def month_title(month: dt.date, lang: str, start_of_line: bool = False) -> str:
    """'juin 2018', 'June 2018', 'июнь 2018 г.' — capitalised when it starts a line."""
    from babel.dates import format_skeleton

    text = format_skeleton("yMMMM", month, locale=lang)
    return text[:1].upper() + text[1:] if start_of_line else text
