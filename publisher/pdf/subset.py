"""A font subset made with HarfBuzz, as WeasyPrint makes them, for a whole document.

WeasyPrint subsets each font of a document with HarfBuzz, glyph ids kept.
A kit joined from parts holds one subset of a font per part; one subset of
the font file with the union of the glyphs that the parts use, made with the
same options, draws every part's glyphs and replaces them all (see
:func:`publisher.pdf.join.merge_fonts`).  HarfBuzz is the library WeasyPrint
already loads; it is called here through ctypes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

# hb_subset_flags_t and hb_subset_sets_t (hb-subset.h)
_NO_HINTING, _RETAIN_GIDS, _DESUBROUTINIZE, _PASSTHROUGH = 0x1, 0x2, 0x4, 0x20
_DROP_TABLE_TAG = 3
# the tables WeasyPrint drops from its subsets
_DROPPED = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH",
            b"PCLT", b"SVG ")

_LIBRARIES: list = []


def _libraries():
    """libharfbuzz and libharfbuzz-subset, or None when either is missing."""
    if not _LIBRARIES:
        try:
            hb = ctypes.CDLL(ctypes.util.find_library("harfbuzz") or "libharfbuzz.so.0")
            sub = ctypes.CDLL(ctypes.util.find_library("harfbuzz-subset")
                              or "libharfbuzz-subset.so.0")
        except OSError:
            _LIBRARIES.append(None)
            return None
        pointer, uint = ctypes.c_void_p, ctypes.c_uint
        for function, result, arguments in (
                (hb.hb_blob_create, pointer, [ctypes.c_char_p, uint, ctypes.c_int, pointer,
                                              pointer]),
                (hb.hb_blob_destroy, None, [pointer]),
                (hb.hb_face_create, pointer, [pointer, uint]),
                (hb.hb_face_destroy, None, [pointer]),
                (hb.hb_face_reference_blob, pointer, [pointer]),
                (hb.hb_blob_get_data, ctypes.POINTER(ctypes.c_char),
                 [pointer, ctypes.POINTER(uint)]),
                (hb.hb_set_add, None, [pointer, uint]),
                (hb.hb_set_add_range, None, [pointer, uint, uint]),
                (sub.hb_subset_input_create_or_fail, pointer, []),
                (sub.hb_subset_input_destroy, None, [pointer]),
                (sub.hb_subset_input_glyph_set, pointer, [pointer]),
                (sub.hb_subset_input_set, pointer, [pointer, ctypes.c_int]),
                (sub.hb_subset_input_set_flags, None, [pointer, uint]),
                (sub.hb_subset_or_fail, pointer, [pointer, pointer])):
            function.restype, function.argtypes = result, arguments
        _LIBRARIES.append((hb, sub))
    return _LIBRARIES[0]


def _tag(name: bytes) -> int:
    return int.from_bytes(name, "big")


def subset(font: bytes, gids: set[int], *, hinting: bool = False) -> bytes | None:
    """``font`` with only the glyphs ``gids`` drawn, every glyph id kept (the ids
    past the highest dropped), as WeasyPrint's subsets; None if HarfBuzz fails."""
    libraries = _libraries()
    if libraries is None or not gids:
        return None
    hb, sub = libraries
    blob = hb.hb_blob_create(font, len(font), 1, None, None)  # HB_MEMORY_MODE_READONLY
    face = hb.hb_face_create(blob, 0)
    faces = [face]
    try:
        # first the glyphs, at their ids; then the ids past the highest one dropped
        for glyphs, flags in ((sorted(gids), _RETAIN_GIDS | _PASSTHROUGH | _DESUBROUTINIZE),
                              (None, _PASSTHROUGH | _DESUBROUTINIZE
                               | (0 if hinting else _NO_HINTING))):
            made = sub.hb_subset_input_create_or_fail()
            if not made:
                return None
            try:
                wanted = sub.hb_subset_input_glyph_set(made)
                if glyphs is None:
                    hb.hb_set_add_range(wanted, 0, max(gids))
                else:
                    for gid in glyphs:
                        hb.hb_set_add(wanted, gid)
                sub.hb_subset_input_set_flags(made, flags)
                dropped = sub.hb_subset_input_set(made, _DROP_TABLE_TAG)
                for name in _DROPPED:
                    hb.hb_set_add(dropped, _tag(name))
                face = sub.hb_subset_or_fail(face, made)
            finally:
                sub.hb_subset_input_destroy(made)
            if not face:
                return None
            faces.append(face)
        result = hb.hb_face_reference_blob(face)
        length = ctypes.c_uint()
        data = hb.hb_blob_get_data(result, ctypes.byref(length))
        out = ctypes.string_at(data, length.value) if length.value else None
        hb.hb_blob_destroy(result)
        return out
    finally:
        for made in faces:
            hb.hb_face_destroy(made)
        hb.hb_blob_destroy(blob)


def postscript_name(font: bytes | Path) -> str | None:
    """The PostScript name (name id 6) of an OpenType font (its bytes or its file)."""
    import io

    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(io.BytesIO(font) if isinstance(font, bytes) else font,
                    lazy=True) as parsed:
            name = parsed["name"].getDebugName(6) if "name" in parsed else None
    except (OSError, TTLibError, KeyError, ValueError, AssertionError, IndexError):
        return None
    return name


class Originals:
    """The font files a build draws with, found by PostScript name."""

    def __init__(self, paths):
        self._paths = paths  # the files, or a function that gives them when first asked
        self._names: dict[str, Path] | None = None

    def __call__(self, name: str) -> bytes | None:
        if self._names is None:
            self._names = {}
            for path in self._paths() if callable(self._paths) else self._paths:
                if path.suffix.lower() in (".otf", ".ttf") and path.is_file():
                    found = postscript_name(path)
                    if found:
                        self._names.setdefault(found, path)
        path = self._names.get(name)
        return path.read_bytes() if path is not None else None
