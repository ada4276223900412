"""Stage 5 — bundle: a release's pages, and releases gathered into kits and newsletters.

:func:`bundle` takes a :class:`ReleaseBundle`, a :class:`KitBundle` or a
:class:`NewsletterBundle` — the localised releases it holds, in order, and
what was left out — and a :class:`PartMaker`, the orchestrator's way to
compose and render one part.  A release is laid out once per language and
profile: the same pages are its own PDF and its pages in every kit and
newsletter that holds it, and only the page footers, rendered apart as
"folios", differ.  A collection is rendered in parts (front matter, the
releases' pages, the contacts appendix, the page footers) that
:func:`publisher.pdf.join.join` joins into one tagged PDF, so that a release
that did not change comes from the cache.  The result is the files' bytes;
the orchestrator writes them.  Which releases a kit or a month holds is
asked before, of :mod:`publisher.selection`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from . import mail
from .compose import Page, base_context
from .defaults import DEFAULTS
from .errors import Problem, has_errors
from .inputs.profiles import Profile
from .inputs.settings import KitSettings, Site
from .localise import (
    Contact,
    Localised,
    creation_date,
    long_date,
    month_title,
    pick_language,
    site_locale,
    site_typographer,
    source_epoch,
)
from .pdf.join import PART_LINK, join
from .pdf.press import press_ready
from .render import Attachment
from .text.breaking import without_break_hints
from .text.slugs import slugify

# --- what bundle is given, and what it gives back -----------------------------------


@dataclass(frozen=True)
class MailInputs:
    """What an e-mail edition needs from the build besides its output."""

    assets_url: str = ""  # site.yaml email.assets_url
    sources_dir: str = ""  # file: URL of sources/, for assets_url links
    originals: dict[str, str] = field(default_factory=dict)  # reduced image → its source


@dataclass
class ReleaseBundle:
    """One release's own PDF: its pages with its page footers."""

    release: Localised
    profile: Profile
    page: Page | None = None  # for the e-mail edition (none: no .eml)
    mail: MailInputs | None = None


@dataclass
class KitBundle:
    """One press kit in one language, with its releases localised."""

    slug: str
    file: str  # the kit's source, as shown to people
    lang: str
    meta: KitSettings  # the kit's settings
    releases: list[Localised]  # in the kit's order, anchors set
    left_out: list[str]  # titles of releases not available in this language
    intro_html: str
    cover_url: str | None
    attachments: list[Attachment]
    site: Site
    page: Page
    sources: list[str]
    mail: MailInputs = field(default_factory=MailInputs)


@dataclass
class NewsletterBundle:
    """The newsletter of one month in one language."""

    month: str  # YYYY-MM
    lang: str
    number: int  # the issue number
    releases: list[Localised]  # in date order, anchors set
    site: Site
    page: Page
    sources: list[str]
    mail: MailInputs = field(default_factory=MailInputs)


@dataclass(frozen=True)
class PartSpec:
    """One part of a kit or newsletter to compose and render."""

    name: str  # "front", "release", "appendix" or "folios"
    label: str  # what progress and counts name it by
    layout: str  # "kit" or "newsletter"
    lang: str
    context: dict
    file: str  # what problems point at
    epoch: int
    profile: Profile
    identifier: str = "part"  # the front's is the document's identifier
    attachments: tuple[Attachment, ...] = ()


@dataclass
class Part:
    pdf: bytes
    pages: int
    anchors: dict[str, int]  # anchor name → page index within the part
    problems: list[Problem]


