"""The shipped fonts and the characters they cover."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

FONT_SUFFIXES = {".ttf", ".otf", ".woff", ".woff2"}


def font_files(dirs: tuple[Path, ...]) -> list[Path]:
    files = []
    for folder in dirs:
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES))
    return files


@lru_cache(maxsize=8)
def coverage(dirs: tuple[Path, ...]) -> frozenset[int]:
    """Code points covered by at least one font in ``dirs``."""
    from fontTools.ttLib import TTFont

    covered: set[int] = set()
    for path in font_files(dirs):
        font = TTFont(path, lazy=True)
        covered.update(font.getBestCmap() or {})
        font.close()
    return frozenset(covered)


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


@lru_cache(maxsize=8)
def font_face_css(dirs: tuple[Path, ...], prepared_dir: Path | None = None) -> str:
    """``@font-face`` rules for every shipped font, family and weight read from the file.

    WOFF and WOFF2 fonts point at their decoded copy in ``prepared_dir``.
    """
    from fontTools.ttLib import TTFont

    from .assets import prepare_font

    rules = []
    for source in font_files(dirs):
        path = prepare_font(source, prepared_dir) if prepared_dir else source
        font = TTFont(path, lazy=True)
        names = font["name"]
        family = str(names.getDebugName(16) or names.getDebugName(1))
        weight = font["OS/2"].usWeightClass
        italic = bool(font["OS/2"].fsSelection & 1)
        font.close()
        rules.append(
            f'@font-face {{ font-family: "{family}"; src: url("{path.resolve().as_uri()}"); '
            f"font-weight: {weight}; font-style: {'italic' if italic else 'normal'}; }}"
        )
    return "\n".join(rules)
