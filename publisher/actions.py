"""Running one action of the plan: its outputs as bytes, its problems, its notes.

:func:`run` is a function of a :class:`~publisher.workspace.Workspace` and an
action; it reads through the workspace's resource policy and cache and writes
nothing to the build folder: the build folder writes what it returns
(:mod:`publisher.buildfolder`), so an action runs the same inline, in a forked
or in a spawned worker.  The parts of kits and newsletters (a release's pages,
a front, an appendix) go to the cache by the digest of their composed HTML and
of every file it refers to, and are reused from it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from . import bundle as bundling
from . import selection
from .bundle import Bundled, KitBundle, NewsletterBundle, Part, PartSpec, bundle
from .cache import FontPrograms, key_of
from .compose import Document, compose, release_document
from .defaults import DEFAULTS
from .errors import Problem, PublisherError, display_path, has_errors, os_problem
from .inputs.profiles import Profile
from .inputs.resources import RefusedResource, file_of
from .load import Kit
from .localise import Localised, localise_markdown, source_epoch
from .plan import Job, KitJob, NewsletterJob, ReleaseJob
from .render import Attachment, Rendered, RenderJob, render
from .workspace import Workspace

log = logging.getLogger("publisher")

_FILE_URL = re.compile(r"file://[^\"'\s)<>]+")


@dataclass(frozen=True)
class Made:
    """One output file of an action, named relative to build/."""

    name: str
    data: bytes
    sources: tuple[str, ...]
    pages: int | None


@dataclass
class JobResult:
    files: list[Made]
    problems: list[Problem]
    notes: list[str]
    parts_rendered: list[str] = field(default_factory=list)
    parts: int = 0


def run(ws: Workspace, job: Job) -> JobResult:
    """Make one action's outputs; a bug in it fails that output, never the build."""
    parts = Parts(ws)
    try:
        if isinstance(job, ReleaseJob):
            files, problems, notes = _release(ws, job)
        else:
            files, problems, notes = _bundle(ws, job, parts)
    except PublisherError as exc:
        files, problems, notes = [], exc.problems, []
    except OSError as exc:
        shown = display_path(ws.build_dir, ws.root) + "/"
        files, problems, notes = [], [os_problem(exc, shown)], []
    except Exception as exc:  # a bug: this output fails, the others go on
        log.debug("%s: internal error", job.name, exc_info=True)  # shown under --debug
        files, notes = [], []
        problems = [Problem(job.name, None, f"internal error ({type(exc).__name__}: "
                            f"{exc}); this output was not made. Please report it, with "
                            "the output of the same command run with --debug", code="O003")]
    return JobResult(files, problems, notes,
                     [name for name, rendered in parts.log if rendered], len(parts.log))


# --- one release --------------------------------------------------------------


def _release(ws: Workspace, job: ReleaseJob):
    release = ws.project.releases[job.release]
    localised = ws.localise(job.release)
    # what loading it found (only warnings, or there would be no job)
    problems = [*release.problems, *localised.problems]
    if has_errors(problems):
        return [], problems, []
    settings = ws.profile()
    made: Bundled = bundle(bundling.ReleaseBundle(localised, settings, ws.page(settings),
                                                  ws.mail_inputs()), Parts(ws))
    problems += made.problems
    sources = [release.file, str(DEFAULTS["site_file"])]
    if any(isinstance(c, str) for c in release.meta.get("contacts") or []):
        sources.insert(1, str(DEFAULTS["contacts_file"]))
    files = []
    for item in made.files:  # the PDF, then its e-mail edition
        target = ws.target("releases", item.name, settings)
        if item.name.endswith(".pdf") and ws.options.inspect:
            problems += ws.options.inspect(target, Rendered(item.data, item.pages or 0),
                                           release.file)
        files.append(Made(display_path(target, ws.build_dir), item.data, tuple(sources),
                          item.pages))
    return files, problems, []


