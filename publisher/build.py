"""The build: load → localise → compose → render → write, one release at a time.

A problem in one release never stops the others: it is recorded with its
file and line, the release is skipped, and the build goes on.  The caller
(the CLI, a test, a script) decides how to show :class:`BuildResult`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .defaults import resolve
from .errors import ConfigError, Problem, PublisherError, display_path
from .layouts import font_dirs, layout_dirs

log = logging.getLogger("publisher")


@dataclass
class Output:
    path: Path
    sources: list[str]
    sha256: str
    pages: int


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # sources that produced no output

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


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
        self.composer = Composer(self.layout_dirs, self.font_dirs, options["fallback_lang"])
        self.renderer = Renderer(options["pdf_variant"])
        self.policy = ResourcePolicy([root, *self.layout_dirs, *self.font_dirs],
                                     site.get("allowed_hosts") or [])


def build(
    project: Path | str = ".",
    paths: list[Path | str] | None = None,
    *,
    as_of: dt.datetime | None = None,
    on_output: Callable[[Output | None, str, list[Problem]], None] | None = None,
) -> BuildResult:
    """Build every release of ``project`` (or only ``paths``) into ``build/``.

    ``on_output(output, source, problems)`` is called after each source, with
    ``output`` None when the source failed.
    """
    from .load import load

    root = Path(project).resolve()
    result = BuildResult()
    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.timezone.utc)
    log.info("1/3 loading %s", root)
    try:
        loaded = load(root, paths)
    except ConfigError as exc:
        result.problems.extend(exc.problems)
        return result
    options = resolve({}, loaded.site)
    build_dir = root / str(options["build_dir"])
    session = Session(root, loaded.site, options)
    log.info("2/3 building %d source(s)", len(loaded.releases))
    seen_outputs: dict[str, str] = {}
    reported_catalogs: set[tuple[str, str]] = set()
    manifest: dict[str, dict] = {}
    for release in loaded.releases:
        problems = list(release.problems)
        output = None
        target = build_dir / "releases" / f"{release.stem}.pdf"
        if target.name in seen_outputs:
            problems.append(Problem(release.file, None, f"another source, "
                                    f"{seen_outputs[target.name]}, also makes {target.name}; "
                                    "rename one of them"))
        seen_outputs.setdefault(target.name, release.file)
        if not _has_errors(problems):
            try:
                output, found = _build_release(release, loaded, session, as_of, target,
                                               reported_catalogs)
                problems.extend(found)
            except PublisherError as exc:
                problems.extend(exc.problems)
                output = None
        if output is not None:
            result.outputs.append(output)
            manifest[display_path(output.path, build_dir)] = {
                "sources": output.sources, "sha256": output.sha256, "pages": output.pages}
        else:
            result.failed.append(release.file)
        result.problems.extend(problems)
        if on_output:
            on_output(output, release.file, problems)
    if manifest or result.outputs:
        from .write import write_manifest

        log.info("3/3 writing manifest")
        write_manifest(build_dir, manifest)
    return result


def _has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def _build_release(release, loaded, session: Session, as_of, target: Path,
                   reported_catalogs: set) -> tuple[Output | None, list[Problem]]:
    from .compose import compose
    from .localise import localise, source_epoch
    from .write import write

    localised = localise(release, loaded, as_of=as_of, policy=session.policy,
                         font_dirs=session.font_dirs)
    problems = list(localised.problems)
    if _has_errors(problems):
        return None, problems
    logo_url = None
    if loaded.site.get("logo"):
        try:
            logo_url = session.policy.resolve_reference(loaded.site["logo"],
                                                        loaded.root / "sources")
        except Exception as exc:  # RefusedResource
            line = loaded.site_located.line("logo") if loaded.site_located else None
            return None, problems + [Problem("sources/site.yaml", line, f"logo: {exc}")]
    composed = compose(localised, session.composer,
                       layout=release.meta.get("layout") or session.options["layout"],
                       page_size=loaded.site.get("page_size") or session.options["page_size"],
                       logo_url=logo_url)
    problems.extend(_catalog_problems(composed.catalog, session, reported_catalogs))
    rendered = session.renderer.render(composed, session.policy, identifier=release.stem,
                                       epoch=source_epoch(localised.date), file=release.file)
    for message in rendered.warnings:
        problems.append(Problem(release.file, None, f"WeasyPrint: {message}",
                                severity="warning"))
    sha = write(target, rendered.pdf)
    sources = [release.file]
    if any(isinstance(c, str) for c in release.meta.get("contacts") or []):
        sources.append("sources/contacts.yaml")
    sources.append("sources/site.yaml")
    return Output(target, sources, sha, rendered.pages), problems


def _catalog_problems(catalog, session: Session, reported: set) -> list[Problem]:
    problems = []
    if not catalog.files and (catalog.lang, "") not in reported:
        reported.add((catalog.lang, ""))
        problems.append(Problem(
            f"layouts/locale/{catalog.lang}/LC_MESSAGES/messages.po", None,
            f"no catalog for '{catalog.lang}'; layout strings are in English. Run "
            f"'publisher catalogs --lang {catalog.lang}' and translate the file",
            severity="warning"))
        catalog.missing.clear()
        return problems
    for message in sorted(catalog.missing):
        if (catalog.lang, message) in reported:
            continue
        reported.add((catalog.lang, message))
        shown = display_path(catalog.files[-1], session.root)
        problems.append(Problem(shown, None, f"no '{catalog.lang}' translation for "
                                             f"'{message}'; English used. Add its msgstr",
                                severity="warning"))
    return problems
