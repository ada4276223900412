"""Tagged PDFs joined into one, for kits and newsletters made of cached parts.

A kit is rendered as parts: its front matter (cover, contents), one part per
release, the contacts appendix.  Each part is a complete tagged PDF from
WeasyPrint, so a release that did not change is taken from the cache instead
of being laid out again.  :func:`join` joins the parts with qpdf (through
pikepdf's public API) into one document that reads as if it had been rendered
whole:

- one structure tree: every part's tagged elements under one ``Document``,
  with the parent tree renumbered (pages' ``StructParents``, annotations'
  ``StructParent``);
- one set of named destinations, so that the contents' links reach the
  releases (the front matter writes them as ``x-part:<anchor>`` links, which
  become named destinations here);
- one outline (bookmarks) in part order, one list of attached files, page
  labels that match the printed numbers;
- the front part's catalog entries: language, XMP metadata, document info,
  viewer preferences, mark info, output intents;
- page footers drawn over every page from a separate "folios" document whose
  page counters run through the whole kit, marked as pagination artifacts so
  that screen readers skip them;
- each typeface embedded once: one subset of the font file for the glyphs of
  every part (made with HarfBuzz as WeasyPrint makes its subsets), which every
  part's font dictionary points at;
- objects in compressed object streams.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

PART_LINK = "x-part:"  # how a part links to an anchor that another part holds


def join(parts: list[bytes], folios: bytes | None, *, identifier: bytes,
         page_labels: bool = True, share_fonts: bool = True, font_cache=None,
         originals=None, demote: list[bool] | None = None) -> bytes:
    """Join tagged ``parts`` (the first one gives the document its metadata) into
    one tagged PDF; draw ``folios``' page ``i`` over page ``i`` as an artifact;
    with ``share_fonts``, embed each typeface once (see :func:`merge_fonts`;
    ``font_cache`` keeps the merged programs, ``originals`` gives the font
    files by PostScript name).  The headings of the parts that
    ``demote`` marks move one level down (H1 → H2…): a release inside a kit."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(pdf)) for pdf in parts]
    try:
        front = sources[0]
        tree_root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document,
                                                P=tree_root, K=Array()))
        tree_root.K = Array([document])
        parent_tree = Array()  # key, value, key, value…
        next_key = 0
        dests: dict[str, object] = {}
        files: list[tuple[str, object]] = []
        outline: list[tuple] = []  # (title, page index, left, top, children)
        for number, source in enumerate(sources):
            offset = len(out.pages)
            for page in source.pages:
                out.pages.append(page)
            keys: dict[int, int] = {}  # the part's parent-tree keys → the joined ones
            tree = source.Root.get("/StructTreeRoot")
            if tree is not None:
                for part_document in _as_list(tree.get("/K")):
                    for element in _as_list(part_document.get("/K")):
                        if "/P" in element:
                            del element["/P"]  # or the part's whole tree comes along
                        copied = _copy(out, element)
                        copied.P = document
                        if demote and demote[number]:
                            _demote(copied)
                        document.K.append(copied)
                nums = _as_list(tree.ParentTree.get("/Nums"))
                for key, value in zip(nums[::2], nums[1::2], strict=True):
                    keys[int(key)] = next_key
                    parent_tree.append(next_key)
                    parent_tree.append(_copy(out, value))
                    next_key += 1
            for page in out.pages[offset:]:
                _renumber(page, keys)
            names = source.Root.get("/Names")
            if names is not None:
                if "/Dests" in names:
                    for name, dest in pikepdf.NameTree(names.Dests).items():
                        dests.setdefault(name, _copy(out, dest))
                if "/EmbeddedFiles" in names:
                    for name, spec in pikepdf.NameTree(names.EmbeddedFiles).items():
                        files.append((name, _copy(out, spec)))
            outline += _outline(source, offset)

        tree_root.ParentTree = out.make_indirect(Dictionary(Nums=parent_tree))
        tree_root.ParentTreeNextKey = next_key
        if "/RoleMap" in (front.Root.get("/StructTreeRoot") or {}):
            tree_root.RoleMap = _copy(out, front.Root.StructTreeRoot.RoleMap)
        out.Root.StructTreeRoot = tree_root
        for key in ("/Lang", "/ViewerPreferences", "/MarkInfo", "/Metadata", "/OutputIntents"):
            if key in front.Root:
                out.Root[key] = _copy(out, front.Root[key])
        if dests or files:
            names = Dictionary()
            if dests:  # a name tree's keys are sorted
                names.Dests = out.make_indirect(Dictionary(Names=Array(
                    item for name in sorted(dests) for item in (String(name), dests[name]))))
            if files:
                names.EmbeddedFiles = out.make_indirect(Dictionary(Names=Array(
                    item for name, spec in sorted(files, key=lambda f: f[0])
                    for item in (String(name), spec))))
            out.Root.Names = names
        _add_outline(out, outline)
        if page_labels:
            out.Root.PageLabels = Dictionary(Nums=Array([0, Dictionary(S=Name.D)]))
        if folios is not None:
            with pikepdf.open(io.BytesIO(folios)) as folio_pdf:
                _overlay(out, folio_pdf)
        if share_fonts:
            merge_fonts(out, font_cache, originals)
        if "/Info" in front.trailer:
            out.trailer.Info = _copy(out, front.trailer.Info)
        out.trailer.ID = Array([String(identifier), String(identifier)])
        buffer = io.BytesIO()
        out.save(buffer, min_version=front.pdf_version, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 deterministic_id=True)
        return buffer.getvalue()
    finally:
        for source in sources:
            source.close()
        out.close()


