"""Stage 5 — bundle: releases gathered into press kits and monthly newsletters.

A bundle is everything a collection needs: the releases in the bundle's
language and order, the releases left out (and why), the contacts appendix
(each person once, grouped by organisation and sorted as names sort), and the
files to attach — vCards for the contacts, the kit's own attachments.  The
collection is rendered in parts — front matter, one part per release, the
appendix — that :mod:`publisher.assemble` joins into one tagged PDF, so that
a release that did not change comes from the cache (:func:`render_parts`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, has_errors
from .load import Kit, Project, Release
from .localise import Contact, Localised, pick_language
from .resources import file_of


@dataclass
class Attachment:
    name: str
    data: bytes
    description: str


@dataclass
class ContactGroup:
    organisation: str
    contacts: list[Contact]


def bundle(builder, kind: str, *args):
    """Stage entry: make one kit (``kind`` "kit", kit index, language) or one
    newsletter ("newsletter", month, language); return (outputs, problems, notes)."""
    if kind == "kit":
        index, lang = args
        return build_kit(builder, builder.project.kits[index], lang)
    return build_newsletter(builder, *args)


def release_index(project: Project, clean: bool = False) -> dict[str, dict[str, Release]]:
    """Release id → language → release (only those that loaded cleanly if ``clean``)."""
    index: dict[str, dict[str, Release]] = {}
    for release in project.releases:
        if not release.lang:
            continue
        if clean and (not release.meta.get("date") or has_errors(release.problems)):
            continue
        index.setdefault(release.id, {})[release.lang] = release
    return index


def select_kit_releases(kit: Kit, index: dict[str, dict[str, Release]]) -> tuple[list[str],
                                                                                  list[Problem]]:
    """The kit's release ids, in order: its list, or what its selector matches."""
    selection = kit.meta["releases"]
    problems = []
    if "ids" in selection:
        ids = []
        for position, rid in enumerate(selection["ids"]):
            if rid not in index:
                from .schema import suggest

                hint = suggest(rid, index) or "check the release's file name"
                problems.append(kit.located.problem(("releases", position),
                                                    f"no release with id '{rid}'; {hint}"))
            else:
                ids.append(rid)
        return ids, problems
    tags = set(selection.get("tags") or [])
    start, end = selection.get("from"), selection.get("to")
    matches = []
    for rid, versions in index.items():
        day = next((r.meta["date"] for r in versions.values() if r.meta.get("date")), None)
        if day is None:
            continue
        release_tags = {t for r in versions.values() for t in r.meta.get("tags") or []}
        if tags and not tags & release_tags:
            continue
        if (start and day < start) or (end and day > end):
            continue
        matches.append((day, rid))
    if not matches:
        problems.append(kit.located.problem(("releases",), "the selector matches no release; "
                                                           "check its tags and dates",
                                            severity="warning"))
    return [rid for _day, rid in sorted(matches)], problems


def contact_key(contact: Contact) -> str:
    return contact.id or f"{contact.name}|{contact.email}".casefold()


def contact_groups(releases: list[Localised], project: Project, lang: str) -> list[ContactGroup]:
    """Every contact of ``releases`` once, grouped by organisation, sorted as names sort."""
    from pyuca import Collator

    collator = _collator(Collator)
    seen: dict[str, Contact] = {}
    for release in releases:
        for contact in release.contacts:
            seen.setdefault(contact_key(contact), contact)
    groups: dict[str, list[Contact]] = {}
    for contact in seen.values():
        groups.setdefault(organisation_name(contact.organisation, project, lang), []).append(
            contact)
    return [
        ContactGroup(name, sorted(members, key=lambda c: collator.sort_key(
            sort_name(c, project))))
        for name, members in sorted(groups.items(), key=lambda item: collator.sort_key(item[0]))
    ]


_COLLATOR = None


def _collator(factory):
    global _COLLATOR
    if _COLLATOR is None:
        _COLLATOR = factory()
    return _COLLATOR


