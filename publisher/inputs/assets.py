"""Prepared assets: what a render needs, made once and kept in the cache.

- Raster images larger than the page needs are reduced once, to the profile's
  resolution (``screen_dpi``, ``print_dpi``) at the width of the page's text
  block; photos become JPEG.  The reduced copy is named by the image's content.
- WOFF and WOFF2 fonts are decoded once to TrueType/OpenType in the cache, so
  that no render pays for decompressing them again.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..defaults import DEFAULTS
from ..write import write
from .resources import Files

RASTER = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}


def max_pixels(dpi: int) -> int:
    """Widest image worth keeping: the text block's width at ``dpi``."""
    return round(float(DEFAULTS["text_width_mm"]) / 25.4 * dpi)


def prepare_image(path: Path, cache_dir: Path, limit: int, files: Files) -> Path:
    """``path``, or a reduced copy of it in ``cache_dir`` when it is wider than ``limit``."""
    if path.suffix.lower() not in RASTER:
        return path
    digest = files.hash(path, "image")
    for suffix in (".jpg", ".png"):
        prepared = cache_dir / f"{digest}-{limit}{suffix}"
        if prepared.exists():
            return prepared
    from PIL import Image

    with Image.open(path) as image:
        if image.width <= limit:
            return path
        height = round(image.height * limit / image.width)
        reduced = image.convert("RGBA" if _has_alpha(image) else "RGB").resize(
            (limit, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        if reduced.mode == "RGBA":
            suffix = ".png"
            reduced.save(buffer, format="PNG", optimize=True)
        else:
            suffix = ".jpg"
            reduced.save(buffer, format="JPEG", quality=88, optimize=True, progressive=False)
    prepared = cache_dir / f"{digest}-{limit}{suffix}"
    write(prepared, buffer.getvalue())
    return prepared


def _has_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and
                                                  "transparency" in image.info)


def prepare_font(path: Path, cache_dir: Path, files: Files) -> Path:
    """A WOFF or WOFF2 font decoded once; other fonts as they are."""
    if path.suffix.lower() not in (".woff", ".woff2"):
        return path
    digest = files.hash(path, "font")
    for suffix in (".otf", ".ttf"):
        if (cache_dir / f"{digest}{suffix}").exists():
            return cache_dir / f"{digest}{suffix}"
    from fontTools.ttLib import TTFont

    font = TTFont(path)
    prepared = cache_dir / f"{digest}{'.otf' if 'CFF ' in font else '.ttf'}"
    font.flavor = None
    buffer = io.BytesIO()
    font.save(buffer)
    font.close()
    write(prepared, buffer.getvalue())
    return prepared
