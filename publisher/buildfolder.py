"""The build folder: outputs written atomically from what the actions made or
the cache holds, the manifest and its stamps, and the outputs whose sources
are gone.

Only the process that plans writes here.  Every output is written whole (to a
temporary name, then renamed) and listed in the manifest once written; the
outputs about to be rewritten leave the manifest first, so a build killed at
any moment leaves a manifest whose every entry matches its file.  The same
problem from several outputs is said once; :attr:`BuildResult.affected` counts
the outputs that had it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import selection
from .actions import JobResult, Made
from .cache import Cache
from .errors import Problem, PublisherError, display_path, has_errors, os_problem
from .load import Project
from .plan import Job
from .write import Manifest, RefusedWrite, WritePolicy, sweep, write

log = logging.getLogger("publisher")

_OUTPUT_NAME = re.compile(r"[a-z]{3,4}")  # what follows an output's prefix: pdf, eml…


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


class BuildFolder:
    """One build's outputs: written, listed in the manifest, reported."""

    def __init__(self, root: Path, build_dir: Path, cache: Cache | None, writes: WritePolicy,
                 on_output: OnOutput | None = None):
        self.root = root
        self.build_dir = build_dir
        self.cache = cache
        self.writes = writes
        self.on_output = on_output
        self.result = BuildResult()
        stamps = cache.dir / "outputs.stamps" if cache is not None else None
        self.manifest = Manifest(build_dir, stamps, writes)
        self._manifest_failed = False
        self.shown = display_path(build_dir, root) + "/"

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
                    problems = [*problems, os_problem(exc, self.shown)]
        elif failed:
            self.result.failed.append(name)
        problems = list(dict.fromkeys(problems))
        for problem in problems:
            self.result.affected[problem] = self.result.affected.get(problem, 0) + 1
        problems = [p for p in problems if self.result.affected[p] == 1]
        self.result.problems.extend(problems)
        if self.on_output:
            self.on_output(output, name, problems)

    def forget(self, prefixes: Iterable[str]) -> bool:
        """The outputs about to be rewritten leave the manifest; False if it cannot be written."""
        try:
            self.manifest.forget(prefixes)
        except OSError as exc:
            self.record("build/manifest.json", None, [os_problem(exc, self.shown)])
            return False
        return True

    def restore(self, job: Job, prefix: str, dry_run: bool = False) -> bool:
        """True when ``job``'s outputs came from the cache (and were recorded)."""
        if self.cache is None:
            return False
        entry = self.cache.get(job.key)
        if entry is None:
            return False
        if dry_run:  # up to date, or restored from the cache by a real build
            self.result.reused += 1
            return True
        outputs = []
        try:
            for item, target in zip(entry["files"], entry["targets"], strict=True):
                name = target["path"]
                # only this job's own outputs, named as the build names them: an
                # entry that says otherwise (../…, another output) is not used
                if not (isinstance(name, str) and name.startswith(prefix)
                        and _OUTPUT_NAME.fullmatch(name[len(prefix):])):
                    log.debug("%s: a cache entry names %r; rendered instead", job.name, name)
                    return False
                path = self.writes.check(self.build_dir / name)
                if self.manifest.outputs.get(name, {}).get("sha256") != item["sha256"]:
                    data = self.cache.data(job.key, entry, item["suffix"])
                    if data is None:
                        return False  # damaged since it was looked at: render it
                    write(path, data)
                outputs.append(Output(self.build_dir / name, list(target["sources"]),
                                      item["sha256"], target["pages"]))
            problems = [Problem(**p) for p in entry["problems"]]
            notes = [str(note) for note in entry["notes"]]
        except (OSError, KeyError, TypeError, ValueError, RefusedWrite):
            return False  # an entry of the wrong shape, or a write that failed: run it
        self.result.notes.extend(notes)
        self.result.reused += 1
        for index, output in enumerate(outputs):
            self.record(job.name, output, problems if index == 0 else [])
        return True

    def collect(self, job: Job, result: JobResult) -> None:
        """Write what an action made, keep it in the cache when clean, report it."""
        problems = list(result.problems)
        outputs = []
        try:
            outputs = [self._write(made) for made in result.files]
        except PublisherError as exc:
            outputs, problems = [], [*problems, *exc.problems]
        except OSError as exc:
            outputs, problems = [], [*problems, os_problem(exc, self.shown)]
        if outputs and self.cache is not None and not has_errors(problems):
            with contextlib.suppress(OSError):  # a cache that cannot be written: no reuse
                self.cache.put(job.key, {f"{i}{Path(m.name).suffix}": m.data
                                         for i, m in enumerate(result.files)}, {
                    "targets": [{"path": m.name, "sources": list(m.sources), "pages": m.pages}
                                for m in result.files],
                    "problems": [vars(p) for p in problems], "notes": result.notes})
        self.result.notes.extend(result.notes)
        self.result.parts_rendered.extend(result.parts_rendered)
        self.result.parts += result.parts
        if outputs:
            self.result.rendered += 1
            self.result.rendered_names.append(job.name)
        elif has_errors(problems):
            self.record(job.name, None, problems)
        else:  # nothing to make (a newsletter whose releases all failed): said in a note
            self.record(job.name, None, problems, failed=False)
        for index, output in enumerate(outputs):
            self.record(job.name, output, problems if index == 0 else [])

    def _write(self, made: Made) -> Output:
        target = self.build_dir / made.name
        try:
            return Output(target, list(made.sources), self.writes.write(target, made.data),
                          made.pages)
        except RefusedWrite as exc:
            raise PublisherError(Problem(display_path(target, self.root), None,
                                         str(exc), code="O002")) from None

    def sweep(self) -> None:
        """Remove temporary files that a build killed half-way left behind (not
        those of a build still running in the same project)."""
        sweep(self.build_dir)

    def remove_orphans(self, project: Project, keep: bool = False) -> None:
        """Remove (or, with ``keep``, only name) the outputs whose sources are gone;
        either way they leave the manifest."""
        orphans = []
        for path in orphans_of(self.build_dir, expected(project)):
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
            self.record(self.shown, None, [os_problem(exc, self.shown)])