def organisation_name(organisation: str, project: Project, lang: str) -> str:
    names = (project.site.get("organisations") or {}).get(organisation)
    if names:
        return pick_language(names, lang) or next(iter(names.values()))
    return organisation or project.site["name"]


def sort_name(contact: Contact, project: Project) -> str:
    entry = project.contacts.get(contact.id) or {}
    if entry.get("sort_name"):
        return entry["sort_name"]
    given, _, family = contact.name.rpartition(" ")
    return f"{family}, {given}" if given else family


def vcard(contact: Contact, organisation: str) -> str:
    """A vCard 3.0 for one contact (CRLF line ends, values escaped)."""

    def esc(value: str) -> str:
        return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
                .replace("\n", "\\n"))

    given, _, family = contact.name.rpartition(" ")
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{esc(contact.name)}",
             f"N:{esc(family)};{esc(given)};;;", f"ORG:{esc(organisation)}"]
    if contact.role:
        lines.append(f"TITLE:{esc(contact.role)}")
    if contact.phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{contact.phone}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET,WORK:{contact.email}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def vcard_attachments(groups: list[ContactGroup]) -> list[Attachment]:
    import re

    from .new import slugify

    attachments = []
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


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def issue_number(project: Project, month: str) -> int:
    """Issue numbers count months from the first month that has a release."""
    months = sorted({month_of(r.meta["date"]) for r in project.releases if r.meta.get("date")})
    if not months:
        return 1
    first_year, first_month = map(int, months[0].split("-"))
    year, number = map(int, month.split("-"))
    return (year - first_year) * 12 + (number - first_month) + 1


def newsletter_languages(project: Project, month: str) -> list[str]:
    return sorted({lang for m, lang in newsletter_months(project) if m == month})


def newsletter_months(project: Project) -> list[tuple[str, str]]:
    """(month, language) pairs of the releases that loaded cleanly."""
    return sorted({(month_of(r.meta["date"]), lang)
                   for versions in release_index(project, clean=True).values()
                   for lang, r in versions.items()})


def kit_inputs(builder, kit: Kit, lang: str) -> list:
    """What a kit's bytes depend on, besides its layout: for its cache key."""
    from .cache import file_hash

    index = release_index(builder.project)
    ids, _ = select_kit_releases(kit, index)
    inputs = [file_hash(kit.path)]
    for rid in ids:
        release = _version(index.get(rid, {}), lang)
        inputs.append(builder.release_inputs(release) if release else f"missing {rid}")
    for name in [kit.meta.get("cover"), *(kit.meta.get("attachments") or [])]:
        if name:
            inputs.append(file_hash((kit.path.parent / name).resolve()))
    return inputs


def newsletter_inputs(builder, month: str, lang: str) -> list:
    """What a newsletter's bytes depend on, besides its layouts: for its cache key."""
    inputs = [issue_number(builder.project, month)]
    for rid, versions in sorted(release_index(builder.project, clean=True).items()):
        if month_of(next(iter(versions.values())).meta["date"]) == month:
            release = _version(versions, lang)
            inputs.append(builder.release_inputs(release) if release else f"absent {rid}")
    return inputs


def embargoed_month(builder, month: str, lang: str) -> bool:
    """True when every release of ``month`` in ``lang`` is under embargo at the build time."""
    versions = [_version(v, lang) for v in release_index(builder.project, clean=True).values()]
    versions = [r for r in versions if r and month_of(r.meta["date"]) == month]
    return bool(versions) and all(r.meta.get("embargo") and r.meta["embargo"] > builder.as_of
                                  for r in versions)


def _version(versions: dict[str, Release], lang: str) -> Release | None:
    if lang in versions:
        return versions[lang]
    base = lang.split("_")[0]
    return next((r for code, r in sorted(versions.items()) if code.split("_")[0] == base), None)