class PartMaker(Protocol):
    """What bundle needs from the orchestrator."""

    @property
    def font_cache(self) -> object | None:
        """get(key) / put(key, bytes): merged font programs."""

    @property
    def font_files(self) -> object | None:
        """PostScript name → the bytes of the font file drawn with."""

    def part(self, spec: PartSpec) -> Part: ...

    def release(self, release: Localised, profile: Profile, folios: int = 0) -> Part:
        """The release's pages, laid out in its own layout; with ``folios``, that
        layout's page footers on ``folios`` blank pages instead."""
        ...

    def text(self, template: str, lang: str, context: dict) -> tuple[str, list[Problem]]: ...

    def read(self, url: str) -> bytes: ...

    def rasterise(self, svg: bytes, width: int) -> bytes:
        """An SVG drawing as a PNG ``width`` pixels wide (kept for the build)."""
        ...

    def remembered(self, name: str, default: int) -> int: ...

    def remember(self, name: str, value: int) -> None: ...

    def front_guess(self, layout: str, sections: int, default: int) -> int:
        """How long a front matter of ``layout`` listing ``sections`` parts
        probably is, from the fronts this build has rendered so far."""
        ...

    def front_seen(self, layout: str, sections: int, pages: int) -> None: ...


@dataclass
class BundledFile:
    folder: str  # "kits" or "newsletters"
    name: str  # e.g. cnes-roscosmos-2018.fr.pdf
    data: bytes
    pages: int | None = None


@dataclass
class Bundled:
    files: list[BundledFile]
    problems: list[Problem]
    notes: list[str]


@dataclass
class ContactGroup:
    organisation: str
    contacts: list[Contact]


# --- the stage ---------------------------------------------------------------------


def bundle(job: ReleaseBundle | KitBundle | NewsletterBundle, maker: PartMaker) -> Bundled:
    """Make one release's PDF, one kit or one newsletter: its files, problems and notes."""
    if isinstance(job, ReleaseBundle):
        return _release(job, maker)
    if isinstance(job, KitBundle):
        return _kit(job, maker)
    return _newsletter(job, maker)


def _release(job: ReleaseBundle, maker: PartMaker) -> Bundled:
    release = job.release
    pages = maker.release(release, job.profile)
    problems = list(pages.problems)
    folios = maker.release(release, replace(job.profile, pdf_variant=None), folios=pages.pages)
    problems += folios.problems
    name = f"{release.stem}.pdf"
    if folios.pages != pages.pages:
        problems.append(Problem(release.file, None, f"the layout's page footers came out on "
                                f"{folios.pages} pages for {pages.pages} pages; a release "
                                "layout draws only its footers when part is \"folios\" "
                                "(see layouts/release/release.html)", code="L006"))
    if has_errors(problems):
        return Bundled([], problems, [])
    digest = hashlib.sha256(release.stem.encode()).hexdigest()
    pdf = join([pages.pdf], folios.pdf, identifier=digest[:32].encode(), page_labels=False,
               share_fonts=False)
    if job.profile.condition:  # the print edition: CMYK and its output intent
        pdf = press_ready(pdf, job.profile.condition)
    files = [BundledFile("releases", name, pdf, pages.pages)]
    if job.page is not None and job.mail is not None and not job.profile.condition:
        meta = {"title": release.title, "author": "", "subject": release.subtitle,
                "keywords": [], "created": release.created}
        context = base_context(release.site, release.lang, job.page, meta)
        images = _images(job.mail, maker)
        context.update(release=_for_email(release, images), contacts=contact_groups([release]),
                       about=release.about)
        letter, found = _letter(maker, "release", context, images, site=release.site,
                                identifier=f"release/{release.stem}", day=release.date,
                                attachments=[mail.Attached(name, pdf)])
        problems += found
        files.append(BundledFile("releases", f"{release.stem}.eml", mail.message(letter)))
    return Bundled(files, problems, [])


def _images(inputs: MailInputs, maker: PartMaker) -> mail.Images:
    return mail.Images(maker.read, inputs.assets_url, inputs.sources_dir, inputs.originals,
                       rasterise=maker.rasterise)


def _for_email(release: Localised, images: mail.Images) -> Localised:
    """The release with its body as the e-mail shows it: images as parts or links,
    and as plain text."""
    body = without_break_hints(release.body_html + release.after_mark_html)
    return replace(release, email_body=images.rewrite(body), text=mail.to_text(body))