def release_spec(ws: Workspace, localised: Localised, settings: Profile,
                 folios: int = 0) -> PartSpec:
    """How to lay out a release's pages in its layout (see :meth:`Parts.release`);
    the same in its own PDF and in every bundle."""
    release = ws.release_of(localised)
    layout = ws.layout_of(release)
    context = release_document(localised, ws.page(settings), layout).context
    if not folios:
        return PartSpec("release", release.file, layout, localised.lang,
                        dict(context, part="release"), release.file,
                        source_epoch(localised.date), settings, identifier=localised.stem)
    # the footers of a release's pages: nothing of the release in their
    # metadata, so that releases of the same length share them
    meta = {"title": "", "author": "", "subject": "", "keywords": [],
            "created": "1970-01-01T00:00:00Z"}
    return PartSpec("folios", f"{release.file}: folios", layout, localised.lang,
                    dict(context, part="folios", folios=folios, pages={}, meta=meta),
                    release.file, 0, settings, identifier="folios")


def css_problem(ws: Workspace, message: str, file: str) -> Problem:
    """A WeasyPrint warning, pointed at the stylesheet line it is about when found."""
    match = re.search(r"`([^`]*)` at (\d+):(\d+)", message)
    if match:
        snippet, line, col = match[1].split(":")[0].strip(), int(match[2]), int(match[3])
        sheet = ws.layouts.locate_css(snippet, line)
        if sheet is not None:
            return Problem(display_path(sheet, ws.root), line, f"WeasyPrint: {message}",
                           col=col, severity="warning", code="L005")
    return Problem(file, None, f"WeasyPrint: {message}", severity="warning", code="L005")


# --- kits and newsletters ---------------------------------------------------------


def members(ws: Workspace, ids: list[str], lang: str, *, where, missing_ok: bool = False,
            skip_embargoed: bool = False):
    """The releases ``ids`` localised in ``lang``, and which were left out and why.

    ``where(rid)`` gives the (file, line) that left-out messages point at.
    """
    index = selection.release_index(ws.project)
    localised, left_out, problems, embargoed = [], [], [], []
    for rid in ids:
        versions = index.get(rid, {})
        release = selection.version_in(versions, lang)
        file, line = where(rid)
        title = selection.title_of(versions, ws.project.site.default_lang)
        if release is None:
            if not missing_ok:
                left_out.append(title)
                problems.append(Problem(file, line, f"release '{rid}' has no '{lang}' "
                                        f"version; left out of the {lang} edition",
                                        severity="warning", code="K002"))
            continue
        broken = has_errors(release.problems) or not ws.layouts.exists(ws.layout_of(release))
        result = None if broken else ws.localise(ws.index_of[id(release)])
        if result is None or has_errors(result.problems):
            left_out.append(title)
            problems.append(Problem(file, line, f"release '{rid}' ({release.file}) has "
                                    "errors; left out until they are fixed",
                                    severity="warning", code="K001"))
            continue
        if skip_embargoed and result.embargo:
            embargoed.append(f"{release.file} (embargo: {result.embargo})")
            continue
        localised.append(result)
    return localised, left_out, problems, embargoed


def _bundle(ws: Workspace, job: KitJob | NewsletterJob, parts: Parts):
    if isinstance(job, KitJob):
        spec, problems, notes = _kit(ws, ws.project.kits[job.kit], job.lang)
    else:
        spec, problems, notes = _newsletter(ws, job)
    if spec is None or has_errors(problems):
        return [], problems, notes
    made: Bundled = bundle(spec, parts)
    problems += made.problems
    files = []
    shown = spec.file if isinstance(spec, KitBundle) else f"newsletter {spec.month}"
    for item in made.files:
        target = ws.target(item.folder, item.name, spec.page.profile)
        if item.name.endswith(".pdf") and ws.options.inspect:
            problems += ws.options.inspect(target, Rendered(item.data, item.pages or 0), shown)
        files.append(Made(display_path(target, ws.build_dir), item.data, tuple(spec.sources),
                          item.pages))
    return files, problems, notes + made.notes