def _copy(out, value):
    """``value`` of another PDF in ``out``: indirect objects through qpdf's copier
    (each copied once, references to pages already copied kept), direct ones
    rebuilt around them."""
    import pikepdf

    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copy(out, item) for item in value])
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copy(out, item) for key, item in value.items()})
    return value


_LOWER = {f"/H{level}": f"/H{level + 1}" for level in range(1, 6)}


def _demote(element) -> None:
    """Each heading under ``element`` one level lower."""
    import pikepdf

    todo, seen = [element], set()
    while todo:
        node = todo.pop()
        if not isinstance(node, pikepdf.Dictionary) or "/S" not in node:
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        tag = str(node.S)
        if tag in _LOWER:
            node.S = pikepdf.Name(_LOWER[tag])
        todo.extend(_as_list(node.get("/K")))


def _as_list(value) -> list:
    import pikepdf

    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _renumber(page, keys: dict[int, int]) -> None:
    """A joined page's parent-tree keys, and its links to other parts as destinations."""
    from pikepdf import Name, String

    if "/StructParents" in page.obj:
        page.obj.StructParents = keys[int(page.obj.StructParents)]
    for annotation in page.obj.get("/Annots") or []:
        if "/StructParent" in annotation:
            annotation.StructParent = keys[int(annotation.StructParent)]
        action = annotation.get("/A")
        uri = str(action.get("/URI", "")) if action is not None else ""
        if uri.startswith(PART_LINK):
            del annotation["/A"]
            anchor = uri[len(PART_LINK):]
            annotation[Name.Dest] = String(anchor)
            if not str(annotation.get("/Contents", "")).strip():  # the part described it
                annotation[Name.Contents] = String(anchor)


def _outline(source, offset: int) -> list[tuple]:
    """A part's bookmarks as (title, page index in the whole, left, top, children)."""
    import pikepdf

    index = {page.obj.objgen: number for number, page in enumerate(source.pages)}

    def items(nodes) -> list[tuple]:
        found = []
        for item in nodes:
            dest = item.destination
            if isinstance(dest, pikepdf.Array) and len(dest) >= 4 and \
                    dest[0].objgen in index and str(dest[1]) == "/XYZ":
                left, top = (float(v) if v is not None else None for v in (dest[2], dest[3]))
                found.append((item.title, offset + index[dest[0].objgen], left, top,
                              items(item.children)))
        return found

    with source.open_outline() as outline:
        return items(outline.root)


def _add_outline(out, items: list[tuple]) -> None:
    from pikepdf import OutlineItem, PageLocation

    def make(entries):
        made = []
        for title, page, left, top, children in entries:
            item = OutlineItem(title, page, PageLocation.XYZ, left=left, top=top, zoom=0)
            item.children.extend(make(children))
            made.append(item)
        return made

    if items:
        with out.open_outline() as outline:
            outline.root.extend(make(items))