def _letter(maker: PartMaker, layout: str, context: dict, images: mail.Images, *, site: Site,
            identifier: str, day: dt.date, attachments=(), view_online: str = ""):
    """The e-mail edition composed with ``layouts/<layout>/email.html`` and
    ``email.txt``: (letter, problems)."""
    settings = site.email
    unsubscribe = list(settings.unsubscribe)
    logo = context.get("logo_url")
    values = dict(context, email_logo=images.logo(logo, DEFAULTS["email_logo_px"]) if logo
                  else None, view_online=view_online,
                  unsubscribe=next((u for u in unsubscribe if u.startswith("https://")),
                                   unsubscribe[0] if unsubscribe else ""))
    lang = context["lang"]
    html, problems = maker.text(f"{layout}/email.html", lang, values)
    text, found = maker.text(f"{layout}/email.txt", lang, values)
    text = mail.wrap(text)
    problems = problems + found
    html = mail.inline_styles(images.rewrite(html))
    sender = settings.sender
    letter = mail.Letter(
        subject=mail.subject_of(html), html=html, text=text, sender=sender,
        reply_to=settings.reply_to,
        date=dt.datetime.combine(day, dt.time(), dt.timezone.utc),
        message_id=mail.message_id(identifier, sender), lang=lang,
        images=list(images.parts.values()), attachments=list(attachments),
        unsubscribe=unsubscribe)
    return letter, problems


def _kit(job: KitBundle, maker: PartMaker) -> Bundled:
    lang = job.lang
    locale = site_locale(lang, job.site)
    typo = site_typographer(locale, job.site)
    groups = contact_groups(job.releases) if job.meta.contacts_appendix else []
    attachments = vcard_attachments(groups) + job.attachments
    site = job.releases[0].site if job.releases else job.site
    title = typo.text(kit_text(job.meta.title, lang) or job.slug)
    date = job.meta.date or dt.date(1970, 1, 1)  # the schema requires it
    meta = {"title": title, "author": site.issuer,
            "subject": typo.text(kit_text(job.meta.subtitle, lang)),
            "keywords": sorted({t for r in job.releases for t in r.tags}),
            "created": creation_date(date)}
    context = base_context(site, lang, job.page, meta)
    context.update(
        kit={"title": title, "subtitle": meta["subject"],
             "date_long": long_date(date, locale), "intro_html": job.intro_html,
             "cover_url": job.cover_url, "cover_alt": title},
        releases=job.releases, left_out=job.left_out, contacts=groups,
        about=job.releases[0].about if job.releases else None)
    name = f"{job.slug}.{lang}.pdf"
    pdf, pages, problems = _parts(
        maker, "kit", context, job.releases, name=name, identifier=f"kit/{job.slug}/{lang}",
        epoch=source_epoch(date), file=job.file, profile=job.page.profile,
        attachments=tuple(attachments), front_pages=2)  # cover, contents
    notes = [f"{name}: left out {title}" for title in job.left_out]
    files = [BundledFile("kits", name, pdf, pages)] if pdf is not None else []
    if pdf is not None and not job.page.profile.condition:
        images = _images(job.mail, maker)
        intro = without_break_hints(job.intro_html)  # an e-mail client breaks lines itself
        context["kit"] = dict(context["kit"], intro_email=images.rewrite(intro),
                              intro_text=mail.to_text(intro))
        letter, found = _letter(maker, "kit", context, images, site=site,
                                identifier=f"kit/{job.slug}/{lang}", day=date,
                                attachments=[mail.Attached(name, pdf)])
        problems += found
        files.append(BundledFile("kits", f"{job.slug}.{lang}.eml", mail.message(letter)))
    return Bundled(files, problems, notes)


