"""The executor: the plan's actions run in this process or in a pool of worker
processes, started by ``fork`` or by ``spawn``.

A worker is given the build's :class:`~publisher.workspace.Recipe` once, when
it starts, and makes its own workspace from it; each action then travels as a
few bytes and comes back as a :class:`~publisher.actions.JobResult`.  Nothing
of the planning process is needed in the worker, so the same actions run
under either start method (and give the same bytes).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from .actions import JobResult, run
from .cache import Cache
from .defaults import DEFAULTS
from .errors import Problem, PublisherError, UsageError
from .plan import Job, levels
from .tree import loaded
from .workspace import Recipe, Workspace

Done = Callable[[Job, JobResult], None]


def execute(jobs: list[Job], workspace: Workspace, workers: int, done: Done,
            recipe: Callable[[], Recipe] | None = None) -> None:
    """Run ``jobs`` and give each result to ``done``, level by level (what an
    action needs is done before it starts: a kit takes its releases' pages
    from the store); workers start from what ``recipe()`` gives, asked once
    when a pool first starts (default: the workspace's recipe).

    A level of one action runs in this process, which then stays warm
    (WeasyPrint imported, fonts read) for the next level.
    """
    given: tuple = ()
    for wave in levels(jobs):
        if workers > 1 and len(wave) > 1:
            method = start_method(workspace.options.start_method)
            start: Callable[..., None] = _start_worker  # initargs are typed as ()
            given = given or (recipe() if recipe else workspace.recipe,)
            with ProcessPoolExecutor(min(workers, len(wave)),
                                     mp_context=multiprocessing.get_context(method),
                                     initializer=start, initargs=given) as pool:
                futures = [pool.submit(_run_in_worker, job) for job in wave]
                for job, future in zip(wave, futures, strict=True):
                    done(job, future.result())
        else:
            for job in wave:
                done(job, run(workspace, job))


def start_method(asked: str | None) -> str:
    """``asked``, else ``PUBLISHER_START_METHOD``, else the default where the
    system has it (spawn where it has not)."""
    given = asked or os.environ.get("PUBLISHER_START_METHOD")
    if given and given not in ("fork", "spawn"):
        raise UsageError(Problem("PUBLISHER_START_METHOD" if not asked else "start_method",
                                 None, f"'{given}' is not a way to start workers; use fork "
                                 "or spawn", code="U001"))
    method = given or str(DEFAULTS["start_method"])
    return method if method in multiprocessing.get_all_start_methods() else "spawn"


# A worker process's recipe, and the workspace it made from it at its first
# action: the one state a worker keeps between actions (never set in the
# process that plans).
_given: list[Recipe] = []
_made: list[Workspace] = []


def _start_worker(recipe: Recipe) -> None:
    _given[:] = [recipe]
    _made.clear()


def _run_in_worker(job: Job) -> JobResult:
    if not _made:
        recipe = _given[0]
        try:
            project = None
            if recipe.tree is not None:
                assert recipe.options.cache_dir is not None, "an isolated build names its store"
                project = loaded(recipe.tree, Cache(recipe.options.cache_dir).store)
            _made.append(Workspace(recipe, project=project))
        except PublisherError as exc:  # a file changed since planning: this output fails
            return JobResult([], exc.problems, [])
    return run(_made[0], job)
