"""Where layouts, catalogs and fonts are looked up: the project first, then the toolkit."""

from __future__ import annotations

from pathlib import Path

from ..defaults import DEFAULTS

_PACKAGE = Path(__file__).resolve().parent.parent  # the publisher package


def builtin_dir(name: str) -> Path:
    """The toolkit's own ``layouts`` or ``fonts`` folder (installed or in a checkout)."""
    installed = _PACKAGE / "_builtin" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


def layout_dirs(root: Path) -> list[Path]:
    dirs = [root / str(DEFAULTS["layouts_dir"]), builtin_dir("layouts")]
    return _unique(d for d in dirs if d.is_dir())


def font_dirs(root: Path) -> tuple[Path, ...]:
    dirs = [root / str(DEFAULTS["fonts_dir"]), builtin_dir("fonts")]
    return tuple(_unique(d for d in dirs if d.is_dir()))


def _unique(paths) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(path.resolve(), None)
    return list(seen)