def _name_of(versions: dict[str, Release], project: Project) -> str:
    default = project.site.get("default_lang")
    release = versions.get(default) or versions[sorted(versions)[0]]
    return f"{release.meta.get('title') or release.id} ({release.id})"


def gather(builder, ids: list[str], lang: str, *, where, skip_embargoed: bool = False):
    """Localise the releases ``ids`` in ``lang``; say which were left out and why.

    ``where(rid)`` gives the (file, line) that left-out messages point at.
    """
    index = release_index(builder.project)
    localised, left_out, problems, embargoed = [], [], [], []
    for rid in ids:
        versions = index.get(rid, {})
        release = _version(versions, lang)
        file, line = where(rid)
        if release is None:
            left_out.append(_name_of(versions, builder.project))
            problems.append(Problem(file, line, f"release '{rid}' has no '{lang}' version; "
                                                f"left out of the {lang} edition",
                                    severity="warning"))
            continue
        result = None if has_errors(release.problems) else builder.localise(release)
        if result is None or has_errors(result.problems):
            left_out.append(_name_of(versions, builder.project))
            problems.append(Problem(file, line, f"release '{rid}' ({release.file}) has errors; "
                                                "left out until they are fixed",
                                    severity="warning"))
            continue
        if skip_embargoed and result.embargo:
            embargoed.append(f"{release.file} (embargo: {result.embargo})")
            continue
        result.anchor = f"release-{rid}"
        localised.append(result)
    return localised, left_out, problems, embargoed


def kit_text(value: dict, lang: str) -> str:
    return pick_language(value or {}, lang) or ""


def build_kit(builder, kit: Kit, lang: str):
    """Bundle, compose and render one kit in one language: ([output], problems, notes)."""
    from babel.dates import format_date

    from .cache import file_hash
    from .compose import base_context
    from .localise import creation_date, localise_markdown, source_epoch
    from .resources import RefusedResource
    from .typography import typographer

    project = builder.project
    index = release_index(project)
    ids, problems = select_kit_releases(kit, index)
    positions = {rid: i for i, rid in enumerate((kit.meta["releases"] or {}).get("ids", []))}

    def where(rid):
        path = ("releases", positions[rid]) if rid in positions else ("releases",)
        return kit.file, kit.located.line(*path)

    releases, left_out, found, _ = gather(builder, ids, lang, where=where)
    problems += found
    if not releases:
        problems.append(kit.located.problem(
            ("lang",), f"none of the kit's releases can be included in '{lang}'; add "
                       f"translations or remove '{lang}' from the kit's languages"))
    typo = typographer(lang)
    profile = builder.profile(kit.meta.get("profile"))
    date = kit.meta["date"]
    intro_html = ""
    intro = kit_text(kit.meta.get("intro"), lang)
    if intro:
        intro_html, found = localise_markdown(
            intro, lang, source=kit.path, shown=kit.file,
            first_line=kit.located.line("intro") + 1, policy=builder.session.policy,
            prepare_image=builder.prepare_image)
        problems += found
    cover_url = None
    if kit.meta.get("cover"):
        try:
            cover_url = builder.session.policy.resolve_reference(kit.meta["cover"],
                                                                 kit.path.parent)
        except RefusedResource as exc:
            problems.append(kit.located.problem(("cover",), f"cover: {exc}"))
    attachments = []
    for position, name in enumerate(kit.meta.get("attachments") or []):
        try:
            url = builder.session.policy.resolve_reference(name, kit.path.parent)
            data = file_of(url).read_bytes()
            attachments.append(Attachment(name.rsplit("/", 1)[-1], data, name))
        except (RefusedResource, OSError) as exc:
            problems.append(kit.located.problem(("attachments", position), f"attachment: {exc}"))
    if has_errors(problems):
        return [], problems, []
    groups = contact_groups(releases, project, lang) if kit.meta["contacts_appendix"] else []
    attachments = vcard_attachments(groups) + attachments
    site = releases[0].site if releases else project.site
    title = typo.text(kit_text(kit.meta["title"], lang) or kit.slug)
    meta = {"title": title, "author": site.get("legal_name") or site["name"],
            "subject": typo.text(kit_text(kit.meta.get("subtitle"), lang)),
            "keywords": sorted({t for r in releases for t in r.tags}),
            "created": creation_date(date)}
    context = base_context(site, lang, builder.session.composer, page_size=builder.page_size(),
                           logo_url=builder.logo_url(), meta=meta, profile=profile)
    context.update(
        kit={"title": title, "subtitle": meta["subject"],
             "date_long": format_date(date, "long", locale=lang), "intro_html": intro_html,
             "cover_url": cover_url, "cover_alt": title},
        releases=releases, left_out=left_out, contacts=groups,
        about=releases[0].about if releases else None)
    target = builder.target("kits", f"{kit.slug}.{lang}.pdf", profile)
    sources = [kit.file] + [r.release.file for r in releases] + ["sources/site.yaml"]
    if groups:
        sources.append("sources/contacts.yaml")
    cover = [file_hash(file_of(cover_url))] if cover_url else []
    output, found = render_parts(
        builder, "kit", context, releases, target=target, identifier=f"kit/{kit.slug}/{lang}",
        epoch=source_epoch(date), file=kit.file, sources=sources, profile=profile,
        attachments=attachments, front_inputs=cover, front_pages=2)  # cover, contents
    notes = [f"{target.name}: left out {name}" for name in left_out]
    return [output], problems + found, notes


