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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .defaults import resolve
from .errors import ConfigError, Problem, PublisherError, UsageError, display_path
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


class Session:
    """What a process keeps between documents: composer, renderer, policy."""

    def __init__(self, root: Path, site: dict, options: dict):
        from .compose import Composer
        from .render import Renderer
        from .resources import ResourcePolicy

        self.root = root
        self.options = options
        self.layout_dirs = layout_dirs(root)
        self.font_dirs = font_dirs(root)
        self.composer = Composer(self.layout_dirs, self.font_dirs, options["fallback_lang"],
                                 root)
        self.renderer = Renderer()
        self.policy = ResourcePolicy([root, *self.layout_dirs, *self.font_dirs],
                                     site.get("allowed_hosts") or [])


class Builder:
    """One build: the loaded project, the session, what came out and what went wrong."""

    def __init__(self, root: Path, loaded, as_of: dt.datetime, profile: str | None,
                 on_output: OnOutput | None):
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
        self.reported_catalogs: set = set()
        self._logo_url: str | None | bool = False
        # called as inspect(target, rendered, file) after each render (publisher check)
        self.inspect: Callable | None = None

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
        self.result.problems.extend(problems)
        if self.on_output:
            self.on_output(output, name, problems)

    def catalog_problems(self, catalog) -> list[Problem]:
        problems = []
        reported = self.reported_catalogs
        if not catalog.files and (catalog.lang, "") not in reported:
            reported.add((catalog.lang, ""))
            problems.append(Problem(
                f"layouts/locale/{catalog.lang}/LC_MESSAGES/messages.po", None,
                f"no catalog for '{catalog.lang}'; layout strings are in English. Run "
                f"'publisher catalogs --lang {catalog.lang}' and translate the file",
                severity="warning"))
        if catalog.files:
            shown = display_path(catalog.files[-1], self.root)
            for message in sorted(catalog.missing):
                if (catalog.lang, message) not in reported:
                    reported.add((catalog.lang, message))
                    problems.append(Problem(shown, None, f"no '{catalog.lang}' translation "
                                            f"for '{message}'; English used. Add its msgstr",
                                            severity="warning"))
        catalog.missing.clear()
        return problems

    def render_and_write(self, composed, target: Path, *, identifier: str, epoch: int,
                         file: str, sources: list[str], profile: dict,
                         attachments=(), page_labels: bool = False):
        problems = self.catalog_problems(composed.catalog)
        rendered = self.session.renderer.render(
            composed, self.session.policy, identifier=identifier, epoch=epoch, file=file,
            profile=profile, attachments=attachments, page_labels=page_labels)
        problems += [self.css_problem(message, file) for message in rendered.warnings]
        if self.inspect:
            problems += self.inspect(target, rendered, file)
        from .write import write

        sha = write(target, rendered.pdf)
        return Output(target, sources, sha, rendered.pages), problems

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
                        font_dirs=self.session.font_dirs)

    # --- outputs -------------------------------------------------------------

    def release(self, release, seen: dict[str, str]) -> None:
        from .compose import compose
        from .localise import source_epoch

        problems = list(release.problems)
        profile = self.profile()
        target = self.target("releases", f"{release.stem}.pdf", profile)
        if target.name in seen:
            problems.append(Problem(release.file, None, f"another source, {seen[target.name]},"
                                    f" also makes {target.name}; rename one of them"))
        seen.setdefault(target.name, release.file)
        output = None
        if not _has_errors(problems):
            try:
                localised = self.localise(release)
                problems.extend(localised.problems)
                if not _has_errors(problems):
                    composed = compose(
                        localised, self.session.composer,
                        layout=release.meta.get("layout") or self.options["layout"],
                        page_size=self.page_size(), logo_url=self.logo_url(), profile=profile)
                    sources = [release.file, "sources/site.yaml"]
                    if any(isinstance(c, str) for c in release.meta.get("contacts") or []):
                        sources.insert(1, "sources/contacts.yaml")
                    output, found = self.render_and_write(
                        composed, target, identifier=release.stem,
                        epoch=source_epoch(localised.date), file=release.file,
                        sources=sources, profile=profile)
                    problems.extend(found)
            except PublisherError as exc:
                problems.extend(exc.problems)
                output = None
        self.record(release.file, output, problems)

    def page_size(self) -> str:
        return self.project.site.get("page_size") or self.options["page_size"]

    def kit(self, kit, lang: str) -> None:
        from .bundle import build_kit

        name = f"{kit.file} [{lang}]"
        try:
            output, problems, notes = build_kit(self, kit, lang)
        except PublisherError as exc:
            output, problems, notes = None, exc.problems, []
        self.result.notes.extend(notes)
        self.record(name, output, problems)

    def newsletter(self, month: str, lang: str) -> None:
        from .bundle import build_newsletter

        name = f"newsletter {month} [{lang}]"
        try:
            outputs, problems, notes = build_newsletter(self, month, lang)
        except PublisherError as exc:
            outputs, problems, notes = [], exc.problems, []
        self.result.notes.extend(notes)
        if not outputs:
            self.record(name, None, problems)
        for index, output in enumerate(outputs):
            self.record(name, output, problems if index == 0 else [])

    def finish(self) -> BuildResult:
        if self.manifest:
            from .write import write_manifest

            write_manifest(self.build_dir, self.manifest)
        return self.result


def build(
    project: Path | str = ".",
    paths: list[Path | str] | None = None,
    *,
    as_of: dt.datetime | None = None,
    profile: str | None = None,
    on_output: OnOutput | None = None,
) -> BuildResult:
    """Build ``project`` into ``build/``: every release, kit and newsletter.

    With ``paths``, only those release sources.  ``on_output(output, source,
    problems)`` is called after each output, with ``output`` None on failure.
    """
    from .bundle import newsletter_months

    builder = _builder(project, paths, as_of, profile, on_output)
    if isinstance(builder, BuildResult):
        return builder
    log.info("building %d release source(s)", len(builder.project.releases))
    seen: dict[str, str] = {}
    for release in builder.project.releases:
        builder.release(release, seen)
    if paths is None:
        for kit in builder.project.kits:
            if kit.problems:
                builder.record(kit.file, None, kit.problems)
                continue
            for lang in kit.meta["lang"]:
                builder.kit(kit, lang)
        for month, lang in newsletter_months(builder.project):
            builder.newsletter(month, lang)
    return builder.finish()


def build_kit(project: Path | str, slug: str, *, lang: str | None = None,
              as_of: dt.datetime | None = None, profile: str | None = None,
              on_output: OnOutput | None = None) -> BuildResult:
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
    for each in [lang] if lang else langs:
        builder.kit(kit, each)
    return builder.finish()


def build_newsletter(project: Path | str, month: str, *, lang: str | None = None,
                     as_of: dt.datetime | None = None, profile: str | None = None,
                     on_output: OnOutput | None = None) -> BuildResult:
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
    for each in langs:
        builder.newsletter(month, each)
    return builder.finish()


def _builder(project, paths, as_of, profile, on_output):
    from .load import load

    root = Path(project).resolve()
    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.timezone.utc)
    try:
        loaded = load(root, paths)
        builder = Builder(root, loaded, as_of, profile, on_output)
        builder.logo_url()
    except ConfigError as exc:
        return BuildResult(problems=list(exc.problems))
    return builder


def _has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)