def _kit(ws: Workspace, kit: Kit, lang: str):
    index = selection.release_index(ws.project)
    ids, problems = selection.kit_release_ids(kit, index)
    positions = {rid: i for i, rid in enumerate(kit.meta.releases.ids or ())}

    def where(rid):
        path = ("releases", positions[rid]) if rid in positions else ("releases",)
        return kit.file, kit.front.line(*path)

    releases, left_out, found, _ = members(ws, ids, lang, where=where)
    problems += found
    if not releases and ids and all(p.code == "K001" for p in found):
        # its releases' own errors say it all: the kit is simply not made
        return None, problems, [f"{kit.slug}.{lang}.pdf: not made, its releases have errors"]
    if not releases:
        problems.append(kit.front.problem(
            ("lang",), f"none of the kit's releases can be included in '{lang}'; add "
                       f"translations or remove '{lang}' from the kit's languages",
            code="K003"))
    intro_html = ""
    intro = bundling.kit_text(kit.meta.intro, lang)
    if intro:
        intro_html, found = localise_markdown(
            intro, lang, source=kit.path, shown=kit.file,
            first_line=kit.front.line("intro") + 1, policy=ws.policy,
            prepare_image=ws.prepare_image)
        problems += found
    cover_url = None
    if kit.meta.cover:
        try:
            cover_url = ws.policy.resolve_reference(kit.meta.cover, kit.path.parent, "image")
            cover_url = ws.prepare_image(cover_url, kit.meta.cover)
        except RefusedResource as exc:
            problems.append(kit.front.problem(("cover",), f"cover: {exc}", code="K006"))
    attachments = []
    for position, name in enumerate(kit.meta.attachments):
        try:
            data = ws.policy.read_bytes(kit.path.parent / name, "attachment", name)
            attachments.append(Attachment(name.rsplit("/", 1)[-1], data, name))
        except (RefusedResource, OSError) as exc:
            problems.append(kit.front.problem(("attachments", position),
                                              f"attachment: {exc}", code="K006"))
    settings = ws.profile(kit.meta.profile)
    sources = [kit.file] + [r.file for r in releases] + [str(DEFAULTS["site_file"])]
    if kit.meta.contacts_appendix and any(r.contacts for r in releases):
        sources.append(str(DEFAULTS["contacts_file"]))
    spec = KitBundle(kit.slug, kit.file, lang, kit.meta, releases, left_out, intro_html,
                     cover_url, attachments, ws.project.site, ws.page(settings),
                     sources, mail=ws.mail_inputs())
    return spec, problems, []


def _newsletter(ws: Workspace, job: NewsletterJob):
    index = selection.release_index(ws.project, clean=True)

    def where(rid):
        release = selection.version_in(index[rid], job.lang) or next(iter(index[rid].values()))
        return release.file, None

    releases, _left_out, problems, embargoed = members(
        ws, list(job.ids), job.lang, where=where, missing_ok=True, skip_embargoed=True)
    notes = [f"newsletter {job.month}.{job.lang}: left out under embargo at "
             f"{ws.as_of.isoformat()}: {entry}" for entry in embargoed]
    if not releases:
        # not a failure of its own: each release left out says why
        return None, [], notes + [
            f"newsletter {job.month}.{job.lang}: not made, no release of the month can be "
            f"published in '{job.lang}'"]
    sources = [r.file for r in releases] + [str(DEFAULTS["site_file"]),
                                            str(DEFAULTS["contacts_file"])]
    spec = NewsletterBundle(
        job.month, job.lang, selection.issue_number(ws.project, job.month), releases,
        ws.project.site, ws.page(ws.profile()), sources, mail=ws.mail_inputs())
    return spec, problems, notes


