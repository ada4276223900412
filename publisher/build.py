"""The build: load → localise → compose → render → (bundle) → write.

Releases are built one at a time; kits and newsletters are bundled from the
releases that loaded cleanly.  A problem in one source never stops the
others: it is recorded with its file and line, that output is skipped, and the
build goes on.  The caller (the CLI, a test, a script) decides how to show the
:class:`BuildResult`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .defaults import resolve
from .errors import ConfigError, Problem, PublisherError, UsageError, display_path, has_errors
from .layouts import font_dirs, layout_dirs

log = logging.getLogger("publisher")


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
    parts: int = 0

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


@dataclass
class Job:
    """One output (or one newsletter's files) to render."""

    kind: str  # release, kit or newsletter
    name: str  # what people see
    key: str | None  # cache key
    args: tuple  # indices into the project, picklable for worker processes


@dataclass
class JobResult:
    outputs: list[Output]
    problems: list[Problem]
    notes: list[str]
    parts_rendered: list[str] = field(default_factory=list)
    parts: int = 0


_WORKER: Builder | None = None  # the builder a forked worker process inherits


def _run_in_worker(job: Job) -> JobResult:
    return _WORKER.run(job)


class Session:
    """What a process keeps between documents: layouts, composer, resource policy."""

    def __init__(self, root: Path, site: dict, options: dict):
        from .compose import Composer
        from .resources import ResourcePolicy

        self.root = root
        self.options = options
        self.layout_dirs = layout_dirs(root)
        self.font_dirs = font_dirs(root)
        self.composer = Composer(self.layout_dirs, self.font_dirs, options["fallback_lang"],
                                 root)
        self.policy = ResourcePolicy([root, *self.layout_dirs, *self.font_dirs],
                                     site.get("allowed_hosts") or [])



class Builder:
    """One build: the loaded project, the session, what came out and what went wrong."""

    def __init__(self, root: Path, loaded, as_of: dt.datetime, profile: str | None,
                 on_output: OnOutput | None, cache: bool = True, key_salt: str = ""):
        from .cache import Cache

        self.root = root
        self.project = loaded
        self.as_of = as_of
        self.options = resolve({"profile": profile}, loaded.site)
        self.profile_name = self.options["profile"]
        self.build_dir = root / str(self.options["build_dir"])
        self.session = Session(root, loaded.site, self.options)
        self.result = BuildResult()
        self.on_output = on_output
        self.manifest: dict[str, dict] = {}
        self._logo_url: str | None | bool = False
        # called as inspect(target, rendered, file) after each render (publisher check)
        self.inspect: Callable | None = None
        self.cache = Cache(self.build_dir) if cache else None
        self.key_salt = key_salt  # keeps publisher check's cache entries apart
        self._fingerprints: dict = {}
        self.parts: list[tuple[str, bool]] = []  # (name, rendered) of each part used
        self.originals: dict[str, str] = {}  # reduced image URL → the source image's URL

    # --- helpers -------------------------------------------------------------

    def profile(self, name: str | None = None) -> dict:
        from .render import profile_settings

        return profile_settings(name or self.profile_name, self.project.site)

    def target(self, kind: str, name: str, profile: dict) -> Path:
        base = self.build_dir / "print" if profile["name"] == "print" else self.build_dir
        return base / kind / name

    def logo_url(self):
        if self._logo_url is False:
            self._logo_url = None
            logo = self.project.site.get("logo")
            if logo:
                from .resources import RefusedResource

                try:
                    self._logo_url = self.session.policy.resolve_reference(
                        logo, self.project.path("sources_dir"))
                except RefusedResource as exc:
                    located = self.project.site_located
                    raise ConfigError(Problem("sources/site.yaml",
                                              located.line("logo") if located else None,
                                              f"logo: {exc}")) from None
        return self._logo_url

    def record(self, name: str, output: Output | None, problems: list[Problem]) -> None:
        if output is not None:
            self.result.outputs.append(output)
            self.manifest[display_path(output.path, self.build_dir)] = {
                "sources": output.sources, "sha256": output.sha256, "pages": output.pages}
        else:
            self.result.failed.append(name)
        # the same warning from several outputs (a missing translation…) is said once
        known = {(p.file, p.line, p.message) for p in self.result.warnings}
        problems = [p for p in problems
                    if p.severity == "error" or (p.file, p.line, p.message) not in known]
        self.result.problems.extend(problems)
        if self.on_output:
            self.on_output(output, name, problems)

    def catalog_problems(self, catalog) -> list[Problem]:
        """What the last document missed in its catalog (said once per build by record)."""
        problems = []
        if not catalog.files:
            problems.append(Problem(
                f"layouts/locale/{catalog.lang}/LC_MESSAGES/messages.po", None,
                f"no catalog for '{catalog.lang}'; layout strings are in English. Run "
                f"'publisher catalogs --lang {catalog.lang}' and translate the file",
                severity="warning"))
        else:
            shown = display_path(catalog.files[-1], self.root)
            problems += [Problem(shown, None, f"no '{catalog.lang}' translation for "
                                 f"'{message}'; English used. Add its msgstr",
                                 severity="warning") for message in sorted(catalog.missing)]
        catalog.missing.clear()
        return problems

    def render_and_write(self, composed, target: Path, *, identifier: str, epoch: int,
                         file: str, sources: list[str], profile: dict):
        problems = self.catalog_problems(composed.catalog)
        from .render import render

        rendered = render(composed, self.session.policy, identifier=identifier, epoch=epoch,
                          file=file, profile=profile)
        problems += [self.css_problem(message, file) for message in rendered.warnings]
        if self.inspect:
            problems += self.inspect(target, rendered, file)
        from .write import write

        sha = write(target, rendered.pdf)
        return Output(target, sources, sha, rendered.pages), problems

    def render_part(self, composed, *, name: str, file: str, epoch: int, profile: dict,
                    inputs, attachments=(), identifier: str = "part"):
        """One part of a kit or newsletter, from the cache when it has it:
        (PDF bytes, problems, :class:`~publisher.assemble.PartInfo`).

        The key is the part's HTML with ``inputs`` (the layout's fingerprint,
        the files the HTML only names, such as images), the profile and the date.
        """
        import hashlib

        from .assemble import PartInfo
        from .cache import key_of
        from .render import render

        key = None
        if self.cache is not None:
            key = key_of(self.key_salt, "part", composed.html, inputs, profile, epoch, identifier,
                         [(a.name, a.description, hashlib.sha256(a.data).hexdigest())
                          for a in attachments])
            entry = self.cache.get(key)
            if entry is not None:
                self.parts.append((name, False))
                return (self.cache.blob(key, "pdf").read_bytes(),
                        [Problem(**p) for p in entry["problems"]], PartInfo(**entry["info"]))
        rendered = render(composed, self.session.policy, identifier=identifier, epoch=epoch,
                          file=file, profile=profile, attachments=attachments)
        self.parts.append((name, True))
        anchors: dict[str, int] = {}
        for index, page in enumerate(rendered.document.pages):
            for anchor in page.anchors:
                anchors.setdefault(anchor, index)
        info = PartInfo(rendered.pages, anchors)
        problems = [self.css_problem(message, file) for message in rendered.warnings]
        if self.inspect:
            problems += self.inspect(None, rendered, file)
        if key is not None and not has_errors(problems):
            self.cache.put(key, {"pdf": rendered.pdf}, {"problems": [vars(p) for p in problems],
                                                        "info": vars(info)})
        return rendered.pdf, problems, info

    def hint(self, name: str, value: int, save: bool = False) -> int:
        """A number remembered from the last build (a kit's count of front pages)."""
        from .cache import key_of

        if self.cache is None:
            return value
        key = key_of("hint", self.key_salt, name)
        entry = self.cache.get(key)
        if save and (entry is None or entry.get("value") != value):
            self.cache.put(key, {}, {"value": value})
        return value if save or entry is None else entry.get("value", value)

    def css_problem(self, message: str, file: str) -> Problem:
        """A WeasyPrint warning, pointed at the stylesheet line it is about when found."""
        import re

        match = re.search(r"`([^`]*)` at (\d+):(\d+)", message)
        if match:
            snippet, line, col = match[1].split(":")[0].strip(), int(match[2]), int(match[3])
            for folder in self.session.layout_dirs:
                for sheet in sorted(folder.rglob("*.css")) + sorted(folder.rglob("*.html")):
                    lines = sheet.read_text(encoding="utf-8", errors="replace").splitlines()
                    if line <= len(lines) and snippet and snippet in lines[line - 1]:
                        return Problem(display_path(sheet, self.root), line,
                                       f"WeasyPrint: {message}", col=col, severity="warning")
        return Problem(file, None, f"WeasyPrint: {message}", severity="warning")

    def localise(self, release):
        from .localise import localise

        return localise(release, self.project, as_of=self.as_of, policy=self.session.policy,
                        font_dirs=self.session.font_dirs, prepare_image=self.prepare_image)

    def prepare_image(self, url: str) -> str:
        """An image URL, pointing at a copy reduced to what the page needs if it is large."""
        from .assets import max_pixels, prepare_image
        from .resources import file_of

        if not url.startswith("file:") or self.session.composer.prepared_dir is None:
            return url
        path = prepare_image(file_of(url), self.session.composer.prepared_dir,
                             max_pixels(self.profile()))
        self.originals[path.as_uri()] = url  # the e-mail edition links to the original
        return path.as_uri()

    # --- planning: what must be rendered, what the cache already has ----------

    def fingerprint(self, layout: str, lang: str, profile: dict) -> str:
        """Layout files, the language's catalogs, the fonts and the site settings."""
        from .cache import file_hash, layout_files, tree_hash
        from .catalogs import catalog_files
        from .fonts import font_files

        key = (layout, lang, profile["name"])
        if key not in self._fingerprints:
            dirs = self.session.layout_dirs
            files = layout_files(dirs, layout)
            files += catalog_files(dirs, lang) + catalog_files(dirs, self.options["fallback_lang"])
            files += font_files(self.session.font_dirs)
            site = self.project.path("site_file")
            logo = self.project.site.get("logo")
            if logo:
                files.append((self.project.path("sources_dir") / logo).resolve())
            bases = [*dirs, *self.session.font_dirs, self.root]
            self._fingerprints[key] = (tree_hash(files, bases) + file_hash(site)
                                       + str(profile))
        return self._fingerprints[key]

    def release_inputs(self, release) -> list:
        """What a release's bytes depend on, besides the layout and the site."""
        from .cache import body_images, tree_hash

        files = [release.path, *body_images(release)]
        contacts = [{k: v for k, v in self.project.contacts[ref].items() if k != "line"}
                    for ref in release.meta.get("contacts") or []
                    if isinstance(ref, str) and ref in self.project.contacts]
        embargo = release.meta.get("embargo")
        return [tree_hash(files, [self.root]), release.file, contacts,
                bool(embargo and embargo > self.as_of)]

    def plan(self, kind: str, *args) -> Job | None:
        """A job to run, or None when the output was recorded already (reused or failed)."""
        from .cache import key_of

        profile = self.profile()
        if kind == "release":
            release, seen = args
            name = release.file
            problems = list(release.problems)
            target = self.target("releases", f"{release.stem}.pdf", profile)
            if target.name in seen:
                problems.append(Problem(release.file, None, f"another source, "
                                        f"{seen[target.name]}, also makes {target.name}; "
                                        "rename one of them"))
            seen.setdefault(target.name, release.file)
            if has_errors(problems):
                self.record(name, None, problems)
                return None
            layout = release.meta.get("layout") or self.options["layout"]
            key = key_of(self.key_salt, kind,
                         self.fingerprint(layout, release.lang, profile),
                         self.release_inputs(release))
            job = Job(kind, name, key, (self.project.releases.index(release),))
        elif kind == "kit":
            kit, lang = args
            from .bundle import kit_inputs

            profile = self.profile(kit.meta.get("profile"))
            name = f"{kit.file} [{lang}]"
            key = key_of(self.key_salt, kind, lang,
                         self.fingerprint("kit", lang, profile), kit_inputs(self, kit, lang))
            job = Job(kind, name, key, (self.project.kits.index(kit), lang))
        else:
            month, lang = args
            from .bundle import embargoed_month, newsletter_inputs

            if embargoed_month(self, month, lang):
                self.result.notes.append(
                    f"newsletter {month}.{lang}: not made, every release of the month is "
                    f"under embargo at {self.as_of.isoformat()}")
                return None

            name = f"newsletter {month} [{lang}]"
            key = key_of(self.key_salt, kind, month, lang,
                         self.fingerprint("newsletter", lang, profile),
                         newsletter_inputs(self, month, lang))
            job = Job(kind, name, key, (month, lang))
        if self.cache is not None and self.restore(job):
            return None
        return job

    def restore(self, job: Job) -> bool:
        """Put a cached output in place (rewriting only what differs); record it."""
        from .cache import file_hash
        from .write import write

        entry = self.cache.get(job.key)
        if entry is None:
            return False
        outputs = []
        for item, target in zip(entry["files"], entry["targets"], strict=True):
            path = self.build_dir / target["path"]
            if file_hash(path) != item["sha256"]:
                write(path, self.cache.blob(job.key, item["suffix"]).read_bytes())
            outputs.append(Output(path, target["sources"], item["sha256"], target["pages"]))
        problems = [Problem(**p) for p in entry["problems"]]
        self.result.notes.extend(entry["notes"])
        self.result.reused += 1
        for index, output in enumerate(outputs):
            self.record(job.name, output, problems if index == 0 else [])
        return True

    # --- running jobs, here or in worker processes -----------------------------

    def run(self, job: Job) -> JobResult:
        """Render one job's outputs, write them and, when clean, cache them."""
        first_part = len(self.parts)
        try:
            if job.kind == "release":
                outputs, problems, notes = self.render_release(
                    self.project.releases[job.args[0]])
            else:
                from .bundle import bundle

                outputs, problems, notes = bundle(self, job.kind, *job.args)
        except PublisherError as exc:
            outputs, problems, notes = [], exc.problems, []
        outputs = [o for o in outputs if o is not None]
        if outputs and job.key and self.cache is not None and not has_errors(problems):
            self.cache.put(job.key, {f"{i}{o.path.suffix}": o.path.read_bytes()
                                     for i, o in enumerate(outputs)}, {
                "targets": [{"path": display_path(o.path, self.build_dir),
                             "sources": o.sources, "pages": o.pages} for o in outputs],
                "problems": [vars(p) for p in problems], "notes": notes})
        parts = self.parts[first_part:]
        return JobResult(outputs, problems, notes,
                         [name for name, rendered in parts if rendered], len(parts))

    def execute(self, jobs: list[Job], workers: int = 1) -> None:
        """Run ``jobs`` (in ``workers`` processes when more than one) and record them."""
        global _WORKER

        if workers > 1 and len(jobs) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            _WORKER = self
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
                futures = [pool.submit(_run_in_worker, job) for job in jobs]
                for job, future in zip(jobs, futures, strict=True):
                    self.collect(job, future.result())
            _WORKER = None
        else:
            for job in jobs:
                self.collect(job, self.run(job))

    def collect(self, job: Job, result: JobResult) -> None:
        self.result.notes.extend(result.notes)
        self.result.parts_rendered.extend(result.parts_rendered)
        self.result.parts += result.parts
        if result.outputs:
            self.result.rendered += 1
            self.result.rendered_names.append(job.name)
        if not result.outputs:
            self.record(job.name, None, result.problems)
        for index, output in enumerate(result.outputs):
            self.record(job.name, output, result.problems if index == 0 else [])

    # --- one release ------------------------------------------------------------

    def render_release(self, release):
        from .compose import compose
        from .localise import source_epoch

        profile = self.profile()
        target = self.target("releases", f"{release.stem}.pdf", profile)
        localised = self.localise(release)
        problems = list(localised.problems)
        if has_errors(problems):
            return [], problems, []
        composed = compose(localised, self.session.composer,
                           layout=release.meta.get("layout") or self.options["layout"],
                           page_size=self.page_size(), logo_url=self.logo_url(),
                           profile=profile)
        sources = [release.file, "sources/site.yaml"]
        if any(isinstance(c, str) for c in release.meta.get("contacts") or []):
            sources.insert(1, "sources/contacts.yaml")
        output, found = self.render_and_write(
            composed, target, identifier=release.stem, epoch=source_epoch(localised.date),
            file=release.file, sources=sources, profile=profile)
        return [output], problems + found, []

    def page_size(self) -> str:
        return self.project.site.get("page_size") or self.options["page_size"]

    def sweep(self) -> None:
        """Remove temporary files that a build killed half-way left behind."""
        from .write import TEMPORARY

        if self.build_dir.is_dir():
            for leftover in self.build_dir.rglob(TEMPORARY):
                leftover.unlink(missing_ok=True)

    def finish(self) -> BuildResult:
        if self.manifest:
            from .write import write_manifest

            write_manifest(self.build_dir, self.manifest)
        return self.result


def default_jobs() -> int:
    return os.cpu_count() or 1


def build(
    project: Path | str = ".",
    paths: list[Path | str] | None = None,
    *,
    as_of: dt.datetime | None = None,
    profile: str | None = None,
    jobs: int | None = None,
    on_output: OnOutput | None = None,
) -> BuildResult:
    """Build ``project`` into ``build/``: every release, kit and newsletter.

    With ``paths``, only those release sources.  Unchanged outputs come from
    the cache; the others are rendered on ``jobs`` processes (default: one
    per core).  ``on_output(output, name, problems)`` is called after each
    output, with ``output`` None on failure.
    """
    from .bundle import newsletter_months

    builder = _builder(project, paths, as_of, profile, on_output)
    if isinstance(builder, BuildResult):
        return builder
    log.info("building %d release source(s)", len(builder.project.releases))
    seen: dict[str, str] = {}
    planned = [builder.plan("release", release, seen) for release in builder.project.releases]
    if paths is None:
        for kit in builder.project.kits:
            if kit.problems:
                builder.record(kit.file, None, kit.problems)
                continue
            planned += [builder.plan("kit", kit, lang) for lang in kit.meta["lang"]]
        planned += [builder.plan("newsletter", month, lang)
                    for month, lang in newsletter_months(builder.project)]
    builder.execute([job for job in planned if job], jobs or default_jobs())
    return builder.finish()


def build_kit(project: Path | str, slug: str, *, lang: str | None = None,
              as_of: dt.datetime | None = None, profile: str | None = None,
              jobs: int | None = None, on_output: OnOutput | None = None) -> BuildResult:
    """Build one press kit, in one language or in all of the kit's."""
    builder = _builder(project, None, as_of, profile, on_output)
    if isinstance(builder, BuildResult):
        return builder
    kits = {kit.slug: kit for kit in builder.project.kits}
    if slug not in kits:
        from .schema import suggest

        hint = suggest(slug, kits) or ("kits: " + ", ".join(sorted(kits)) if kits
                                       else "create sources/kits/<slug>.yaml")
        raise UsageError(Problem("sources/kits", None, f"no kit '{slug}'; {hint}"))
    kit = kits[slug]
    if kit.problems:
        builder.record(kit.file, None, kit.problems)
        return builder.finish()
    langs = kit.meta["lang"]
    if lang and lang not in langs:
        raise UsageError(Problem(kit.file, kit.located.line("lang"),
                                 f"the kit is not made in '{lang}'; its languages: "
                                 + ", ".join(langs)))
    planned = [builder.plan("kit", kit, each) for each in ([lang] if lang else langs)]
    builder.execute([job for job in planned if job], jobs or default_jobs())
    return builder.finish()


def build_newsletter(project: Path | str, month: str, *, lang: str | None = None,
                     as_of: dt.datetime | None = None, profile: str | None = None,
                     jobs: int | None = None, on_output: OnOutput | None = None) -> BuildResult:
    """Build the newsletter of ``month`` (YYYY-MM), in one language or in all present."""
    from .bundle import newsletter_languages

    try:
        dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise UsageError(Problem("MONTH", None, f"'{month}' is not a month; write YYYY-MM, "
                                                "e.g. 2018-06")) from None
    builder = _builder(project, None, as_of, profile, on_output)
    if isinstance(builder, BuildResult):
        return builder
    langs = newsletter_languages(builder.project, month)
    if lang:
        langs = [lang] if lang in langs else []
    if not langs:
        raise UsageError(Problem("sources/releases", None, f"no release in {month}"
                                 + (f" in '{lang}'" if lang else "")))
    planned = [builder.plan("newsletter", month, each) for each in langs]
    builder.execute([job for job in planned if job], jobs or default_jobs())
    return builder.finish()


def clean(project: Path | str = ".") -> int:
    """Empty the cache of ``project``; return how many entries it held."""
    from .cache import Cache

    root = Path(project).resolve()
    return Cache(root / str(resolve({})["build_dir"])).clear()


def _builder(project, paths, as_of, profile, on_output, cache: bool = True):
    from .load import load

    root = Path(project).resolve()
    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.timezone.utc)
    try:
        loaded = load(root, paths)
        builder = Builder(root, loaded, as_of, profile, on_output, cache=cache)
        builder.sweep()
        builder.logo_url()
    except ConfigError as exc:
        return BuildResult(problems=list(exc.problems))
    return builder