def _overlay(out, folios) -> None:
    """Draw each page of ``folios`` over the matching page, as a pagination artifact."""
    from pikepdf import Name, Stream

    opening = out.make_indirect(Stream(out, b"q\n"))
    for index, (page, folio) in enumerate(zip(out.pages, folios.pages, strict=True)):
        form = out.copy_foreign(folio.as_form_xobject())
        name = Name(f"/Folio{index}")
        resources = _copied(page.obj.get("/Resources"))
        xobjects = _copied(resources.get("/XObject"))
        xobjects[name] = form
        resources.XObject = xobjects
        page.obj.Resources = resources
        closing = Stream(out, b"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"
                         + str(name).encode() + b" Do\nEMC\n")
        page.contents_add(opening, prepend=True)
        page.contents_add(out.make_indirect(closing))


# --- one font program per typeface ------------------------------------------------------
#
# Every part embeds its own subset of each font it uses.  WeasyPrint subsets with
# the glyph ids kept (a glyph has the same id in every subset of a font), so the
# subsets of one font can be merged: the glyphs that other parts use are copied
# into one part's subset, and every part's font then points at that program.
# Each part keeps its own font dictionary, widths and Unicode map: its text was
# positioned with those widths.  Without this a newsletter of thirty releases
# would carry thirty copies of each typeface.  (Kept glyph ids are how WeasyPrint
# subsets today; tests/test_join.py renders joined pages with and without the
# merge and fails if they differ by a pixel.)


def _copied(dictionary):
    """A new PDF dictionary with the entries of ``dictionary`` (none if it is None)."""
    from pikepdf import Dictionary

    return Dictionary({str(k): v for k, v in dictionary.items()}) if dictionary is not None \
        else Dictionary()


@dataclass
class _Member:
    descendant: Any  # the CIDFont dictionary (a pikepdf object, read by key)
    descriptor: Any
    program_key: str  # /FontFile2 (TrueType) or /FontFile3 (CFF)
    gids: set[int]  # the glyphs the part uses (those its widths list)


def merge_fonts(pdf, cache=None, originals=None) -> int:
    """Give each typeface one embedded program for the whole document; return how
    many programs were folded into another.

    With ``originals`` (a PostScript name → the font file's bytes, or None),
    the program is the font file subset once with HarfBuzz for the glyphs of
    every part, as WeasyPrint subsets it for one (see :mod:`publisher.pdf.subset`);
    a font not found there has the other parts' glyphs copied into one part's
    program with fontTools.  ``cache`` (``get(key)`` → bytes or None,
    ``put(key, bytes)``) keeps the copied programs between builds."""
    import pikepdf

    groups: dict[tuple, list[_Member]] = {}
    seen: set[tuple] = set()
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0":
            member = _member(obj)
            if member is not None and member.descriptor.objgen not in seen:
                seen.add(member.descriptor.objgen)
                name = str(obj.BaseFont).split("+", 1)[-1]
                groups.setdefault((name, member.program_key), []).append(member)
    folded = 0
    for members in groups.values():
        # a subset keeps every glyph id up to the highest it uses: the subset with
        # the highest one has room for the glyphs of all the others
        members.sort(key=lambda m: -max(m.gids, default=0))
        if len(members) > 1 and (_subset_group(members, originals)
                                 or _merge_group(members, cache)):
            keep = members[0].descriptor
            for member in members[1:]:
                member.descendant.FontDescriptor = keep  # the old program is left unused
                folded += 1
    return folded


def _member(font) -> _Member | None:
    """A Type0 font whose program can be shared: Identity-H, an embedded program."""
    if font.get("/Encoding") != "/Identity-H":
        return None
    descendant = font.DescendantFonts[0]
    if descendant.get("/CIDToGIDMap", "/Identity") != "/Identity":
        return None
    descriptor = descendant.get("/FontDescriptor")
    if descriptor is None or not descriptor.is_indirect:
        return None
    key = next((k for k in ("/FontFile2", "/FontFile3") if k in descriptor), None)
    if key is None or "/CIDSet" in descriptor or not descriptor[key].is_indirect:
        return None
    gids: set[int] = set()
    array = list(descendant.get("/W") or [])
    position = 0
    while position < len(array):
        first, following = int(array[position]), array[position + 1]
        if hasattr(following, "__len__") and not isinstance(following, (int, float)):
            gids.update(range(first, first + len(following)))
            position += 2
        else:
            gids.update(range(first, int(following) + 1))
            position += 3
    return _Member(descendant, descriptor, key, gids)