class Parts:
    """How bundle composes and renders one part of a kit, newsletter or release,
    with the workspace's layouts, render state and cache (bundle sees this, not
    the workspace)."""

    def __init__(self, ws: Workspace):
        self._ws = ws
        self.log: list[tuple[str, bool]] = []  # (name, rendered) of each part used
        self.font_cache = FontPrograms(ws.cache) if ws.cache is not None else None
        self.font_files = ws.font_files()

    def part(self, spec: PartSpec) -> Part:
        ws = self._ws
        composed = compose(Document(f"{spec.layout}/{spec.layout}.html", spec.lang,
                                    spec.context), ws.layouts)
        shared = spec.name == "folios"  # blank pages with footers: kept for the process too
        referenced = sorted(set(_FILE_URL.findall(composed.html)))
        key = key_of(ws.options.key_salt, "part", ws.policy.virtual(composed.html),
                     ws.keys.fingerprint(spec.layout, spec.lang, spec.profile),
                     [ws.files.hash(file_of(url)) for url in referenced],
                     spec.profile.key(), spec.epoch, spec.identifier,
                     [(a.name, a.description, key_of(a.data)) for a in spec.attachments])
        if shared and key in ws.folio_parts:
            self.log.append((spec.label, False))
            return ws.folio_parts[key]
        kept = self._cached(key)
        if kept is not None:
            self.log.append((spec.label, False))
            return kept
        rendered = render(composed, RenderJob(spec.identifier, spec.epoch, spec.file,
                                              spec.profile, spec.attachments,
                                              ws.render_seconds, compress=False),
                          ws.render_state())
        self.log.append((spec.label, True))
        problems = list(composed.problems)
        problems += [css_problem(ws, message, spec.file) for message in rendered.warnings]
        if ws.options.inspect:
            problems += ws.options.inspect(None, rendered, spec.file)
        if ws.cache is not None and not has_errors(problems):
            ws.cache.put(key, {"pdf": rendered.pdf}, {
                "problems": [vars(p) for p in problems],
                "info": {"pages": rendered.pages, "anchors": rendered.anchors}})
        made = Part(rendered.pdf, rendered.pages, rendered.anchors, problems)
        if shared:
            ws.folio_parts[key] = made
        return made

    def _cached(self, key: str) -> Part | None:
        """The part the cache holds for ``key``, if its entry is whole and well formed."""
        cache = self._ws.cache
        entry = cache.get(key) if cache is not None else None
        if cache is None or entry is None:
            return None
        data = cache.data(key, entry, "pdf")
        try:  # an entry of the wrong shape is rendered again
            return None if data is None else Part(
                data, int(entry["info"]["pages"]), dict(entry["info"]["anchors"]),
                [Problem(**p) for p in entry["problems"]])
        except (KeyError, TypeError, ValueError):
            return None

    def release(self, release: Localised, profile: Profile, folios: int = 0) -> Part:
        return self.part(release_spec(self._ws, release, profile, folios))

    def text(self, template: str, lang: str, context: dict) -> tuple[str, list[Problem]]:
        composed = compose(Document(template, lang, context), self._ws.layouts)
        return composed.html, composed.problems

    def read(self, url: str) -> bytes:
        return self._ws.policy.read_bytes(file_of(url), "image")

    def rasterise(self, svg: bytes, width: int) -> bytes:
        from .mail import rasterise_svg

        drawn = self._ws.drawings
        key = (hashlib.sha256(svg).hexdigest(), width)
        if key not in drawn:
            drawn[key] = rasterise_svg(svg, width, self._ws.render_state().fonts.config)
        return drawn[key]

    def remembered(self, name: str, default: int) -> int:
        cache = self._ws.cache
        salted = f"{self._ws.options.key_salt}/{name}"
        return cache.remembered(salted, default) if cache is not None else default

    def remember(self, name: str, value: int) -> None:
        cache = self._ws.cache
        if cache is not None:
            cache.remember(f"{self._ws.options.key_salt}/{name}", value)

    def front_guess(self, layout: str, sections: int, default: int) -> int:
        return bundling.front_guess(self._ws.front_lengths.get(layout, {}), sections, default)

    def front_seen(self, layout: str, sections: int, pages: int) -> None:
        self._ws.front_lengths.setdefault(layout, {})[sections] = pages