def build_newsletter(builder, month: str, lang: str):
    """The newsletter of ``month`` in ``lang``: PDF, e-mail HTML and plain text."""
    from .compose import base_context
    from .localise import creation_date, month_title, source_epoch
    from .write import write

    project = builder.project
    index = release_index(project, clean=True)
    ids = sorted((versions[next(iter(versions))].meta["date"], rid)
                 for rid, versions in index.items()
                 if month_of(next(iter(versions.values())).meta["date"]) == month)
    ids = [rid for _day, rid in ids]

    def where(rid):
        release = _version(index[rid], lang) or next(iter(index[rid].values()))
        return release.file, None

    releases, _left_out, problems, embargoed = gather(builder, ids, lang, where=where,
                                                      skip_embargoed=True)
    # releases missing in this language are simply not part of this edition
    problems = [p for p in problems if "has no" not in p.message]
    notes = [f"newsletter {month}.{lang}: left out under embargo at "
             f"{builder.as_of.isoformat()}: {entry}" for entry in embargoed]
    if not releases:
        return [], problems + [Problem(f"newsletter {month}", None,
                                       f"no release to publish in '{lang}' for {month}",
                                       severity="warning")], notes
    first = dt.date.fromisoformat(f"{month}-01")
    # the edition's title ("Lettre d'information — juin 2018") is written by the layout
    edition = {"month": month_title(first, lang), "number": issue_number(project, month),
               "month_line": month_title(first, lang, start_of_line=True)}
    groups = contact_groups(releases, project, lang)
    site = releases[0].site
    last_day = max(r.date for r in releases)
    meta = {"author": site.get("legal_name") or site["name"],
            "subject": ", ".join(r.title for r in releases),
            "keywords": sorted({t for r in releases for t in r.tags}),
            "created": creation_date(last_day)}
    profile = builder.profile()
    context = base_context(site, lang, builder.session.composer, page_size=builder.page_size(),
                           logo_url=builder.logo_url(), meta=meta, profile=profile)
    context.update(edition=edition, releases=releases, contacts=groups,
                   about=releases[0].about)
    sources = [r.release.file for r in releases] + ["sources/site.yaml",
                                                    "sources/contacts.yaml"]
    name = f"{month}.{lang}"
    pdf_output, found = render_parts(
        builder, "newsletter", context, releases,
        target=builder.target("newsletters", f"{name}.pdf", profile),
        identifier=f"newsletter/{name}", epoch=source_epoch(last_day),
        file=f"newsletter {month}", sources=sources, profile=profile)
    problems += found
    if pdf_output is None or profile["name"] == "print":
        return [pdf_output], problems, notes
    # the e-mail edition: one self-contained HTML file and its plain-text part
    email = EmailAssets(project, builder.originals)
    for release in releases:
        release.email_body = email.rewrite(release.body_html)
        release.text = html_to_text(release.body_html)
    context["email_logo"] = email.url_for(builder.logo_url()) if builder.logo_url() else None
    html, _ = builder.session.composer.render("newsletter/email.html", lang, context)
    html = inline_css(html)
    text, _ = builder.session.composer.render("newsletter/email.txt", lang, context)
    problems += builder.catalog_problems(builder.session.composer.catalog(lang))
    outputs = [pdf_output]
    for suffix, data in (("html", html), ("txt", text)):
        target = builder.build_dir / "newsletters" / f"{name}.{suffix}"
        from .build import Output

        outputs.append(Output(target, sources, write(target, data.encode("utf-8"))))
    return outputs, problems, notes