def _subset_group(members: list[_Member], originals) -> bool:
    """Give the first member the font file's subset for every member's glyphs."""

    from .subset import postscript_name, subset

    if originals is None:
        return False
    keep = members[0]
    program = keep.descriptor[keep.program_key]
    if keep.program_key == "/FontFile3" and program.get("/Subtype") != "/OpenType":
        return False  # a bare CFF program, not a font file
    name = postscript_name(program.read_bytes())
    original = originals(name) if name else None
    data = subset(original, set().union(*(m.gids for m in members))) if original else None
    if data is None:
        return False
    _install(members, data)
    return True


def _merge_group(members: list[_Member], cache=None) -> bool:
    """Copy every member's glyphs into the first member's font program."""
    from fontTools.ttLib import TTFont

    def load(member):
        data = member.descriptor[member.program_key].read_bytes()
        return TTFont(io.BytesIO(data), recalcTimestamp=False, recalcBBoxes=False, lazy=True)

    keep = members[0]
    digest = hashlib.sha256(b"merged font program 1")
    for member in members:
        digest.update(hashlib.sha256(member.descriptor[member.program_key]
                                     .read_raw_bytes()).digest())
        digest.update(repr(sorted(member.gids)).encode())
    key = digest.hexdigest()
    data = cache.get(key) if cache is not None else None
    if data is None:
        present = set(keep.gids)
        base = None
        for member in members[1:]:
            new = sorted(member.gids - present)
            if new:
                if base is None:
                    base = load(keep)
                if not _copy_glyphs(load(member), base, new):
                    return False
                present.update(new)
        if base is not None:
            out = io.BytesIO()
            base.save(out)
            data = out.getvalue()
            if cache is not None:
                cache.put(key, data)
    _install(members, data)
    return True


def _install(members: list[_Member], data: bytes | None) -> None:
    """The first member's program becomes ``data`` (None: kept as it is), its
    bounding box the union of every member's."""
    from pikepdf import Array

    keep = members[0]
    if data is not None:
        program = keep.descriptor[keep.program_key]
        program.write(data)
        if keep.program_key == "/FontFile2":
            program.Length1 = len(data)
    boxes = [m.descriptor.FontBBox for m in members]
    keep.descriptor.FontBBox = Array(
        pick(float(box[i]) for box in boxes) for i, pick in enumerate((min, min, max, max)))


def _copy_glyphs(source, target, gids: list[int]) -> bool:
    """Copy the glyphs ``gids`` (with their components) from one subset to another."""
    source_order, target_order = source.getGlyphOrder(), target.getGlyphOrder()
    if max(gids) >= min(len(source_order), len(target_order)):
        return False
    if "glyf" in source and "glyf" in target:
        todo, done = list(gids), set()
        while todo:
            gid = todo.pop()
            if gid in done:
                continue
            done.add(gid)
            glyph = source["glyf"][source_order[gid]]
            if glyph.isComposite():
                for component in glyph.components:
                    component_gid = source.getGlyphID(component.glyphName)
                    if component_gid >= len(target_order):
                        return False
                    component.glyphName = target_order[component_gid]
                    todo.append(component_gid)
            target["glyf"][target_order[gid]] = glyph
            target["hmtx"][target_order[gid]] = source["hmtx"][source_order[gid]]
        return True
    if "CFF " in source and "CFF " in target:
        source_top = source["CFF "].cff.topDictIndex[0]
        target_top = target["CFF "].cff.topDictIndex[0]
        if hasattr(source_top, "ROS") or hasattr(target_top, "ROS"):
            return False  # CID-keyed CFF: not merged
        for attribute in ("nominalWidthX", "defaultWidthX"):
            if getattr(source_top.Private, attribute, 0) != getattr(target_top.Private,
                                                                    attribute, 0):
                return False
        if getattr(source_top.Private, "Subrs", None) or source["CFF "].cff.GlobalSubrs:
            return False  # charstrings that call subroutines cannot move alone
        for gid in gids:
            charstring = source_top.CharStrings[source_order[gid]]
            charstring.decompile()
            charstring.private = target_top.Private
            charstring.globalSubrs = target["CFF "].cff.GlobalSubrs
            target_top.CharStrings[target_order[gid]] = charstring
            target["hmtx"][target_order[gid]] = source["hmtx"][source_order[gid]]
        return True
    return False
