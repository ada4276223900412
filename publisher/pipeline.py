"""The orchestrator: load → localise → compose → render → bundle → write.

This is the one module that knows every stage.  A :class:`Build` owns what a
build needs between documents — its resource policy, layouts, hashed files,
render state and cache — and hands each stage explicit inputs.  Releases are
built one at a time; kits and newsletters are bundled from the releases that
loaded cleanly.  A problem in one source never stops the others: it is
recorded with its file and line, that output is skipped, and the build goes
on.  The caller (the CLI, a test, a script) decides how to show the
:class:`BuildResult`.

Cache keys name files relative to the project or the toolkit:

- a release: its layout's fingerprint (layout files, catalogs, fonts, logo,
  site settings, profile) and its own inputs (source, body images, the
  contacts it names, whether an embargo is in force);
- a kit or newsletter: the fingerprint and the inputs of every release it
  holds, the kit file, its cover and attachments, the issue number;
- a part of a kit or newsletter: its composed HTML (with the project's and
  the toolkit's locations replaced by names), the content of every local file
  that HTML refers to, the fingerprint, the profile and the date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import bundle as bundling
from .bundle import Bundled, KitBundle, NewsletterBundle, Part, PartSpec, bundle
from .cache import Cache, FontPrograms, key_of
from .compose import Document, Layouts, Page, TemplateCode, compose, release_document
from .defaults import DEFAULTS, resolve
from .errors import (
    ConfigError,
    Problem,
    PublisherError,
    UsageError,
    display_path,
    has_errors,
    os_problem,
)
from .inputs.assets import check_image, max_pixels, prepare_font, prepare_image
from .inputs.catalogs import catalog_files
from .inputs.fonts import (
    as_ranges,
    coverage,
    coverage_known,
    font_face_css,
    font_files,
    from_ranges,
)
from .inputs.layouts import builtin_dir, font_dirs, layout_dirs
from .inputs.profiles import Profile, profile
from .inputs.resources import Files, RefusedResource, ResourcePolicy, file_of
from .inputs.schema import ICC_SUFFIXES, suggest
from .load import Kit, Project, Release, load
from .localise import (
    LocaleInputs,
    Localised,
    body_problems,
    localise,
    localise_markdown,
    source_epoch,
)
from .pdf.subset import Originals
from .render import Attachment, FontState, Rendered, RenderJob, RenderState, render
from .write import Manifest, RefusedWrite, WritePolicy, sweep, write

log = logging.getLogger("publisher")

_FILE_URL = re.compile(r"file://[^\"'\s)<>]+")
_OUTPUT_NAME = re.compile(r"[a-z]{3,4}")  # what follows an output's prefix: pdf, eml…


# --- what a build is given and what it gives back ------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """How to build; every field not given takes the project's setting or the default."""

    as_of: dt.datetime | None = None  # reference time for embargoes (default: now)
    profile: str | None = None  # screen or print (default: site.yaml's, then DEFAULTS)
    jobs: int | None = None  # worker processes (default: one per core)
    build_dir: Path | None = None  # where outputs go (default: <project>/build)
    cache_dir: Path | None = None  # the render cache (default: <project>/build/.cache)
    use_cache: bool = True
    key_salt: str = ""  # keeps one user's cache entries apart (publisher check's)
    # called as inspect(target or None, rendered, file) after each render
    inspect: Callable[[Path | None, Rendered, str], list[Problem]] | None = None
    extra_roots: tuple[Path, ...] = ()  # folders the build may read besides the project
    langs: tuple[str, ...] = ()  # only the outputs in these languages (default: all)
    dry_run: bool = False  # plan only: say what would be rendered, write nothing


@dataclass
class Output:
    path: Path
    sources: list[str]
    sha256: str
    pages: int | None = None


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # what produced no output
    notes: list[str] = field(default_factory=list)  # what users should know (left out…)
    rendered: int = 0  # documents rendered in this build (not those that failed)
    rendered_names: list[str] = field(default_factory=list)
    reused: int = 0  # jobs whose outputs came from the cache
    # parts of kits and newsletters: those rendered in this build, and how many in all
    parts_rendered: list[str] = field(default_factory=list)
    affected: dict[Problem, int] = field(default_factory=dict)  # problem → outputs it concerns
    parts: int = 0
    planned: list[str] = field(default_factory=list)  # a dry run's: what would be rendered

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


OnOutput = Callable[[Output | None, str, list[Problem]], None]
OnPlan = Callable[[int, int], None]  # (documents to render, outputs reused from the cache)


@dataclass(frozen=True)
class ReleaseJob:
    name: str  # what people see
    key: str  # cache key
    release: int  # index into the project's releases (picklable for workers)


@dataclass(frozen=True)
class KitJob:
    name: str
    key: str
    kit: int  # index into the project's kits
    lang: str


@dataclass(frozen=True)
class NewsletterJob:
    name: str
    key: str
    month: str  # YYYY-MM
    lang: str
    ids: tuple[str, ...]  # the month's release ids, in date order


Job = ReleaseJob | KitJob | NewsletterJob


@dataclass
class JobResult:
    outputs: list[Output]
    problems: list[Problem]
    notes: list[str]
    parts_rendered: list[str] = field(default_factory=list)
    parts: int = 0


# --- render state kept between builds ----------------------------------------------------


class Session:
    """What a ``publisher watch`` session keeps between builds: WeasyPrint's font
    configuration and parsed stylesheets, keyed by the content of the fonts and
    layouts they were made from; the compiled layout templates, each checked
    against its source when used; the localised releases, keyed by what they are
    made from.  A build without a session makes its own."""

    LOCALISED = 2000  # localised releases kept, the least recently used dropped first

    def __init__(self):
        self._fonts: dict[str, tuple[int, FontState]] = {}
        self.templates = TemplateCode()  # compiled layouts, checked against their source
        # localised releases by everything they are made from (Build._localised_key)
        self.localised: dict[str, tuple[Localised, dict[str, str]]] = {}

    def font_state(self, key: str) -> FontState:
        pid = os.getpid()
        kept = self._fonts.get(key)
        if kept is None or kept[0] != pid:
            self._fonts = {key: (pid, FontState())}  # a change of fonts or layouts: anew
        return self._fonts[key][1]


# --- one build ---------------------------------------------------------------------------