def render_parts(builder, layout: str, context: dict, releases: list[Localised], *,
                 target: Path, identifier: str, epoch: int, file: str, sources: list[str],
                 profile: dict, attachments=(), front_inputs=(), front_pages: int = 1):
    """Render a kit or newsletter as parts, join them, write the PDF: (Output, problems).

    Each release is its own part, rendered with the release's own dates and
    nothing of the bundle but its layout, so that the cache can give it back
    when another release of the bundle changes.  The front matter is rendered
    last, when the page where each part starts is known; it is rendered again
    if its own length turns out different from what the numbering assumed.
    """
    from .assemble import PART_LINK, assemble
    from .build import Output
    from .compose import compose_document
    from .localise import source_epoch
    from .render import Rendered
    from .write import write

    composer = builder.session.composer
    lang = context["lang"]
    template = f"{layout}/{layout}.html"
    fingerprint = builder.fingerprint(layout, lang, profile)
    problems: list[Problem] = []

    def part(name: str, extra: dict, *, shown: str, when: int, inputs=(), attached=(),
             settings=profile, label: str = "", own_identifier: bool = False):
        # only the front's metadata is kept; a release's part carries its own, so
        # that a later release joining the month does not change the others' parts
        meta = context["meta"]
        if name == "release":
            release = extra["release"]
            meta = {"title": release.title, "author": meta["author"], "subject": "",
                    "keywords": [], "created": release.created}
        elif name != "front":
            meta = dict(meta, subject="", keywords=[])
        values = dict(context, part=name, meta=meta,
                      part_link=lambda anchor: PART_LINK + anchor, **extra)
        composed = compose_document(composer, template, lang, values)
        return builder.render_part(composed, name=f"{target.name}: {label or name}",
                                   file=shown, epoch=when, profile=settings,
                                   inputs=[fingerprint, *inputs], attachments=attached,
                                   # the front's metadata becomes the document's
                                   identifier=identifier if own_identifier else "part")

    sections, infos = [], []
    for release in releases:
        pdf, found, info = part("release", {"release": release}, shown=release.release.file,
                                when=source_epoch(release.date), label=release.release.file,
                                inputs=builder.release_inputs(release.release))
        sections.append(pdf)
        infos.append(info)
        problems += found
    if context.get("contacts"):
        pdf, found, info = part("appendix", {}, shown=file, when=epoch)
        sections.append(pdf)
        infos.append(info)
        problems += found
    front_pages = builder.hint(identifier, front_pages)  # the last build's count, or a guess
    for _attempt in range(4):
        pages, start = {}, front_pages + 1
        for info in infos:
            pages.update({anchor: start + page for anchor, page in info.anchors.items()})
            start += info.pages
        front, found, info = part("front", {"pages": pages}, shown=file, when=epoch,
                                  inputs=front_inputs, attached=attachments,
                                  own_identifier=True)
        if info.pages == front_pages:
            break
        front_pages = info.pages
    else:
        problems.append(Problem(file, None, "the contents' page numbers did not settle (the "
                                "front matter's length changes with them); check them",
                                severity="warning"))
    builder.hint(identifier, front_pages, save=True)
    problems += found
    total = front_pages + sum(info.pages for info in infos)
    folios, found, _info = part("folios", {"folios": total, "pages": {}}, shown=file,
                                when=epoch, settings=dict(profile, pdf_variant=None))
    problems += found
    problems += builder.catalog_problems(composer.catalog(lang))
    if has_errors(problems):
        return None, problems
    digest = hashlib.sha256(identifier.encode()).hexdigest()
    pdf = assemble([front, *sections], folios, identifier=digest[:32].encode(),
                   font_cache=_FontCache(builder.cache) if builder.cache else None)
    if builder.inspect:
        problems += builder.inspect(target, Rendered(pdf, total), file)
    return Output(target, sources, write(target, pdf), total), problems


