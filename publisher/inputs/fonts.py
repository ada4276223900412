"""The shipped fonts, the characters they cover and their ``@font-face`` rules.

What is computed from the font files is memoised by their content (path and
sha256), never by folder: a font replaced in place gives new answers.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

FONT_SUFFIXES = {".ttf", ".otf", ".woff", ".woff2"}

FontSet = tuple[tuple[Path, str], ...]  # (path, sha256) of each font file, in order


def font_files(dirs: tuple[Path, ...]) -> list[Path]:
    files = []
    for folder in dirs:
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir()
                                if p.suffix.lower() in FONT_SUFFIXES and p.is_file()))
    return files


_COVERAGE: dict[FontSet, frozenset[int]] = {}
_FACES: dict[tuple, str] = {}


def coverage(fonts: FontSet) -> frozenset[int]:
    """Code points covered by at least one of ``fonts``."""
    if fonts not in _COVERAGE:
        from fontTools.ttLib import TTFont

        covered: set[int] = set()
        for path, _sha in fonts:
            font = TTFont(path, lazy=True)
            covered.update(font.getBestCmap() or {})
            font.close()
        if len(_COVERAGE) > 16:
            _COVERAGE.clear()
        _COVERAGE[fonts] = frozenset(covered)
    return _COVERAGE[fonts]


def coverage_known(fonts: FontSet, covered: frozenset[int] | None = None
                   ) -> frozenset[int] | None:
    """What this process knows ``fonts`` to cover (with ``covered``: learn it)."""
    if covered is not None:
        _COVERAGE[fonts] = covered
    return _COVERAGE.get(fonts)


def as_ranges(points: frozenset[int]) -> list[list[int]]:
    """Code points as [first, last] runs, for keeping them in a small file."""
    runs: list[list[int]] = []
    for point in sorted(points):
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return runs


def from_ranges(runs: list) -> frozenset[int]:
    """The code points of :func:`as_ranges`' runs; ValueError for anything else."""
    points: set[int] = set()
    for first, last in runs:
        if not (isinstance(first, int) and isinstance(last, int)
                and 0 <= first <= last <= 0x10FFFF):
            raise ValueError(f"not a run of code points: {first!r}, {last!r}")
        points.update(range(first, last + 1))
    return frozenset(points)


def _ignorable(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("Cc", "Cf", "Zl", "Zp") or char in "\t\n\r"


def uncovered(text: str, covered: frozenset[int]) -> list[str]:
    """Characters of ``text`` that no font in ``covered`` can draw, in order."""
    seen: dict[str, None] = {}
    for char in text:
        if ord(char) not in covered and not _ignorable(char):
            seen.setdefault(char, None)
    return list(seen)


def describe(chars: list[str]) -> str:
    return ", ".join(
        f"U+{ord(c):04X} {c!r} ({unicodedata.name(c, 'unnamed')})" for c in chars[:8]
    ) + (f" and {len(chars) - 8} more" if len(chars) > 8 else "")


def font_face_css(fonts: FontSet, prepared: dict[Path, Path]) -> str:
    """``@font-face`` rules for ``fonts``, family and weight read from each file.

    ``prepared`` maps a WOFF or WOFF2 font to its decoded copy.
    """
    key = (fonts, tuple(sorted(prepared.items())))
    if key not in _FACES:
        from fontTools.ttLib import TTFont

        rules = []
        for source, _sha in fonts:
            path = prepared.get(source, source)
            font = TTFont(path, lazy=True)
            names = font["name"]
            family = str(names.getDebugName(16) or names.getDebugName(1))
            weight = font["OS/2"].usWeightClass
            italic = bool(font["OS/2"].fsSelection & 1)
            font.close()
            rules.append(
                f'@font-face {{ font-family: "{family}"; src: url("{path.resolve().as_uri()}"); '
                f"font-weight: {weight}; font-style: {'italic' if italic else 'normal'}; }}")
        if len(_FACES) > 16:
            _FACES.clear()
        _FACES[key] = "\n".join(rules)
    return _FACES[key]