class Build:
    """One build: the loaded project, what the build owns, what came out."""

    def __init__(self, project: Project, options: BuildOptions, *,
                 session: Session | None = None, on_output: OnOutput | None = None,
                 on_plan: OnPlan | None = None):
        self.project = project
        self.root = project.root
        self.options = options
        self.as_of = options.as_of or dt.datetime.now(dt.timezone.utc)
        if self.as_of.tzinfo is None:
            self.as_of = self.as_of.replace(tzinfo=dt.timezone.utc)
        self.settings = resolve({"profile": options.profile}, project.site.settings())
        self.build_dir = options.build_dir or self.root / str(DEFAULTS["build_dir"])
        cache_dir = options.cache_dir or self.root / str(DEFAULTS["cache_dir"])
        # what this build may write: its outputs and its cache, nothing else
        self.writes = WritePolicy([self.build_dir, cache_dir], self.root)
        self.cache = Cache(cache_dir, self.writes) if options.use_cache else None
        self.layout_dirs = layout_dirs(self.root)
        self.font_dirs = font_dirs(self.root)
        names = {"project": self.root, "toolkit-layouts": builtin_dir("layouts"),
                 "toolkit-fonts": builtin_dir("fonts"),
                 **{f"extra-{i}": folder for i, folder in enumerate(options.extra_roots)}}
        self.policy = ResourcePolicy([self.root, *self.layout_dirs, *self.font_dirs,
                                      *options.extra_roots],
                                     list(project.site.allowed_hosts),
                                     limits=dict(project.site.limits), names=names)
        self.files = Files(self.policy)
        self.layouts = Layouts(self.layout_dirs, self.policy, root=self.root,
                               fallback_lang=str(self.settings["fallback_lang"]),
                               compiled=session.templates if session else None)
        self.session = session
        self.on_output = on_output
        self.on_plan = on_plan
        self.result = BuildResult()
        self.manifest = Manifest(self.build_dir,
                                 cache_dir / "outputs.stamps" if options.use_cache else None,
                                 self.writes)
        self._manifest_failed = False
        self.shown_build_dir = display_path(self.build_dir, self.root) + "/"
        self.render_seconds = float(self.policy.limits["render_seconds"])
        self.originals: dict[str, str] = {}  # reduced image URL → the source image's URL
        self._prepared: dict[str, str] | None = None  # those of the release being localised
        self._fingerprints: dict[tuple, str] = {}
        self._localised: dict[int, Localised] = {}
        self._positions: dict[str, int] = {}  # a release's stem → its index (the first's)
        for position, release in enumerate(project.releases):
            self._positions.setdefault(release.stem, position)
        self._index_of = {id(r): i for i, r in enumerate(project.releases)}
        self.folio_parts: dict[str, Part] = {}  # footer pages by key, in this process
        self.front_lengths: dict[str, dict[int, int]] = {}  # layout → parts → front pages
        self.drawings: dict[tuple[str, int], bytes] = {}  # SVG rasterised for e-mail
        self._originals: Originals | None = None
        self._inputs: dict[tuple, list] = {}
        self._state: tuple[int, RenderState] | None = None
        fonts = font_files(self.font_dirs)
        self.fontset = tuple((path, self.files.hash(path, "font")) for path in fonts)
        self.logo_url = self._logo_url()
        self.press_profile = self._press_profile()

    # --- settings -------------------------------------------------------------

    def profile(self, name: str | None = None) -> Profile:
        made = profile(name or str(self.settings["profile"]), self.project.site)
        if made.condition and self.press_profile:
            return replace(made, condition=self.press_profile)
        return made

    def _press_profile(self) -> str | None:
        """The site's own output profile (``print: {condition: press.icc}``) as
        'path#sha256', checked: inside the project, a CMYK output profile."""
        condition = self.project.site.print.condition
        if not condition.lower().endswith(ICC_SUFFIXES):
            return None
        located = self.project.site_located

        def refuse(message: str):
            return ConfigError(Problem(str(DEFAULTS["site_file"]),
                                       located.line("print", "condition") if located else None,
                                       f"print.condition: {message}", code="S003"))

        try:
            path = self.policy.check_path(self.project.path("sources_dir") / condition,
                                          "attachment", condition)
            if path.stat().st_size > self.policy.size_limit("attachment"):
                raise refuse(f"{condition} is larger than the limit for a file of this kind")
            data = path.read_bytes()
        except RefusedResource as exc:
            raise refuse(str(exc)) from None
        except OSError:
            raise refuse(f"cannot read {condition}; give an ICC profile file inside "
                         "sources/") from None
        if data[12:16] != b"prtr" or data[16:20] != b"CMYK":
            raise refuse(f"{condition} is not a CMYK output (printer) profile; give the ICC "
                         "profile of the press condition, or FOGRA39 or TR006")
        return f"{path}#{hashlib.sha256(data).hexdigest()}"

    def target(self, folder: str, name: str, settings: Profile) -> Path:
        base = self.build_dir / "print" if settings.name == "print" else self.build_dir
        return base / folder / name

    def _prepared_fonts(self) -> dict[Path, Path]:
        """Each WOFF or WOFF2 font → the decoded copy WeasyPrint draws with."""
        if self.cache is None:
            return {}
        return {path: prepare_font(path, self.cache, self.files)
                for path, _sha in self.fontset if path.suffix.lower() in (".woff", ".woff2")}

    def font_files(self) -> Originals:
        """The font files the build draws with, by PostScript name (read when asked)."""
        if self._originals is None:
            def paths() -> list[Path]:
                prepared = self._prepared_fonts()
                return [prepared.get(path, path) for path, _sha in self.fontset]

            self._originals = Originals(paths)
        return self._originals

    def page(self, settings: Profile) -> Page:
        prepared = self._prepared_fonts()
        size = self.project.site.page_size
        return Page(size, settings, self.logo_url, font_face_css(self.fontset, prepared))

    def _logo_url(self) -> str | None:
        logo = self.project.site.logo
        if not logo:
            return None
        try:
            return self.policy.resolve_reference(logo, self.project.path("sources_dir"), "image")
        except RefusedResource as exc:
            located = self.project.site_located
            raise ConfigError(Problem(str(DEFAULTS["site_file"]),
                                      located.line("logo") if located else None,
                                      f"logo: {exc}", code="F001")) from None

    def render_state(self) -> RenderState:
        """This build's render state in this process (a worker makes its own)."""
        pid = os.getpid()
        if self._state is None or self._state[0] != pid:
            fonts = None
            if self.session is not None:
                fonts = self.session.font_state(self._render_key())
            self._state = (pid, RenderState(self.policy, fonts, self.layouts.locate))
        return self._state[1]

    def _render_key(self) -> str:
        """The content that WeasyPrint's font state depends on: fonts and layouts."""
        files = [path for path, _sha in self.fontset]
        files += [p for folder in self.layout_dirs for p in folder.rglob("*") if p.is_file()]
        return self.files.tree(files, [*self.layout_dirs, *self.font_dirs, self.root])

    # --- localising -------------------------------------------------------------

    def locale_inputs(self) -> LocaleInputs:
        return LocaleInputs(self.project.site, self.project.site_located, self.project.contacts,
                            self.as_of, self.policy, self.coverage(), self.prepare_image)

    def coverage(self) -> frozenset[int]:
        """What the fonts cover: read from the font files once, then kept in the
        cache (as ranges, keyed by the fonts' content) for the next processes."""
        known = coverage_known(self.fontset)
        if known is not None:
            return known
        if self.cache is None:
            return coverage(self.fontset)
        key = key_of("coverage", [sha for _path, sha in self.fontset])
        entry = self.cache.get(key)
        if entry is not None and isinstance(entry.get("ranges"), list):
            with contextlib.suppress(TypeError, ValueError):
                read = coverage_known(self.fontset, from_ranges(entry["ranges"]))
                if read is not None:
                    return read
        covered = coverage(self.fontset)
        with contextlib.suppress(OSError):
            self.cache.put(key, {}, {"ranges": as_ranges(covered)})
        return covered

    def localise(self, index: int) -> Localised:
        """Release ``index`` localised, once per build and process; in a watch,
        once for as long as everything it is made from is unchanged."""
        if index not in self._localised:
            release = self.project.releases[index]
            kept = self.session.localised if self.session is not None else None
            key = self._localised_key(release) if kept is not None else None
            # kept, unless a reduced copy of an image it shows has gone since
            # (``publisher clean`` while the watch runs)
            if kept is not None and key in kept and all(
                    file_of(url).is_file() for url in kept[key][1]):
                made, originals = kept.pop(key)
            else:  # with the images it prepared, whichever release prepared them first
                self._prepared = originals = {}
                try:
                    made = localise(release, self.locale_inputs())
                finally:
                    self._prepared = None
            if kept is not None and key is not None:
                kept[key] = made, originals  # the most recently used last
                while len(kept) > Session.LOCALISED:
                    del kept[next(iter(kept))]
            self.originals.update(originals)
            self._localised[index] = made
        return self._localised[index]

    def _localised_key(self, release: Release) -> str:
        """Everything a localised release is made from: its source, images and
        contacts, whether its embargo holds, the site, the contacts file, the
        fonts, the profile's image sizes, and the project's folder (its image
        URLs name it)."""
        site = self.files.hash(self.project.path("site_file"))
        contacts = self.files.hash(self.project.path("contacts_file"))
        return key_of(self.options.key_salt, "localised", str(self.root),
                      self.release_inputs(release), site, contacts,
                      [sha for _path, sha in self.fontset], self.profile().key())

    def prepare_image(self, url: str, shown: str | None = None) -> str:
        """An image URL, pointing at a copy reduced to what the page needs if it is large.

        Raises :class:`RefusedResource` for an image that cannot be read or is too large.
        """
        if not url.startswith("file:"):
            return url
        megapixels = float(self.policy.limits["image_megapixels"])
        if self.cache is None:
            check_image(file_of(url), shown or url, megapixels)
            return url
        path = prepare_image(file_of(url), self.cache, max_pixels(self.profile().dpi),
                             self.files, megapixels, shown)
        self.originals[path.as_uri()] = url  # the e-mail edition links to the original
        if self._prepared is not None:
            self._prepared[path.as_uri()] = url
        return path.as_uri()

    # --- cache keys ------------------------------------------------------------

    def fingerprint(self, layout: str, lang: str, settings: Profile) -> str:
        """Layout files, the language's catalogs, the fonts, the logo and the site."""
        key = (layout, lang, settings.key())
        if key not in self._fingerprints:
            files = self.layouts.files(layout)
            files += catalog_files(self.layout_dirs, lang)
            files += catalog_files(self.layout_dirs, str(self.settings["fallback_lang"]))
            files += [path for path, _sha in self.fontset]
            if self.logo_url:
                files.append(file_of(self.logo_url))
            bases = [*self.layout_dirs, *self.font_dirs, self.root]
            self._fingerprints[key] = (self.files.tree(files, bases)
                                       + self.files.hash(self.project.path("site_file"))
                                       + settings.key())
        return self._fingerprints[key]

    def layout_of(self, release: Release) -> str:
        return release.meta.get("layout") or str(self.settings["layout"])

    def release_inputs(self, release: Release, settings: Profile | None = None) -> list:
        """What a release's bytes depend on, besides the layout and the site (once
        per build: a release is in its own output and in its bundles')."""
        asked = (id(release), settings.key() if settings is not None else None)
        if asked not in self._inputs:
            self._inputs[asked] = self._release_inputs(release, settings)
        return self._inputs[asked]

    def _release_inputs(self, release: Release, settings: Profile | None) -> list:
        files = [release.path, *body_images(release)]
        contacts = [self.project.contacts[ref].content()
                    for ref in release.meta.get("contacts") or []
                    if isinstance(ref, str) and ref in self.project.contacts]
        embargo = release.meta.get("embargo")
        # the embargo in force, which may come from another language version's source
        inputs: list = [self.files.tree(files, [self.root]), release.file, contacts,
                        embargo.isoformat() if embargo and embargo > self.as_of else None]
        if settings is not None:  # in a bundle: its pages, laid out in its own layout
            inputs.append(self.fingerprint(self.layout_of(release), release.lang or "",
                                           settings))
        return inputs

    # --- planning: what must be rendered, what the cache already has -----------------

    def plan(self, paths_given: bool) -> list[Job]:
        """Every output's job; those the cache or the sources settle are recorded now."""
        jobs: list[Job | None] = []
        seen: dict[str, str] = {}
        wanted = set(self.options.langs)

        def chosen(lang: str | None) -> bool:  # a source whose language is unknown is shown
            return not wanted or lang is None or lang in wanted

        for index, release in enumerate(self.project.releases):
            if chosen(release.lang):
                jobs.append(self.plan_release(index, release, seen))
        if not paths_given:
            slugs: dict[str, str] = {}
            for index, kit in enumerate(self.project.kits):
                same = _comparable(kit.slug)
                if same in slugs:
                    self.record(kit.file, None, [Problem(
                        kit.file, None, f"{slugs[same]} makes a kit of the same name (names "
                        "that differ only in case or in how accents are written are one "
                        "file on many systems); rename one of them", code="K007")])
                    continue
                slugs[same] = kit.file
                if kit.problems:
                    self.record(kit.file, None, kit.problems)
                    continue
                jobs += [self.plan_kit(index, lang) for lang in kit.meta.lang
                         if chosen(lang)]
            months = bundling.months(self.project)
            jobs += [self.plan_newsletter(month, lang, months[month])
                     for month, lang in bundling.newsletter_editions(self.project)
                     if chosen(lang)]
        return [job for job in jobs if job is not None]

    def plan_release(self, index: int, release: Release, seen: dict[str, str]):
        settings = self.profile()
        problems = list(release.problems)
        target = self.target("releases", f"{release.stem}.pdf", settings)
        # names that differ only in case, or in how an accent is written, are one
        # file on macOS and Windows, in a zip archive and in a URL
        same = _comparable(target.name)
        if same in seen:
            problems.append(Problem(release.file, None, f"{seen[same]} makes an output of "
                                    "the same name (names that differ only in case or in "
                                    "how accents are written are one file on many systems)"
                                    "; rename one of them", code="R007"))
        seen.setdefault(same, release.file)
        layout = self.layout_of(release)
        if not has_errors(problems) and not self.layouts.exists(layout):
            known = self.layouts.names()
            hint = suggest(layout, known) or "layouts: " + ", ".join(known)
            problems.append(release.front.problem(
                ("layout",), f"no layout '{layout}' (a folder layouts/{layout}/ with "
                             f"{layout}.html); {hint}", code="R008"))
        if has_errors(problems):
            if release.located is None or has_errors(release.problems):
                problems += body_problems(release, self.locale_inputs())  # one run, all
            self.record(release.file, None, problems)
            return None
        key = key_of(self.options.key_salt, "release",
                     self.fingerprint(layout, release.lang or "", settings),
                     self.release_inputs(release))
        return self._unless_cached(ReleaseJob(release.file, key, index))

    def plan_kit(self, index: int, lang: str):
        kit = self.project.kits[index]
        settings = self.profile(kit.meta.profile)
        releases = bundling.release_index(self.project)
        ids, _problems = bundling.kit_release_ids(kit, releases)
        inputs: list = [self.files.hash(kit.path, "settings")]
        for rid in ids:
            release = bundling.version_in(releases.get(rid, {}), lang)
            inputs.append(self.release_inputs(release, settings) if release
                          else f"missing {rid}")
        for name in [kit.meta.cover, *kit.meta.attachments]:
            if name:
                inputs.append(self.files.hash(kit.path.parent / name, "attachment"))
        key = key_of(self.options.key_salt, "kit", lang,
                     self.fingerprint("kit", lang, settings), inputs)
        return self._unless_cached(KitJob(f"{kit.file} [{lang}]", key, index, lang))

    def plan_newsletter(self, month: str, lang: str, ids: list[str]):
        releases = bundling.release_index(self.project, clean=True)
        versions = [bundling.version_in(releases[rid], lang) for rid in ids]
        present = [r for r in versions if r is not None]
        if present and all(r.meta.get("embargo") and r.meta["embargo"] > self.as_of
                           for r in present):
            self.result.notes.append(
                f"newsletter {month}.{lang}: not made, every release of the month is "
                f"under embargo at {self.as_of.isoformat()}")
            return None
        inputs: list = [bundling.issue_number(self.project, month)]
        inputs += [self.release_inputs(r, self.profile()) if r else f"absent {rid}"
                   for rid, r in zip(ids, versions, strict=True)]
        key = key_of(self.options.key_salt, "newsletter", month, lang,
                     self.fingerprint("newsletter", lang, self.profile()), inputs)
        return self._unless_cached(NewsletterJob(f"newsletter {month} [{lang}]", key, month,
                                                 lang, tuple(ids)))

    def _unless_cached(self, job: Job) -> Job | None:
        """``job``, or None when its outputs came from the cache (and were recorded)."""
        if self.cache is None:
            return job
        entry = self.cache.get(job.key)
        if entry is None:
            return job
        if self.options.dry_run:  # up to date, or restored from the cache by a real build
            self.result.reused += 1
            return None
        outputs = []
        prefix = self.prefix(job)
        try:
            for item, target in zip(entry["files"], entry["targets"], strict=True):
                name = target["path"]
                # only this job's own outputs, named as the build names them: an
                # entry that says otherwise (../…, another output) is not used
                if not (isinstance(name, str) and name.startswith(prefix)
                        and _OUTPUT_NAME.fullmatch(name[len(prefix):])):
                    log.debug("%s: a cache entry names %r; rendered instead", job.name, name)
                    return job
                path = self.writes.check(self.build_dir / name)
                if self.manifest.outputs.get(name, {}).get("sha256") != item["sha256"]:
                    data = self.cache.data(job.key, entry, item["suffix"])
                    if data is None:
                        return job  # damaged since it was looked at: render it
                    write(path, data)
                outputs.append(Output(self.build_dir / name, list(target["sources"]),
                                      item["sha256"], target["pages"]))
            problems = [Problem(**p) for p in entry["problems"]]
            notes = [str(note) for note in entry["notes"]]
        except (OSError, KeyError, TypeError, ValueError, RefusedWrite):
            return job  # an entry of the wrong shape, or a write that failed: run it
        self.result.notes.extend(notes)
        self.result.reused += 1
        for index, output in enumerate(outputs):
            self.record(job.name, output, problems if index == 0 else [])
        return None

    # --- running jobs, here or in worker processes -------------------------------

    def run(self, job: Job) -> JobResult:
        """Render one job's outputs, write them and, when clean, cache them."""
        parts = Parts(self)
        try:
            if isinstance(job, ReleaseJob):
                outputs, problems, notes = self._release(job)
            else:
                outputs, problems, notes = self._bundle(job, parts)
        except PublisherError as exc:
            outputs, problems, notes = [], exc.problems, []
        except OSError as exc:
            outputs, problems, notes = [], [os_problem(exc, self.shown_build_dir)], []
        except Exception as exc:  # a bug: this output fails, the others go on
            log.debug("%s: internal error", job.name, exc_info=True)  # shown under --debug
            outputs, notes = [], []
            problems = [Problem(job.name, None, f"internal error ({type(exc).__name__}: "
                                f"{exc}); this output was not made. Please report it, with "
                                "the output of the same command run with --debug", code="O003")]
        if outputs and self.cache is not None and not has_errors(problems):
            with contextlib.suppress(OSError):  # a cache that cannot be written: no reuse
                self.cache.put(job.key, {f"{i}{o.path.suffix}": o.path.read_bytes()
                                         for i, o in enumerate(outputs)}, {
                    "targets": [{"path": display_path(o.path, self.build_dir),
                                 "sources": o.sources, "pages": o.pages} for o in outputs],
                    "problems": [vars(p) for p in problems], "notes": notes})
        return JobResult(outputs, problems, notes,
                         [name for name, rendered in parts.log if rendered], len(parts.log))

    def prefix(self, job: Job) -> str:
        """What the names of ``job``'s outputs start with, relative to build/."""
        if isinstance(job, ReleaseJob):
            stem = self.project.releases[job.release].stem
            target = self.target("releases", f"{stem}.", self.profile())
        elif isinstance(job, KitJob):
            kit = self.project.kits[job.kit]
            target = self.target("kits", f"{kit.slug}.{job.lang}.",
                                 self.profile(kit.meta.profile))
        else:
            target = self.target("newsletters", f"{job.month}.{job.lang}.", self.profile())
        return display_path(target, self.build_dir)

    def execute(self, jobs: list[Job], workers: int) -> None:
        """Run ``jobs`` (in ``workers`` processes when more than one) and record them."""
        global _WORKER

        # the outputs about to be rewritten leave the manifest first: killed at any
        # moment, the build leaves a manifest whose every entry matches its file
        if self.options.dry_run:
            self.result.planned = [job.name for job in jobs]
            return
        if self.on_plan:
            self.on_plan(len(jobs), self.result.reused)
        try:
            self.manifest.forget(self.prefix(job) for job in jobs)
        except OSError as exc:
            self.record("build/manifest.json", None,
                        [os_problem(exc, self.shown_build_dir)])
            return
        # releases first: a kit or newsletter then takes their pages from the cache.
        # A wave of one job runs in this process, which then stays warm (WeasyPrint
        # imported, fonts read) for the next wave and the workers forked from it.
        waves: list[list[Job]] = [[job for job in jobs if isinstance(job, ReleaseJob)],
                                  [job for job in jobs if not isinstance(job, ReleaseJob)]]
        for wave in waves:
            if workers > 1 and len(wave) > 1:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                _WORKER = self
                context = multiprocessing.get_context("fork")
                try:
                    with ProcessPoolExecutor(min(workers, len(wave)),
                                             mp_context=context) as pool:
                        futures = [pool.submit(_run_in_worker, job) for job in wave]
                        for job, future in zip(wave, futures, strict=True):
                            self.collect(job, future.result())
                finally:
                    _WORKER = None
            else:
                for job in wave:
                    self.collect(job, self.run(job))

    def collect(self, job: Job, result: JobResult) -> None:
        self.result.notes.extend(result.notes)
        self.result.parts_rendered.extend(result.parts_rendered)
        self.result.parts += result.parts
        if result.outputs:
            self.result.rendered += 1
            self.result.rendered_names.append(job.name)
        elif has_errors(result.problems):
            self.record(job.name, None, result.problems)
        else:  # nothing to make (a newsletter whose releases all failed): said in a note
            self.record(job.name, None, result.problems, failed=False)
        for index, output in enumerate(result.outputs):
            self.record(job.name, output, result.problems if index == 0 else [])

    def record(self, name: str, output: Output | None, problems: list[Problem],
               failed: bool = True) -> None:
        if output is not None:
            self.result.outputs.append(output)
            try:
                self.manifest.record(display_path(output.path, self.build_dir), {
                    "sources": output.sources, "sha256": output.sha256, "pages": output.pages})
            except OSError as exc:
                if not self._manifest_failed:  # said once, not once per output
                    self._manifest_failed = True
                    problems = [*problems, os_problem(exc, self.shown_build_dir)]
        elif failed:
            self.result.failed.append(name)
        # the same problem from several outputs (a missing translation, a broken
        # layout…) is said once; ``affected`` counts the outputs that had it
        problems = list(dict.fromkeys(problems))
        for problem in problems:
            self.result.affected[problem] = self.result.affected.get(problem, 0) + 1
        problems = [p for p in problems if self.result.affected[p] == 1]
        self.result.problems.extend(problems)
        if self.on_output:
            self.on_output(output, name, problems)

    def sweep(self) -> None:
        """Remove temporary files that a build killed half-way left behind (not
        those of a build still running in the same project)."""
        sweep(self.build_dir)

    # --- one release --------------------------------------------------------------

    def _release(self, job: ReleaseJob):
        release = self.project.releases[job.release]
        localised = self.localise(job.release)
        # what loading it found (only warnings, or there would be no job)
        problems = [*release.problems, *localised.problems]
        if has_errors(problems):
            return [], problems, []
        settings = self.profile()
        made: Bundled = bundle(bundling.ReleaseBundle(localised, settings, self.page(settings),
                                                      self.mail_inputs()), Parts(self))
        problems += made.problems
        if not made.files:
            return [], problems, []
        sources = [release.file, str(DEFAULTS["site_file"])]
        if any(isinstance(c, str) for c in release.meta.get("contacts") or []):
            sources.insert(1, str(DEFAULTS["contacts_file"]))
        outputs = []
        for item in made.files:  # the PDF, then its e-mail edition
            target = self.target("releases", item.name, settings)
            if item.name.endswith(".pdf") and self.options.inspect:
                problems += self.options.inspect(target, Rendered(item.data, item.pages or 0),
                                                 release.file)
            outputs.append(self._write(target, item.data, sources, item.pages))
        return outputs, problems, []

    def mail_inputs(self) -> bundling.MailInputs:
        return bundling.MailInputs(
            assets_url=self.project.site.email.assets_url,
            sources_dir=self.project.path("sources_dir").resolve().as_uri(),
            originals=dict(self.originals))

    def release_spec(self, localised: Localised, settings: Profile,
                     folios: int = 0) -> PartSpec:
        """How to lay out a release's pages in its layout (see
        :meth:`Parts.release`); the same in its own PDF and in every bundle."""
        release = self.project.releases[self._positions[localised.stem]]
        layout = self.layout_of(release)
        context = release_document(localised, self.page(settings), layout).context
        if not folios:
            return PartSpec("release", release.file, layout, localised.lang,
                            dict(context, part="release"), release.file,
                            source_epoch(localised.date), settings,
                            identifier=localised.stem)
        # the footers of a release's pages: nothing of the release in their
        # metadata, so that releases of the same length share them
        meta = {"title": "", "author": "", "subject": "", "keywords": [],
                "created": "1970-01-01T00:00:00Z"}
        return PartSpec("folios", f"{release.file}: folios", layout, localised.lang,
                        dict(context, part="folios", folios=folios, pages={}, meta=meta),
                        release.file, 0, settings, identifier="folios")

    def _write(self, target: Path, data: bytes, sources: list[str],
               pages: int | None) -> Output:
        try:
            return Output(target, sources, self.writes.write(target, data), pages)
        except RefusedWrite as exc:
            raise PublisherError(Problem(display_path(target, self.root), None,
                                         str(exc), code="O002")) from None

    def css_problem(self, message: str, file: str) -> Problem:
        """A WeasyPrint warning, pointed at the stylesheet line it is about when found."""
        match = re.search(r"`([^`]*)` at (\d+):(\d+)", message)
        if match:
            snippet, line, col = match[1].split(":")[0].strip(), int(match[2]), int(match[3])
            sheet = self.layouts.locate_css(snippet, line)
            if sheet is not None:
                return Problem(display_path(sheet, self.root), line, f"WeasyPrint: {message}",
                               col=col, severity="warning", code="L005")
        return Problem(file, None, f"WeasyPrint: {message}", severity="warning", code="L005")

    # --- kits and newsletters ---------------------------------------------------------

    def members(self, ids: list[str], lang: str, *, where, missing_ok: bool = False,
                skip_embargoed: bool = False):
        """The releases ``ids`` localised in ``lang``, and which were left out and why.

        ``where(rid)`` gives the (file, line) that left-out messages point at.
        """
        index = bundling.release_index(self.project)
        localised, left_out, problems, embargoed = [], [], [], []
        for rid in ids:
            versions = index.get(rid, {})
            release = bundling.version_in(versions, lang)
            file, line = where(rid)
            title = bundling.title_of(versions, self.project.site.default_lang)
            if release is None:
                if not missing_ok:
                    left_out.append(title)
                    problems.append(Problem(file, line, f"release '{rid}' has no '{lang}' "
                                            f"version; left out of the {lang} edition",
                                            severity="warning", code="K002"))
                continue
            broken = has_errors(release.problems) or not self.layouts.exists(
                self.layout_of(release))
            result = None if broken else self.localise(self._index_of[id(release)])
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

    def _bundle(self, job: KitJob | NewsletterJob, parts: Parts):
        if isinstance(job, KitJob):
            spec, problems, notes = self._kit(self.project.kits[job.kit], job.lang)
        else:
            spec, problems, notes = self._newsletter(job)
        if spec is None or has_errors(problems):
            return [], problems, notes
        made: Bundled = bundle(spec, parts)
        problems += made.problems
        outputs = []
        for item in made.files:
            target = self.target(item.folder, item.name, spec.page.profile)
            if item.name.endswith(".pdf") and self.options.inspect:
                problems += self.options.inspect(target, Rendered(item.data, item.pages or 0),
                                                 spec_file(spec))
            outputs.append(self._write(target, item.data, spec.sources, item.pages))
        return outputs, problems, notes + made.notes

    def _kit(self, kit: Kit, lang: str):
        index = bundling.release_index(self.project)
        ids, problems = bundling.kit_release_ids(kit, index)
        positions = {rid: i for i, rid in enumerate(kit.meta.releases.ids or ())}

        def where(rid):
            path = ("releases", positions[rid]) if rid in positions else ("releases",)
            return kit.file, kit.front.line(*path)

        releases, left_out, found, _ = self.members(ids, lang, where=where)
        problems += found
        if not releases and ids and all(p.code == "K001" for p in found):
            # its releases' own errors say it all: the kit is simply not made
            return None, problems, [f"{kit.slug}.{lang}.pdf: not made, its releases have "
                                    "errors"]
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
                first_line=kit.front.line("intro") + 1, policy=self.policy,
                prepare_image=self.prepare_image)
            problems += found
        cover_url = None
        if kit.meta.cover:
            try:
                cover_url = self.policy.resolve_reference(kit.meta.cover, kit.path.parent,
                                                          "image")
                cover_url = self.prepare_image(cover_url, kit.meta.cover)
            except RefusedResource as exc:
                problems.append(kit.front.problem(("cover",), f"cover: {exc}", code="K006"))
        attachments = []
        for position, name in enumerate(kit.meta.attachments):
            try:
                data = self.policy.read_bytes(kit.path.parent / name, "attachment", name)
                attachments.append(Attachment(name.rsplit("/", 1)[-1], data, name))
            except (RefusedResource, OSError) as exc:
                problems.append(kit.front.problem(("attachments", position),
                                                    f"attachment: {exc}", code="K006"))
        settings = self.profile(kit.meta.profile)
        sources = [kit.file] + [r.file for r in releases] + [str(DEFAULTS["site_file"])]
        if kit.meta.contacts_appendix and any(r.contacts for r in releases):
            sources.append(str(DEFAULTS["contacts_file"]))
        spec = KitBundle(kit.slug, kit.file, lang, kit.meta, releases, left_out, intro_html,
                         cover_url, attachments, self.project.site, self.page(settings),
                         sources, mail=self.mail_inputs())
        return spec, problems, []

    def _newsletter(self, job: NewsletterJob):
        index = bundling.release_index(self.project, clean=True)

        def where(rid):
            release = bundling.version_in(index[rid], job.lang) or next(iter(
                index[rid].values()))
            return release.file, None

        releases, _left_out, problems, embargoed = self.members(
            list(job.ids), job.lang, where=where, missing_ok=True, skip_embargoed=True)
        notes = [f"newsletter {job.month}.{job.lang}: left out under embargo at "
                 f"{self.as_of.isoformat()}: {entry}" for entry in embargoed]
        if not releases:
            # not a failure of its own: each release left out says why
            return None, [], notes + [
                f"newsletter {job.month}.{job.lang}: not made, no release of the month can be "
                f"published in '{job.lang}'"]
        sources = [r.file for r in releases] + [str(DEFAULTS["site_file"]),
                                                str(DEFAULTS["contacts_file"])]
        spec = NewsletterBundle(
            job.month, job.lang, bundling.issue_number(self.project, job.month), releases,
            self.project.site, self.page(self.profile()), sources,
            mail=self.mail_inputs())
        return spec, problems, notes

    # --- a build folder that tells the truth -------------------------------------------

    def expected(self) -> tuple[str, ...]:
        """What the names of the project's outputs start with, relative to build/
        (print/ aside): every source's, failed or not, embargoed or not."""
        names = [f"releases/{release.stem}.{suffix}" for release in self.project.releases
                 for suffix in ("pdf", "eml")]
        for kit in self.project.kits:
            langs = kit.meta.lang if not kit.problems else None
            names += ([f"kits/{kit.slug}.{lang}.{suffix}" for lang in langs
                       for suffix in ("pdf", "eml")] if langs
                      else [f"kits/{kit.slug}."])  # a broken kit keeps its last outputs
        names += [f"newsletters/{month}.{lang}."
                  for month, lang in bundling.newsletter_editions(self.project)]
        # a release that failed may be the only one of its month in its language:
        # the newsletter it was in stays until the release is fixed or removed
        for release in self.project.releases:
            if has_errors(release.problems) or not release.meta.get("date"):
                day = release.meta.get("date")
                month = bundling.month_of(day) if day else _month_in_name(release.id)
                names.append(f"newsletters/{month}.{release.lang}." if month and release.lang
                             else "newsletters/")
        return tuple(names)

    def orphans(self) -> list[Path]:
        """Outputs in build/ whose sources are gone."""
        expected = self.expected()
        found = []
        for base in (self.build_dir, self.build_dir / "print"):
            for folder in ("releases", "kits", "newsletters"):
                for path in sorted((base / folder).glob("*")) if (base / folder).is_dir() else []:
                    name = f"{folder}/{path.name}"
                    if path.name.startswith("."):  # a write in progress, or not ours
                        continue
                    if path.is_file() and not name.startswith(expected):
                        found.append(path)
        return found

    def remove_orphans(self, keep: bool = False) -> None:
        """Remove (or, with ``keep``, only name) the outputs whose sources are gone;
        either way they leave the manifest."""
        orphans = []
        for path in self.orphans():
            try:  # never through a folder that links out of build/
                self.writes.check(path)
            except RefusedWrite:
                continue
            orphans.append(path)
        for path in orphans:
            shown = display_path(path, self.root)
            if keep:
                self.result.notes.append(f"{shown}: its source is gone (kept: --keep-orphans)")
            else:
                path.unlink(missing_ok=True)
                self.result.notes.append(f"removed {shown}: its source is gone")
        try:
            self.manifest.forget(display_path(path, self.build_dir) for path in orphans)
            listed = [name for name in self.manifest.outputs
                      if not (self.build_dir / name).is_file()]
            self.manifest.forget(listed)
            self.manifest.tidy()
        except OSError as exc:
            self.record(self.shown_build_dir, None, [os_problem(exc, self.shown_build_dir)])

    def finish(self) -> BuildResult:
        return self.result