def expected(project: Project) -> tuple[str, ...]:
    """What the names of the project's outputs start with, relative to build/
    (print/ aside): every source's, failed or not, embargoed or not."""
    names = [f"releases/{release.stem}.{suffix}" for release in project.releases
             for suffix in ("pdf", "eml")]
    for kit in project.kits:
        langs = kit.meta.lang if not kit.problems else None
        names += ([f"kits/{kit.slug}.{lang}.{suffix}" for lang in langs
                   for suffix in ("pdf", "eml")] if langs
                  else [f"kits/{kit.slug}."])  # a broken kit keeps its last outputs
    names += [f"newsletters/{month}.{lang}."
              for month, lang in selection.newsletter_editions(project)]
    # a release that failed may be the only one of its month in its language:
    # the newsletter it was in stays until the release is fixed or removed
    for release in project.releases:
        if has_errors(release.problems) or not release.meta.get("date"):
            day = release.meta.get("date")
            month = selection.month_of(day) if day else _month_in_name(release.id)
            names.append(f"newsletters/{month}.{release.lang}." if month and release.lang
                         else "newsletters/")
    return tuple(names)


def orphans_of(build_dir: Path, expected: tuple[str, ...]) -> list[Path]:
    """Outputs in ``build_dir`` whose names start with none of ``expected``."""
    found = []
    for base in (build_dir, build_dir / "print"):
        for folder in ("releases", "kits", "newsletters"):
            for path in sorted((base / folder).glob("*")) if (base / folder).is_dir() else []:
                name = f"{folder}/{path.name}"
                if path.name.startswith("."):  # a write in progress, or not ours
                    continue
                if path.is_file() and not name.startswith(expected):
                    found.append(path)
    return found


def _month_in_name(name: str) -> str | None:
    """The YYYY-MM a release's file name starts with, if it does."""
    found = re.match(r"(\d{4})-(\d{2})(?!\d)", name)
    return f"{found[1]}-{found[2]}" if found and 1 <= int(found[2]) <= 12 else None
