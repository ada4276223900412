"""What a build reads: the loaded project, its resource policy, layouts, fonts and cache.

A :class:`Workspace` is made from a :class:`Recipe` — the loaded project and the
:class:`BuildOptions`, both plain data that pickle — in the process that plans
a build and again in each worker process, whichever way the worker was started
(forked or spawned).  It holds what the actions read and what is worth keeping
between them in one process (hashed files, localised releases, render state);
it holds no outputs and no results: those are the build folder's
(:mod:`publisher.buildfolder`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .bundle import MailInputs, Part
from .cache import Cache, key_of
from .compose import Layouts, Page, TemplateCode
from .defaults import DEFAULTS, resolve
from .errors import ConfigError, Problem
from .inputs.assets import check_image, max_pixels, prepare_font, prepare_image
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
from .inputs.schema import ICC_SUFFIXES
from .keys import Keys
from .load import Project, Release
from .localise import LocaleInputs, Localised, localise
from .pdf.subset import Originals
from .render import FontState, Rendered, RenderState
from .tree import Tree
from .write import WritePolicy


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
    # called as inspect(target or None, rendered, file) after each render, in the
    # process that rendered: under the spawn start method it must pickle
    inspect: Callable[[Path | None, Rendered, str], list[Problem]] | None = None
    extra_roots: tuple[Path, ...] = ()  # folders the build may read besides the project
    langs: tuple[str, ...] = ()  # only the outputs in these languages (default: all)
    dry_run: bool = False  # plan only: say what would be rendered, write nothing
    start_method: str | None = None  # how worker processes start: fork or spawn
    # workers read the project from the store (publisher/tree.py), not from its folder
    isolated: bool = False


@dataclass(frozen=True)
class Recipe:
    """All a worker process needs to make its own :class:`Workspace`: the loaded
    project, or (isolated) the tree to load it from."""

    project: Project | None
    options: BuildOptions
    as_of: dt.datetime  # fixed when the build starts, the same in every process
    tree: Tree | None = None


class Session:
    """What a ``publisher watch`` session keeps between builds: WeasyPrint's font
    configuration and parsed stylesheets, keyed by the content of the fonts and
    layouts they were made from; the compiled layout templates, each checked
    against its source when used; the localised releases, keyed by what they are
    made from.  A build without a session makes its own."""

    LOCALISED = 2000  # localised releases kept, the least recently used dropped first

    def __init__(self) -> None:
        self._fonts: dict[str, tuple[int, FontState]] = {}
        self.templates = TemplateCode()  # compiled layouts, checked against their source
        # localised releases by everything they are made from (Keys.localised)
        self.localised: dict[str, tuple[Localised, dict[str, str]]] = {}

    def font_state(self, key: str) -> FontState:
        pid = os.getpid()
        kept = self._fonts.get(key)
        if kept is None or kept[0] != pid:
            self._fonts = {key: (pid, FontState())}  # a change of fonts or layouts: anew
        return self._fonts[key][1]


class Workspace:
    """The project as the actions read it, in one process."""

    def __init__(self, recipe: Recipe, session: Session | None = None,
                 project: Project | None = None):
        project = project or recipe.project
        assert project is not None, "an isolated recipe is loaded from its tree first"
        options = recipe.options
        self.recipe = recipe
        self.project = project
        self.root = project.root
        self.options = options
        self.as_of = recipe.as_of
        self.settings = resolve({"profile": options.profile}, project.site.settings())
        self.build_dir = options.build_dir or self.root / str(DEFAULTS["build_dir"])
        self.cache_dir = options.cache_dir or self.root / str(DEFAULTS["cache_dir"])
        # what a build may write: its outputs and its cache, nothing else
        self.writes = WritePolicy([self.build_dir, self.cache_dir], self.root)
        self.cache = Cache(self.cache_dir, self.writes) if options.use_cache else None
        self.layout_dirs = layout_dirs(self.root)
        self.font_dirs = font_dirs(self.root)
        # the cache's objects (reduced images, decoded fonts) are read wherever the
        # cache is, and named alike wherever it is
        objects = [self.cache_dir / "objects"] if options.use_cache else []
        names = {"project": self.root, "toolkit-layouts": builtin_dir("layouts"),
                 "toolkit-fonts": builtin_dir("fonts"),
                 **({"cache": objects[0]} if objects else {}),
                 **{f"extra-{i}": folder for i, folder in enumerate(options.extra_roots)}}
        self.policy = ResourcePolicy([self.root, *self.layout_dirs, *self.font_dirs,
                                      *objects, *options.extra_roots],
                                     list(project.site.allowed_hosts),
                                     limits=dict(project.site.limits), names=names)
        self.files = Files(self.policy)
        self.layouts = Layouts(self.layout_dirs, self.policy, root=self.root,
                               fallback_lang=str(self.settings["fallback_lang"]),
                               compiled=session.templates if session else None)
        self.session = session
        self.render_seconds = float(self.policy.limits["render_seconds"])
        self.originals: dict[str, str] = {}  # reduced image URL → the source image's URL
        self._prepared: dict[str, str] | None = None  # those of the release being localised
        self._localised: dict[int, Localised] = {}
        self._positions: dict[str, int] = {}  # a release's stem → its index (the first's)
        for position, release in enumerate(project.releases):
            self._positions.setdefault(release.stem, position)
        self.index_of = {id(r): i for i, r in enumerate(project.releases)}
        # kept between the actions of this process
        self.folio_parts: dict[str, Part] = {}  # footer pages by key
        self.front_lengths: dict[str, dict[int, int]] = {}  # layout → parts → front pages
        self.drawings: dict[tuple[str, int], bytes] = {}  # SVG rasterised for e-mail
        self._originals: Originals | None = None
        self._state: tuple[int, RenderState] | None = None
        fonts = font_files(self.font_dirs)
        self.fontset = tuple((path, self.files.hash(path, "font")) for path in fonts)
        self.logo_url = logo_url(project, self.policy)
        self.press_profile = press_profile(project, self.policy)
        self.keys = Keys(self)

    # --- settings -------------------------------------------------------------

    def profile(self, name: str | None = None) -> Profile:
        made = profile(name or str(self.settings["profile"]), self.project.site)
        if made.condition and self.press_profile:
            return replace(made, condition=self.press_profile)
        return made

    def target(self, folder: str, name: str, settings: Profile) -> Path:
        base = self.build_dir / "print" if settings.name == "print" else self.build_dir
        return base / folder / name

    def layout_of(self, release: Release) -> str:
        return release.meta.get("layout") or str(self.settings["layout"])

    # --- fonts and render state -------------------------------------------------

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

    def render_state(self) -> RenderState:
        """The render state of this workspace in this process."""
        pid = os.getpid()
        if self._state is None or self._state[0] != pid:
            fonts = None
            if self.session is not None:
                fonts = self.session.font_state(self.keys.render())
            self._state = (pid, RenderState(self.policy, fonts, self.layouts.locate))
        return self._state[1]

    # --- localising -------------------------------------------------------------

    def locale_inputs(self) -> LocaleInputs:
        return LocaleInputs(self.project.site, self.project.site_located, self.project.contacts,
                            self.as_of, self.policy, font_coverage(self.fontset, self.cache),
                            self.prepare_image)

    def localise(self, index: int) -> Localised:
        """Release ``index`` localised, once per process; in a watch, once for as
        long as everything it is made from is unchanged."""
        if index not in self._localised:
            release = self.project.releases[index]
            kept = self.session.localised if self.session is not None else None
            key = self.keys.localised(release) if kept is not None else None
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

    def release_of(self, localised: Localised) -> Release:
        """The source a localised release was made from."""
        return self.project.releases[self._positions[localised.stem]]

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

    def mail_inputs(self) -> MailInputs:
        return MailInputs(
            assets_url=self.project.site.email.assets_url,
            sources_dir=self.project.path("sources_dir").resolve().as_uri(),
            originals=dict(self.originals))


# --- what the workspace checks once, when it is made ----------------------------------


def press_profile(project: Project, policy: ResourcePolicy) -> str | None:
    """The site's own output profile (``print: {condition: press.icc}``) as
    'path#sha256', checked: inside the project, a CMYK output profile."""
    condition = project.site.print.condition
    if not condition.lower().endswith(ICC_SUFFIXES):
        return None
    located = project.site_located

    def refuse(message: str):
        return ConfigError(Problem(str(DEFAULTS["site_file"]),
                                   located.line("print", "condition") if located else None,
                                   f"print.condition: {message}", code="S003"))

    try:
        path = policy.check_path(project.path("sources_dir") / condition, "attachment",
                                 condition)
        if path.stat().st_size > policy.size_limit("attachment"):
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


def logo_url(project: Project, policy: ResourcePolicy) -> str | None:
    logo = project.site.logo
    if not logo:
        return None
    try:
        return policy.resolve_reference(logo, project.path("sources_dir"), "image")
    except RefusedResource as exc:
        located = project.site_located
        raise ConfigError(Problem(str(DEFAULTS["site_file"]),
                                  located.line("logo") if located else None,
                                  f"logo: {exc}", code="F001")) from None


def font_coverage(fontset: tuple[tuple[Path, str], ...], cache: Cache | None) -> frozenset[int]:
    """What the fonts cover: read from the font files once, then kept in the
    cache (as ranges, keyed by the fonts' content) for the next processes."""
    known = coverage_known(fontset)
    if known is not None:
        return known
    if cache is None:
        return coverage(fontset)
    key = key_of("coverage", [sha for _path, sha in fontset])
    entry = cache.get(key)
    if entry is not None and isinstance(entry.get("ranges"), list):
        with contextlib.suppress(TypeError, ValueError):
            read = coverage_known(fontset, from_ranges(entry["ranges"]))
            if read is not None:
                return read
    covered = coverage(fontset)
    with contextlib.suppress(OSError):
        cache.put(key, {}, {"ranges": as_ranges(covered)})
    return covered