def _month_in_name(name: str) -> str | None:
    """The YYYY-MM a release's file name starts with, if it does."""
    found = re.match(r"(\d{4})-(\d{2})(?!\d)", name)
    return f"{found[1]}-{found[2]}" if found and 1 <= int(found[2]) <= 12 else None


def _comparable(name: str) -> str:
    """What two output names compare by: composed (NFC), case folded."""
    return unicodedata.normalize("NFC", name).casefold()


def spec_file(spec: KitBundle | NewsletterBundle) -> str:
    return spec.file if isinstance(spec, KitBundle) else f"newsletter {spec.month}"


class Parts:
    """How bundle composes and renders one part of a kit or newsletter, with the
    build's layouts, render state and cache (bundle sees this, not the build)."""

    def __init__(self, build: Build):
        self._build = build
        self.log: list[tuple[str, bool]] = []  # (name, rendered) of each part used
        self.font_cache = FontPrograms(build.cache) if build.cache is not None else None
        self.font_files = build.font_files()

    def part(self, spec: PartSpec) -> Part:
        build = self._build
        composed = compose(Document(f"{spec.layout}/{spec.layout}.html", spec.lang,
                                    spec.context), build.layouts)
        shared = spec.name == "folios"  # blank pages with footers: kept for the build too
        referenced = sorted(set(_FILE_URL.findall(composed.html)))
        key = key_of(build.options.key_salt, "part", build.policy.virtual(composed.html),
                     build.fingerprint(spec.layout, spec.lang, spec.profile),
                     [build.files.hash(file_of(url)) for url in referenced],
                     spec.profile.key(), spec.epoch, spec.identifier,
                     [(a.name, a.description, key_of(a.data)) for a in spec.attachments])
        if shared and key in build.folio_parts:
            self.log.append((spec.label, False))
            return build.folio_parts[key]
        kept = self._cached(key)
        if kept is not None:
            self.log.append((spec.label, False))
            return kept
        rendered = render(composed, RenderJob(spec.identifier, spec.epoch, spec.file,
                                              spec.profile, spec.attachments,
                                              build.render_seconds, compress=False),
                          build.render_state())
        self.log.append((spec.label, True))
        problems = list(composed.problems)
        problems += [build.css_problem(message, spec.file) for message in rendered.warnings]
        if build.options.inspect:
            problems += build.options.inspect(None, rendered, spec.file)
        if build.cache is not None and not has_errors(problems):
            build.cache.put(key, {"pdf": rendered.pdf}, {
                "problems": [vars(p) for p in problems],
                "info": {"pages": rendered.pages, "anchors": rendered.anchors}})
        made = Part(rendered.pdf, rendered.pages, rendered.anchors, problems)
        if shared:
            build.folio_parts[key] = made
        return made

    def _cached(self, key: str) -> Part | None:
        """The part the cache holds for ``key``, if its entry is whole and well formed."""
        cache = self._build.cache
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
        return self.part(self._build.release_spec(release, profile, folios))

    def text(self, template: str, lang: str, context: dict) -> tuple[str, list[Problem]]:
        composed = compose(Document(template, lang, context), self._build.layouts)
        return composed.html, composed.problems

    def read(self, url: str) -> bytes:
        return self._build.policy.read_bytes(file_of(url), "image")

    def rasterise(self, svg: bytes, width: int) -> bytes:
        from .mail import rasterise_svg

        drawn = self._build.drawings
        key = (hashlib.sha256(svg).hexdigest(), width)
        if key not in drawn:
            drawn[key] = rasterise_svg(svg, width, self._build.render_state().fonts.config)
        return drawn[key]

    def remembered(self, name: str, default: int) -> int:
        cache = self._build.cache
        salted = f"{self._build.options.key_salt}/{name}"
        return cache.remembered(salted, default) if cache is not None else default

    def remember(self, name: str, value: int) -> None:
        cache = self._build.cache
        if cache is not None:
            cache.remember(f"{self._build.options.key_salt}/{name}", value)

    def front_guess(self, layout: str, sections: int, default: int) -> int:
        return bundling.front_guess(self._build.front_lengths.get(layout, {}), sections, default)

    def front_seen(self, layout: str, sections: int, pages: int) -> None:
        self._build.front_lengths.setdefault(layout, {})[sections] = pages