def _newsletter(job: NewsletterBundle, maker: PartMaker) -> Bundled:
    lang = job.lang
    first = dt.date.fromisoformat(f"{job.month}-01")
    locale = site_locale(lang, job.releases[0].site)
    # the edition's title ("Lettre d'information — juin 2018") is written by the layout
    edition = {"month": month_title(first, locale), "number": job.number,
               "month_line": month_title(first, locale, start_of_line=True)}
    groups = contact_groups(job.releases)
    site = job.releases[0].site
    last_day = max(r.date for r in job.releases)
    meta = {"author": site.issuer,
            "subject": ", ".join(r.title for r in job.releases),
            "keywords": sorted({t for r in job.releases for t in r.tags}),
            "created": creation_date(last_day)}
    context = base_context(site, lang, job.page, meta)
    context.update(edition=edition, releases=job.releases, contacts=groups,
                   about=job.releases[0].about)
    name = f"{job.month}.{lang}"
    pdf, pages, problems = _parts(
        maker, "newsletter", context, job.releases, name=f"{name}.pdf",
        identifier=f"newsletter/{name}", epoch=source_epoch(last_day),
        file=f"newsletter {job.month}", profile=job.page.profile)
    if pdf is None:
        return Bundled([], problems, [])
    files = [BundledFile("newsletters", f"{name}.pdf", pdf, pages)]
    if job.page.profile.name == "print":
        return Bundled(files, problems, [])
    # the e-mail edition: the message, its HTML as a browser shows it, its text part
    images = _images(job.mail, maker)
    base = job.mail.assets_url.rstrip("/")
    context.update(releases=[_for_email(r, images) for r in job.releases])
    letter, found = _letter(maker, "newsletter", context, images, site=site,
                            identifier=f"newsletter/{name}", day=last_day,
                            view_online=f"{base}/newsletters/{name}.html" if base else "")
    problems += found
    files.append(BundledFile("newsletters", f"{name}.html",
                             letter.browsable_html.encode("utf-8")))
    files.append(BundledFile("newsletters", f"{name}.txt", letter.text.encode("utf-8")))
    files.append(BundledFile("newsletters", f"{name}.eml", mail.message(letter)))
    return Bundled(files, problems, [])


def front_guess(seen: dict[int, int], sections: int, default: int) -> int:
    """The pages of a front matter listing ``sections`` parts, guessed from ``seen``
    (parts → pages of the fronts rendered so far with the same layout): the
    nearest count's, in proportion; ``default`` when none was seen."""
    if not seen:
        return default
    nearest = min(seen, key=lambda count: (abs(count - sections), -count))
    return max(1, round(seen[nearest] * sections / max(1, nearest)))


def _parts(maker: PartMaker, layout: str, context: dict, releases: list[Localised], *,
           name: str, identifier: str, epoch: int, file: str, profile: Profile,
           attachments: tuple[Attachment, ...] = (), front_pages: int = 1):
    """Render a kit or newsletter as parts and join them: (PDF or None, pages, problems).

    Each release's part is its own pages (:meth:`PartMaker.release`), the
    same as its own PDF's, so that the cache gives them back after the
    release's own build and when another release of the bundle changes; their
    headings move one level down, under the bundle's title.  The front matter
    is rendered last, when the page where each part starts is known; it is
    rendered again if its own length turns out different from what the
    numbering assumed.
    """
    lang = context["lang"]
    problems: list[Problem] = []

    def part(kind: str, extra: dict, *, shown: str, when: int, label: str = "",
             settings: Profile = profile, attached=(), own: bool = False) -> Part:
        # only the front's metadata is kept: the others' leaves out what changes
        # when a release joins the bundle
        meta = context["meta"] if kind == "front" else dict(context["meta"], subject="",
                                                             keywords=[])
        values = dict(context, part=kind, meta=meta,
                      part_link=lambda anchor: PART_LINK + anchor, **extra)
        return maker.part(PartSpec(kind, f"{name}: {label or kind}", layout, lang, values,
                                   shown, when, settings,
                                   identifier=identifier if own else "part",
                                   attachments=tuple(attached)))

    sections = [maker.release(release, profile) for release in releases]
    if context.get("contacts"):
        sections.append(part("appendix", {}, shown=file, when=epoch))
    for section in sections:
        problems += section.problems
    # the last build's count, or one learnt from this build's other bundles
    front_pages = maker.remembered(identifier,
                                   maker.front_guess(layout, len(sections), front_pages))
    for _attempt in range(4):
        pages, start = {}, front_pages + 1
        for section in sections:
            pages.update({anchor: start + page for anchor, page in section.anchors.items()})
            start += section.pages
        front = part("front", {"pages": pages}, shown=file, when=epoch, attached=attachments,
                     own=True)
        if front.pages == front_pages:
            break
        front_pages = front.pages
    else:
        problems.append(Problem(file, None, "the contents' page numbers did not settle (the "
                                "front matter's length changes with them); check them",
                                severity="warning", code="K005"))
    maker.remember(identifier, front_pages)
    maker.front_seen(layout, len(sections), front_pages)
    problems += front.problems
    total = front_pages + sum(section.pages for section in sections)
    folios = part("folios", {"folios": total, "pages": {}}, shown=file, when=epoch,
                  settings=replace(profile, pdf_variant=None))
    problems += folios.problems
    if has_errors(problems):
        return None, total, problems
    digest = hashlib.sha256(identifier.encode()).hexdigest()
    demote = [False] + [True] * len(releases) + [False] * (len(sections) - len(releases))
    pdf = join([front.pdf, *(s.pdf for s in sections)], folios.pdf,
               identifier=digest[:32].encode(), font_cache=maker.font_cache,
               originals=maker.font_files, demote=demote)
    if profile.condition:  # the print edition: CMYK and its output intent
        pdf = press_ready(pdf, profile.condition)
    return pdf, total, problems