class _FontCache:
    """Merged font programs (see :func:`publisher.assemble.merge_fonts`) in the cache."""

    def __init__(self, cache):
        self.cache = cache

    def get(self, key: str) -> bytes | None:
        entry = self.cache.get(f"font-{key}")
        return None if entry is None else self.cache.blob(f"font-{key}", "font").read_bytes()

    def put(self, key: str, data: bytes) -> None:
        self.cache.put(f"font-{key}", {"font": data}, {})


def inline_css(html: str) -> str:
    """Every rule of the e-mail's <style> moved into style attributes (css-inline)."""
    import css_inline

    inliner = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False,
                                    load_remote_stylesheets=False)
    return inliner.inline(html)


class EmailAssets:
    """Images of the e-mail edition: absolute links under site.yaml's
    ``email.assets_url`` (to the source image, also when the PDF uses a
    reduced copy), or ``data:`` URIs when none is set."""

    def __init__(self, project: Project, originals: dict[str, str] | None = None):
        self.root = project.path("sources_dir")
        self.base = ((project.site.get("email") or {}).get("assets_url") or "").rstrip("/")
        self.originals = originals or {}

    def url_for(self, file_url: str) -> str:
        import base64
        import mimetypes

        path = file_of(file_url)
        if self.base:
            try:
                source = file_of(self.originals.get(file_url, file_url))
                return f"{self.base}/{source.relative_to(self.root).as_posix()}"
            except ValueError:
                pass
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"

    def rewrite(self, html: str) -> str:
        import re

        return re.sub(r'src="(file://[^"]+)"', lambda m: f'src="{self.url_for(m[1])}"', html)


def html_to_text(html: str, width: int = 72) -> str:
    """A release body as plain text: paragraphs wrapped, links spelled out."""
    import textwrap
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.blocks, self.current, self.href = [], [], None

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.href = dict(attrs).get("href")
            elif tag == "li":
                self.current.append("- ")
            elif tag in ("br",):
                self.current.append("\n")

        def handle_endtag(self, tag):
            if tag == "a" and self.href:
                text = "".join(self.current)
                label = self.href.removeprefix("mailto:").removeprefix("tel:")
                if not text.rstrip().endswith(label):
                    self.current.append(f" <{self.href}>")
                self.href = None
            if tag in ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"):
                self.flush()

        def handle_data(self, data):
            self.current.append(data)

        def flush(self):
            text = " ".join("".join(self.current).split())
            if text:
                self.blocks.append(textwrap.fill(text, width, break_long_words=False,
                                                 break_on_hyphens=False))
            self.current = []

    parser = Text()
    parser.feed(html)
    parser.flush()
    return "\n\n".join(parser.blocks) + "\n"