_WORKER: Build | None = None  # the build a forked worker process inherits


def _run_in_worker(job: Job) -> JobResult:
    assert _WORKER is not None, "a worker runs in a process forked from a build"
    return _WORKER.run(job)


_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


def body_images(release: Release) -> list[Path]:
    """Local files a release's body refers to as images."""
    found = []
    for ref in _IMAGE.findall(release.body or ""):
        if "://" not in ref and not ref.startswith("data:"):
            found.append(release.path.parent / ref)
    return found


def default_jobs() -> int:
    return os.cpu_count() or 1


# --- the public entries --------------------------------------------------------------------


def start(project: Path | str, paths=None, options: BuildOptions | None = None, *,
          session: Session | None = None, on_output: OnOutput | None = None,
          loaded: Project | None = None, on_plan: OnPlan | None = None) -> Build | BuildResult:
    """Load ``project`` and make its :class:`Build`; a broken site.yaml or
    contacts.yaml gives a :class:`BuildResult` with its problems instead."""
    try:
        loaded = loaded or load(Path(project), paths)
        made = Build(loaded, options or BuildOptions(), session=session, on_output=on_output,
                     on_plan=on_plan)
    except ConfigError as exc:  # site.yaml or contacts.yaml: every output fails with it
        return BuildResult(problems=list(exc.problems),
                           failed=sorted({problem.file for problem in exc.problems}))
    made.sweep()
    return made


