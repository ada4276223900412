"""Prepared assets: what a render needs, made once and kept in the cache.

- Raster images larger than the page needs are reduced once, to the profile's
  resolution (``screen_dpi``, ``print_dpi``) at the width of the page's text
  block; photos become JPEG.  The reduced copy is an object of the cache's
  store, found by the image's content and checked against its digest when
  it is used again.
- WOFF and WOFF2 fonts are decoded once to TrueType/OpenType in the cache, so
  that no render pays for decompressing them again.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from ..cache import Cache, key_of
from ..defaults import DEFAULTS
from .resources import Files, RefusedResource

RASTER = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"}


def max_pixels(dpi: int) -> int:
    """Widest image worth keeping: the text block's width at ``dpi``."""
    return round(float(DEFAULTS["text_width_mm"]) / 25.4 * dpi)


def _open(path: Path, shown: str, megapixels: float):
    """The image at ``path``, its header read (nothing decoded yet); refused when it
    is not an image or decodes to more than ``megapixels``."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        reason = "not an image PIL can read" if isinstance(exc, UnidentifiedImageError) else exc
        raise RefusedResource(f"'{shown}' cannot be read as an image ({reason}); "
                              "export it again as PNG or JPEG") from None
    except Image.DecompressionBombError:
        image = None
    if image is None or image.width * image.height > megapixels * 1_000_000:
        size = f"{image.width} × {image.height} pixels" if image else "larger"
        if image is not None:
            image.close()
        raise RefusedResource(
            f"'{shown}' is {size}, more than the {megapixels:g} megapixels allowed; reduce "
            "it or raise 'limits: {image_megapixels: …}' in site.yaml")
    return image


def check_image(path: Path, shown: str, megapixels: float) -> None:
    """Refuse ``path`` if it is a raster image that cannot be read or is too large."""
    if path.suffix.lower() in RASTER:
        _open(path, shown, megapixels).close()


def prepare_image(path: Path, cache: Cache | None, limit: int, files: Files,
                  megapixels: float = DEFAULTS["limits"]["image_megapixels"],
                  shown: str | None = None) -> Path:
    """``path``, or a reduced copy of it in ``cache`` when it is wider than ``limit``.

    Raises :class:`RefusedResource` for a file that is not a readable image or
    that decodes to more than ``megapixels``.
    """
    if path.suffix.lower() not in RASTER:
        return path
    key = key_of("prepared image", files.hash(path, "image"), limit)
    kept = _kept(cache, key)
    if kept is not None:
        return kept
    from PIL import Image

    with _open(path, shown or path.name, megapixels) as image:
        if image.width <= limit or cache is None:
            return path
        height = round(image.height * limit / image.width)
        try:
            reduced = image.convert("RGBA" if _has_alpha(image) else "RGB").resize(
                (limit, height), Image.Resampling.LANCZOS)
        except (OSError, ValueError, SyntaxError) as exc:
            raise RefusedResource(f"'{shown or path.name}' cannot be decoded ({exc}); export "
                                  "it again as PNG or JPEG") from None
        buffer = io.BytesIO()
        if reduced.mode == "RGBA":
            suffix = "png"
            reduced.save(buffer, format="PNG", optimize=True)
        else:
            suffix = "jpg"
            reduced.save(buffer, format="JPEG", quality=88, optimize=True, progressive=False)
    return _keep(cache, key, suffix, buffer.getvalue())


def _kept(cache: Cache | None, key: str) -> Path | None:
    """The checked file a preparation made before, if the cache has it."""
    if cache is None:
        return None
    entry = cache.get(key)
    if entry is None or len(entry["files"]) != 1:
        return None
    return cache.path(entry, entry["files"][0]["suffix"])


def _keep(cache: Cache, key: str, suffix: str, data: bytes) -> Path:
    cache.put(key, {suffix: data}, {})
    return cache.store.path(hashlib.sha256(data).hexdigest(), f".{suffix}")


def _has_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and
                                                  "transparency" in image.info)


def prepare_font(path: Path, cache: Cache, files: Files) -> Path:
    """A WOFF or WOFF2 font decoded once; other fonts as they are."""
    if path.suffix.lower() not in (".woff", ".woff2"):
        return path
    key = key_of("prepared font", files.hash(path, "font"))
    kept = _kept(cache, key)
    if kept is not None:
        return kept
    from fontTools.ttLib import TTFont

    font = TTFont(path, recalcTimestamp=False)  # its own date, not the moment it is decoded
    suffix = "otf" if "CFF " in font else "ttf"
    font.flavor = None
    buffer = io.BytesIO()
    font.save(buffer)
    font.close()
    return _keep(cache, key, suffix, buffer.getvalue())