def kit_text(value: Mapping[str, str], lang: str) -> str:
    return pick_language(value or {}, lang) or ""


# --- contacts -------------------------------------------------------------------------


def contact_key(contact: Contact) -> str:
    return contact.id or f"{contact.name}|{contact.email}".casefold()


def contact_groups(releases: list[Localised]) -> list[ContactGroup]:
    """Every contact of ``releases`` once, grouped by organisation, sorted as names sort."""
    collator = _collator()
    seen: dict[str, Contact] = {}
    for release in releases:
        for contact in release.contacts:
            seen.setdefault(contact_key(contact), contact)
    groups: dict[str, list[Contact]] = {}
    for contact in seen.values():
        groups.setdefault(contact.organisation_name, []).append(contact)
    return [
        ContactGroup(name, sorted(members, key=lambda c: collator.sort_key(c.sort_name)))
        for name, members in sorted(groups.items(), key=lambda item: collator.sort_key(item[0]))
    ]


_COLLATORS: list = []


def _collator():
    """The Unicode Collation Algorithm's default table (it takes a while to read)."""
    if not _COLLATORS:
        from pyuca import Collator

        _COLLATORS.append(Collator())
    return _COLLATORS[0]


def vcard(contact: Contact, organisation: str) -> str:
    """A vCard 3.0 for one contact (CRLF line ends, values escaped)."""

    def esc(value: str) -> str:
        return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
                .replace("\n", "\\n"))

    family, _, given = contact.sort_name.partition(",")
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{esc(contact.name)}",
             f"N:{esc(family.strip())};{esc(given.strip())};;;", f"ORG:{esc(organisation)}"]
    if contact.role:
        lines.append(f"TITLE:{esc(contact.role)}")
    if contact.phone:
        extension = f" ext. {contact.extension}" if contact.extension else ""
        lines.append(f"TEL;TYPE=WORK,VOICE:{esc(contact.phone + extension)}")
    if contact.mobile:
        lines.append(f"TEL;TYPE=CELL,VOICE:{esc(contact.mobile.number)}")
    if contact.fax:
        lines.append(f"TEL;TYPE=WORK,FAX:{esc(contact.fax.number)}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET,WORK:{contact.email}")
    if contact.address:
        lines.append(f"ADR;TYPE=WORK:;;{esc(contact.address)};;;;")
    if contact.note:
        lines.append(f"NOTE:{esc(contact.note)}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def vcard_attachments(groups: list[ContactGroup]) -> list[Attachment]:
    attachments: list[Attachment] = []
    for group in groups:
        for contact in group.contacts:
            stem = contact.id if re.fullmatch(r"[a-z0-9][a-z0-9._-]*", contact.id) else ""
            stem = stem or slugify(contact.name, fallback="")
            if not stem or any(a.name == f"{stem}.vcf" for a in attachments):
                stem = f"contact-{len(attachments) + 1}"
            attachments.append(Attachment(
                name=f"{stem}.vcf",
                data=vcard(contact, group.organisation).encode("utf-8"),
                description=f"{contact.name} ({group.organisation})"))
    return attachments