def build(project: Path | str = ".", paths: Sequence[Path | str] | None = None, *,
          as_of: dt.datetime | None = None, profile: str | None = None,
          jobs: int | None = None, on_output: OnOutput | None = None,
          session: Session | None = None, keep_orphans: bool = False,
          on_plan: OnPlan | None = None, langs: list[str] | None = None,
          dry_run: bool = False) -> BuildResult:
    """Build ``project`` into ``build/``: every release, kit and newsletter.

    With ``paths``, only those release sources; without, the outputs whose
    sources are gone are removed (with ``keep_orphans``, only named), and
    never listed in the manifest.  Unchanged outputs come from
    the cache; the others are rendered on ``jobs`` processes (default: one
    per core).  ``on_output(output, name, problems)`` is called after each
    output, with ``output`` None on failure.  ``session`` keeps render state
    between builds (``publisher watch``).  With ``langs``, only the outputs in
    those languages are built (the others stay as they are).  With
    ``dry_run``, nothing is rendered or written: the result's ``planned``
    names what would be rendered, ``reused`` counts what is up to date.
    """
    made = start(project, paths, BuildOptions(as_of=as_of, profile=profile, jobs=jobs,
                                              langs=tuple(langs or ()), dry_run=dry_run),
                 session=session, on_output=on_output, on_plan=on_plan)
    if isinstance(made, BuildResult):
        return made
    log.info("building %d release source(s)", len(made.project.releases))
    made.execute(made.plan(paths is not None), jobs or default_jobs())
    if paths is None and not dry_run:
        made.remove_orphans(keep=keep_orphans)
    return made.finish()


