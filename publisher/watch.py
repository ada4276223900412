"""``publisher watch``: one warm process that rebuilds what a saved file affects.

The file system tells the process when a file under ``sources/``,
``layouts/`` or ``fonts/`` changes (inotify on Linux, through watchfiles);
where it cannot, watchfiles looks every ``interval`` seconds.  The process
keeps WeasyPrint imported and, in a :class:`~publisher.pipeline.Session`,
its font configuration and parsed stylesheets for as long as the fonts and
layouts they come from are unchanged; the render cache decides what a change
affects, so saving one release lays out that release again and joins the
kits and newsletters that hold it from its new pages.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .defaults import DEFAULTS, place
from .pipeline import BuildResult, Session, build

WATCHED = ("sources_dir", "layouts_dir", "fonts_dir")


def _relevant(path: str) -> bool:
    """Not an editor's or the system's file beside the real one."""
    name = Path(path).name
    return not (name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")))


def _watch_files(folders: list[Path], changed: queue.Queue, stop: threading.Event,
                 ready: threading.Event, interval: float) -> None:
    import watchfiles

    ready.set()
    try:
        for changes in watchfiles.watch(
                *folders, watch_filter=lambda _change, path: _relevant(path),
                debounce=1600, step=30, stop_event=stop, raise_interrupt=False,
                poll_delay_ms=max(50, int(interval * 1000))):
            changed.put({path for _change, path in changes})
    except Exception as exc:  # a folder removed: said, and the watch ends
        changed.put(exc)


def _saved_releases(root: Path, paths: set[str]) -> list[Path] | None:
    """``paths`` when every one is a release source still there, else None."""
    releases = (root / str(DEFAULTS["releases_dir"])).resolve()
    found = []
    for name in sorted(paths):
        path = Path(name)
        if path.suffix != ".md" or not path.is_file() or \
                releases not in path.resolve().parents:
            return None
        found.append(path)
    return found or None


def _together(first: BuildResult, then: BuildResult) -> BuildResult:
    """One report for a build of the saved releases and the whole build after it
    (which found those releases in the cache and says all the problems)."""
    return replace(then, rendered=first.rendered + then.rendered,
                   rendered_names=first.rendered_names + then.rendered_names,
                   reused=max(0, then.reused - first.rendered),
                   parts_rendered=first.parts_rendered + then.parts_rendered)


def watch(project: Path | str = ".", *, interval: float = float(DEFAULTS["watch_interval"]),
          as_of=None, profile=None, jobs: int = int(DEFAULTS["watch_jobs"]),
          langs: list[str] | None = None, on_build: Callable | None = None,
          max_builds: int | None = None, cancel: threading.Event | None = None,
          on_output: Callable | None = None, on_plan: Callable | None = None) -> None:
    """Build now, then again after every change, until interrupted.

    One process by default: it keeps the render state warm; with ``jobs``,
    renders are forked from it (a change to many sources at once goes faster).
    ``interval`` is how often to look where the file system sends no events.
    ``cancel``, when set, ends the watch between builds.  ``on_plan`` and
    ``on_output`` are given to each build (:func:`~publisher.pipeline.build`);
    ``on_build(result, seconds)`` is called after it.
    """
    root = Path(project).resolve()
    folders = [root / place(key) for key in WATCHED]
    folders = [folder for folder in folders if folder.is_dir()] or [root]
    session = Session()  # the render state this watch keeps between builds
    changed: queue.Queue = queue.Queue()
    stop, ready = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_watch_files, args=(folders, changed, stop, ready,
                                                          interval), daemon=True)
    watcher.start()
    ready.wait(5)
    builds, news = 0, set()
    try:
        while (max_builds is None or builds < max_builds) and \
                not (cancel is not None and cancel.is_set()):
            if builds:  # after the first build, wait for a change
                try:
                    news = changed.get(timeout=0.25)
                except queue.Empty:
                    continue
                if isinstance(news, Exception):
                    raise news
                while not changed.empty():  # saved together: built together
                    more = changed.get_nowait()
                    if isinstance(more, Exception):
                        raise more
                    news |= more
            started = time.perf_counter()
            settings = dict(as_of=as_of, profile=profile,
                            jobs=jobs or int(DEFAULTS["watch_jobs"]), session=session,
                            langs=langs, on_output=on_output, on_plan=on_plan)
            saved = _saved_releases(root, news) if builds else None
            # saved release sources alone: their own PDFs first, then the rest, where
            # the kits and newsletters that hold them take their new pages from the cache
            first = build(root, saved, **settings) if saved else None
            result = build(root, **settings)
            if first is not None:
                result = _together(first, result)
            builds += 1
            if on_build:
                on_build(result, time.perf_counter() - started)
    finally:
        stop.set()
        watcher.join(5)
