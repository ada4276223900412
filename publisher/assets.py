"""Prepared assets: what a render needs, made once and kept in the cache.

- Raster images larger than the page needs are reduced once, to about 150 dpi
  (screen) or 300 dpi (print) at the width of the page's text block; photos
  become JPEG.  The reduced copy is cached by the image's content.
- WOFF and WOFF2 fonts are decoded once to TrueType/OpenType in the cache, so
  that no render pays for decompressing them again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .cache import file_hash
from .write import write

RASTER = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}
TEXT_WIDTH_IN = 170 / 25.4  # the text block of an A4 page with 20 mm margins


def max_pixels(profile: dict) -> int:
    """Widest image worth keeping: the text block's width at the profile's resolution."""
    return round(TEXT_WIDTH_IN * (300 if profile.get("name") == "print" else 150))


def prepare_image(path: Path, cache_dir: Path, limit: int) -> Path:
    """``path``, or a reduced copy of it in ``cache_dir`` when it is wider than ``limit``."""
    if path.suffix.lower() not in RASTER:
        return path
    digest = file_hash(path)
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
        import io

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


def prepare_font(path: Path, cache_dir: Path) -> Path:
    """A WOFF or WOFF2 font decoded once; other fonts as they are."""
    if path.suffix.lower() not in (".woff", ".woff2"):
        return path
    from fontTools.ttLib import TTFont

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    font = TTFont(path)
    suffix = ".otf" if "CFF " in font else ".ttf"
    prepared = cache_dir / f"{digest}{suffix}"
    if not prepared.exists():
        import io

        font.flavor = None
        buffer = io.BytesIO()
        font.save(buffer)
        write(prepared, buffer.getvalue())
    font.close()
    return prepared