def build_kit(project: Path | str, slug: str, *, lang: str | None = None,
              as_of: dt.datetime | None = None, profile: str | None = None,
              jobs: int | None = None, on_output: OnOutput | None = None,
              on_plan: OnPlan | None = None) -> BuildResult:
    """Build one press kit, in one language or in all of the kit's."""
    made = start(project, None, BuildOptions(as_of=as_of, profile=profile, jobs=jobs),
                 on_output=on_output, on_plan=on_plan)
    if isinstance(made, BuildResult):
        return made
    kits = {kit.slug: i for i, kit in enumerate(made.project.kits)}
    if slug not in kits:
        hint = suggest(slug, kits) or ("kits: " + ", ".join(sorted(kits)) if kits
                                       else "create sources/kits/<slug>.yaml")
        raise UsageError(Problem(str(DEFAULTS["kits_dir"]), None, f"no kit '{slug}'; {hint}",
            code="U001"))
    kit = made.project.kits[kits[slug]]
    if kit.problems:
        made.record(kit.file, None, kit.problems)
        return made.finish()
    langs = kit.meta.lang
    if lang and lang not in langs:
        raise UsageError(Problem(kit.file, kit.front.line("lang"),
                                 f"the kit is not made in '{lang}'; its languages: "
                                 + ", ".join(langs), code="U001"))
    planned = [made.plan_kit(kits[slug], each) for each in ([lang] if lang else langs)]
    made.execute([job for job in planned if job], jobs or default_jobs())
    return made.finish()


