"""The orchestrator: load → plan → execute → write, for the commands and the features.

Three parts do the work, each a module of its own:

- the plan (:mod:`publisher.plan`): the loaded project as actions, each named
  by the digest of what it reads (:mod:`publisher.keys`);
- the executor (:mod:`publisher.execute`): the actions run here or in worker
  processes (fork or spawn), each by :func:`publisher.actions.run` from a
  :class:`~publisher.workspace.Workspace` made from the build's recipe;
- the build folder (:mod:`publisher.buildfolder`): what the actions made and
  what the cache holds, written atomically, the manifest, the orphans.

A :class:`Build` ties the three together for one build and is what the gate
and the public entries below use.  A problem in one source never stops the
others: it is recorded with its file and line, that output is skipped, and the
build goes on.  The caller (the CLI, a test, a script) decides how to show the
:class:`BuildResult`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from . import selection
from .buildfolder import BuildFolder, BuildResult, OnOutput, Output
from .cache import Cache
from .defaults import DEFAULTS
from .errors import ConfigError, Problem, UsageError
from .execute import execute, start_method
from .inputs.schema import suggest
from .load import Project, load
from .plan import Job, KitJob, NewsletterJob, Note, Refused, ReleaseJob, Step, plan, prefix
from .plan import plan_kit as _plan_kit
from .plan import plan_newsletter as _plan_newsletter
from .tree import snapshot
from .workspace import BuildOptions, Recipe, Session, Workspace

__all__ = ["Build", "BuildOptions", "BuildResult", "Job", "KitJob", "NewsletterJob",
           "Output", "ReleaseJob", "Session", "build", "build_kit", "build_newsletter",
           "clean", "default_jobs", "start"]

log = logging.getLogger("publisher")

OnPlan = Callable[[int, int], None]  # (documents to render, outputs reused from the cache)


class Build:
    """One build: its workspace (what it reads), its build folder (what it
    writes and reports), and the steps between them."""

    def __init__(self, project: Project, options: BuildOptions, *,
                 session: Session | None = None, on_output: OnOutput | None = None,
                 on_plan: OnPlan | None = None, partial: bool = False):
        as_of = options.as_of or dt.datetime.now(dt.timezone.utc)
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=dt.timezone.utc)
        start_method(options.start_method)  # a bad one is said before anything is done
        if options.isolated and (not options.use_cache or options.extra_roots):
            raise UsageError(Problem("isolated", None, "an isolated build needs its cache "
                                     "and reads only the project's own folders", code="U002"))
        self.project = project
        self.options = options
        self.workspace = Workspace(Recipe(project, options, as_of), session)
        ws = self.workspace
        self.folder = BuildFolder(ws.root, ws.build_dir, ws.cache, ws.writes, on_output)
        self.result = self.folder.result
        self.on_plan = on_plan
        self.partial = partial

    def plan(self, paths_given: bool) -> list[Job]:
        """The actions to run; those the cache or the sources settle are recorded now."""
        return self.settle(plan(self.workspace, paths_given))

    def plan_kit(self, index: int, lang: str) -> list[Job]:
        return self.settle([_plan_kit(self.workspace, index, lang)])

    def plan_newsletter(self, month: str, lang: str, ids: list[str]) -> list[Job]:
        return self.settle([_plan_newsletter(self.workspace, month, lang, ids)])

    def settle(self, steps: list[Step]) -> list[Job]:
        jobs: list[Job] = []
        for step in steps:
            if isinstance(step, Refused):
                self.folder.record(step.name, None, list(step.problems))
            elif isinstance(step, Note):
                self.result.notes.append(step.text)
            elif not self.folder.restore(step, prefix(self.workspace, step),
                                         self.options.dry_run):
                jobs.append(step)
        return jobs

    def execute(self, jobs: list[Job], workers: int) -> None:
        """Run ``jobs`` (in ``workers`` processes when more than one) and record them."""
        if self.options.dry_run:
            self.result.planned = [job.name for job in jobs]
            return
        if self.on_plan:
            self.on_plan(len(jobs), self.result.reused)
        if self.folder.forget(prefix(self.workspace, job) for job in jobs):
            execute(jobs, self.workspace, workers, self.folder.collect,
                    self.isolated if self.options.isolated else None)

    def isolated(self) -> Recipe:
        """The recipe of workers that read the project from the store alone."""
        ws = self.workspace
        assert ws.cache is not None, "checked when the build was made"
        return Recipe(None, replace(self.options, build_dir=ws.build_dir,
                                    cache_dir=ws.cache_dir), ws.as_of,
                      snapshot(self.project, ws.cache.store, self.partial))

    def remove_orphans(self, keep: bool = False) -> None:
        self.folder.remove_orphans(self.project, keep)

    def finish(self) -> BuildResult:
        return self.result


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
                     on_plan=on_plan, partial=paths is not None)
    except ConfigError as exc:  # site.yaml or contacts.yaml: every output fails with it
        return BuildResult(problems=list(exc.problems),
                           failed=sorted({problem.file for problem in exc.problems}))
    made.folder.sweep()
    return made


def build(project: Path | str = ".", paths: Sequence[Path | str] | None = None, *,
          as_of: dt.datetime | None = None, profile: str | None = None,
          jobs: int | None = None, on_output: OnOutput | None = None,
          session: Session | None = None, keep_orphans: bool = False,
          on_plan: OnPlan | None = None, langs: list[str] | None = None,
          dry_run: bool = False, start_method: str | None = None,
          isolated: bool = False) -> BuildResult:
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
    ``start_method`` is how worker processes start: ``fork`` or ``spawn``
    (default: ``PUBLISHER_START_METHOD``, else fork where the system has it).
    With ``isolated``, workers read the project from the cache's store, not
    from its folder (see :mod:`publisher.tree`).
    """
    made = start(project, paths, BuildOptions(as_of=as_of, profile=profile, jobs=jobs,
                                              langs=tuple(langs or ()), dry_run=dry_run,
                                              start_method=start_method, isolated=isolated),
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
        made.folder.record(kit.file, None, kit.problems)
        return made.finish()
    langs = kit.meta.lang
    if lang and lang not in langs:
        raise UsageError(Problem(kit.file, kit.front.line("lang"),
                                 f"the kit is not made in '{lang}'; its languages: "
                                 + ", ".join(langs), code="U001"))
    planned = [job for each in ([lang] if lang else langs)
               for job in made.plan_kit(kits[slug], each)]
    made.execute(planned, jobs or default_jobs())
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
    langs = sorted({each for m, each in selection.newsletter_editions(made.project)
                    if m == month})
    if lang:
        langs = [lang] if lang in langs else []
    if not langs:
        raise UsageError(Problem(str(DEFAULTS["releases_dir"]), None, f"no release in {month}"
                                 + (f" in '{lang}'" if lang else ""), code="U001"))
    ids = selection.months(made.project)[month]
    planned = [job for each in langs for job in made.plan_newsletter(month, each, ids)]
    made.execute(planned, jobs or default_jobs())
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
