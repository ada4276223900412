"""``publisher watch``: one warm process that rebuilds what a saved file affects.

The process keeps WeasyPrint imported and, in a :class:`~publisher.pipeline.Session`,
its font configuration and parsed stylesheets for as long as the fonts and
layouts they come from are unchanged; the render cache decides what a change
affects, so saving one release re-renders that release and the kits and
newsletters that contain it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..defaults import DEFAULTS
from ..pipeline import Session, build

WATCHED = ("sources_dir", "layouts_dir", "fonts_dir")


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file a build reads."""
    state = {}
    for key in WATCHED:
        folder = root / str(DEFAULTS[key])
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.is_file() and not path.name.startswith("."):
                    stat = path.stat()
                    state[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return state


def watch(project: Path | str = ".", *, interval: float = 0.5, as_of=None, profile=None,
          jobs: int = 1, langs: list[str] | None = None, on_build: Callable | None = None,
          max_builds: int | None = None) -> None:
    """Build now, then again after every change, until interrupted.

    One process by default: it keeps the render state warm; with ``jobs``,
    renders are forked from it (a change to many sources at once goes faster).
    """
    root = Path(project).resolve()
    session = Session()  # the render state this watch keeps between builds
    builds = 0
    state = None
    while max_builds is None or builds < max_builds:
        current = snapshot(root)
        if current != state:
            state = current
            started = time.perf_counter()
            result = build(root, as_of=as_of, profile=profile, jobs=jobs or 1,
                           session=session, langs=langs)
            builds += 1
            if on_build:
                on_build(result, time.perf_counter() - started)
            # ``state`` was taken before the build: a file saved while it ran (or
            # while it was reported) is seen at the next look (builds write only build/)
        else:
            time.sleep(interval)