def build_newsletter(project: Path | str, month: str, *, lang: str | None = None,
                     as_of: dt.datetime | None = None, profile: str | None = None,
                     jobs: int | None = None, on_output: OnOutput | None = None,
                     on_plan: OnPlan | None = None) -> BuildResult:
    """Build the newsletter of ``month`` (YYYY-MM), in one language or in all present."""
    try:
        dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise UsageError(Problem("MONTH", None, f"'{month}' is not a month; write YYYY-MM, "
                                                "e.g. 2018-06", code="U001")) from None
    made = start(project, None, BuildOptions(as_of=as_of, profile=profile, jobs=jobs),
                 on_output=on_output, on_plan=on_plan)
    if isinstance(made, BuildResult):
        return made
    langs = sorted({each for m, each in bundling.newsletter_editions(made.project)
                    if m == month})
    if lang:
        langs = [lang] if lang in langs else []
    if not langs:
        raise UsageError(Problem(str(DEFAULTS["releases_dir"]), None, f"no release in {month}"
                                 + (f" in '{lang}'" if lang else ""), code="U001"))
    ids = bundling.months(made.project)[month]
    planned = [made.plan_newsletter(month, each, ids) for each in langs]
    made.execute([job for job in planned if job], jobs or default_jobs())
    return made.finish()


def clean(project: Path | str = ".", *, cache_only: bool = False) -> tuple[int, int]:
    """Empty the cache of ``project`` and (unless ``cache_only``) remove its outputs
    and manifest; return (cache entries, output files) removed."""
    root = Path(project).resolve()
    entries = Cache(root / str(DEFAULTS["cache_dir"])).clear()
    removed = 0
    if not cache_only:
        build_dir = root / str(DEFAULTS["build_dir"])
        for base in (build_dir, build_dir / "print"):
            for folder in ("releases", "kits", "newsletters"):
                if (base / folder).is_dir():
                    removed += sum(1 for p in (base / folder).rglob("*") if p.is_file())
                    shutil.rmtree(base / folder)
        (build_dir / "manifest.json").unlink(missing_ok=True)
    return entries, removed
