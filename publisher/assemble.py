"""Tagged PDFs joined into one, for kits and newsletters made of cached parts.

A kit is rendered as parts: its front matter (cover, contents), one part per
release, the contacts appendix.  Each part is a complete tagged PDF from
WeasyPrint, so a release that did not change is taken from the cache instead
of being laid out again.  :func:`assemble` joins the parts into one document
that reads as if it had been rendered whole:

- one structure tree: every part's tagged elements under one ``Document``,
  with the parent tree renumbered (pages' ``StructParents``, annotations'
  ``StructParent``);
- one set of named destinations, so that the contents' links reach the
  releases (the front matter writes them as ``x-part:<anchor>`` links, which
  become named destinations here);
- one outline (bookmarks) in part order, one list of attached files, page
  labels that match the printed numbers;
- the front part's catalog entries: language, XMP metadata, document info,
  viewer preferences, output intents;
- page footers drawn over every page from a separate "folios" document whose
  page counters run through the whole kit, marked as pagination artifacts so
  that screen readers skip them;
- each typeface embedded once: the parts' subsets of a font are merged into
  one program that every part's font dictionary points at;
- objects in compressed object streams, written by qpdf (:func:`compact`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

PART_LINK = "x-part:"  # how a part links to an anchor that another part holds


@dataclass
class PartInfo:
    """What the front matter needs to know about a rendered part."""

    pages: int
    anchors: dict[str, int]  # anchor name → page index within the part


def assemble(parts: list[bytes], folios: bytes | None, *, identifier: bytes,
             page_labels: bool = True, share_fonts: bool = True, font_cache=None) -> bytes:
    """Join tagged ``parts`` (the first one gives the document its metadata) into
    one tagged PDF; draw ``folios``' page ``i`` over page ``i`` as an artifact;
    with ``share_fonts``, embed each typeface once (see :func:`merge_fonts`;
    ``font_cache`` keeps the merged programs)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(pdf)) for pdf in parts]
    front = readers[0]
    writer.pdf_header = front.pdf_header

    root = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
    root_ref = writer._add_object(root)
    document = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                 NameObject("/S"): NameObject("/Document"),
                                 NameObject("/P"): root_ref,
                                 NameObject("/K"): ArrayObject()})
    document_ref = writer._add_object(document)
    root[NameObject("/K")] = ArrayObject([document_ref])
    parent_tree = ArrayObject()  # key, value, key, value…
    next_key = 0
    dests: dict[str, object] = {}
    files: list = []
    outline: list = []  # (title, page index, fit, children)

    added = []  # the joined pages (writer.pages walks the page tree at each call)
    for reader in readers:
        offset = len(added)
        originals = list(reader.pages)
        added += [writer.add_page(page) for page in originals]
        catalog = reader.trailer["/Root"]
        # the structure tree: old parent-tree keys → new ones
        keys: dict[int, int] = {}
        tree = catalog.get("/StructTreeRoot")
        if tree is not None:
            tree = tree.get_object()
            for kid_doc in _as_list(tree.get("/K")):
                kid_doc = kid_doc.get_object()
                for element in _as_list(kid_doc.get("/K")):
                    element_obj = element.get_object()
                    if "/P" in element_obj:
                        del element_obj["/P"]
                    clone = element.clone(writer)
                    clone.get_object()[NameObject("/P")] = document_ref
                    document["/K"].append(clone)
            nums = tree["/ParentTree"].get_object().get("/Nums", [])
            for key, value in zip(nums[::2], nums[1::2], strict=True):
                keys[int(key)] = next_key
                parent_tree.append(NumberObject(next_key))
                parent_tree.append(value.clone(writer))
                next_key += 1
        for page, new in zip(originals, added[offset:], strict=True):
            if "/StructParents" in page:
                new[NameObject("/StructParents")] = NumberObject(keys[int(page["/StructParents"])])
            for annot in new.get("/Annots") or []:
                annot = annot.get_object()
                if "/StructParent" in annot:
                    annot[NameObject("/StructParent")] = NumberObject(
                        keys[int(annot["/StructParent"])])
                action = annot.get("/A")
                uri = str(action.get_object().get("/URI", "")) if action else ""
                if uri.startswith(PART_LINK):
                    del annot["/A"]
                    anchor = uri[len(PART_LINK):]
                    annot[NameObject("/Dest")] = TextStringObject(anchor)
                    annot[NameObject("/Contents")] = TextStringObject(anchor)
        names = catalog.get("/Names")
        if names is not None:
            names = names.get_object()
            if "/Dests" in names:
                array = names["/Dests"].get_object().get("/Names", [])
                for name, dest in zip(array[::2], array[1::2], strict=True):
                    dests.setdefault(str(name), dest.clone(writer))
            if "/EmbeddedFiles" in names:
                array = names["/EmbeddedFiles"].get_object().get("/Names", [])
                for name, spec in zip(array[::2], array[1::2], strict=True):
                    files.append((str(name), spec.clone(writer)))
        outline += _outline(reader, reader.outline, offset)

    root[NameObject("/ParentTree")] = writer._add_object(DictionaryObject(
        {NameObject("/Nums"): parent_tree}))
    root[NameObject("/ParentTreeNextKey")] = NumberObject(next_key)

    catalog = writer._root_object
    catalog[NameObject("/StructTreeRoot")] = root_ref
    source = front.trailer["/Root"]
    for key in ("/Lang", "/ViewerPreferences", "/MarkInfo", "/Metadata", "/OutputIntents"):
        if key in source:  # raw: the XMP stream stays an indirect object
            catalog[NameObject(key)] = source.raw_get(key).clone(writer)
    names = DictionaryObject()
    if dests:
        names[NameObject("/Dests")] = writer._add_object(DictionaryObject({
            NameObject("/Names"): ArrayObject(
                item for name in sorted(dests) for item in (TextStringObject(name),
                                                            dests[name]))}))
    if files:  # a name tree's keys are sorted
        names[NameObject("/EmbeddedFiles")] = writer._add_object(DictionaryObject({
            NameObject("/Names"): ArrayObject(
                item for name, spec in sorted(files, key=lambda f: f[0])
                for item in (TextStringObject(name), spec))}))
    if names:
        catalog[NameObject("/Names")] = names
    _add_outline(writer, outline, None)
    if page_labels:
        catalog[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): ArrayObject(
            [NumberObject(0), DictionaryObject({NameObject("/S"): NameObject("/D")})])})
    if folios is not None:
        _overlay(writer, added, PdfReader(io.BytesIO(folios)))
    if share_fonts:
        merge_fonts(writer, font_cache)
    info = front.metadata or {}
    writer._info = DictionaryObject({NameObject(k): v.clone(writer) if hasattr(v, "clone")
                                     else TextStringObject(v) for k, v in info.items()})
    writer._ID = ArrayObject([ByteStringObject(identifier), ByteStringObject(identifier)])
    out = io.BytesIO()
    writer.write(out)
    return compact(out.getvalue())


def compact(pdf: bytes) -> bytes:
    """The PDF rewritten by qpdf with its objects in compressed object streams.

    pypdf writes every object as plain text: the structure tree, the fonts'
    dictionaries and the links of a newsletter would take more room than its
    pages.  qpdf keeps the first /ID (the document's identifier) and derives
    the second from the content, so the output stays reproducible.
    """
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        out = io.BytesIO()
        document.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                      compress_streams=True, deterministic_id=True)
    return out.getvalue()


def _as_list(value):
    if value is None:
        return []
    value = value.get_object() if hasattr(value, "get_object") else value
    return list(value) if isinstance(value, list) else [value]


def _outline(reader, items, offset):
    """A part's bookmarks as (title, page index in the whole, fit, children)."""
    from pypdf.generic import Fit

    found = []
    for item in items:
        if isinstance(item, list):  # the children of the previous item
            if found:
                found[-1][3].extend(_outline(reader, item, offset))
            continue
        page = reader.get_destination_page_number(item)
        left, top = item.get("/Left"), item.get("/Top")
        found.append((str(item.title), offset + page, Fit.xyz(left, top, 0), []))
    return found


def _add_outline(writer, items, parent):
    for title, page, fit, children in items:
        node = writer.add_outline_item(title=title, page_number=page, parent=parent, fit=fit)
        _add_outline(writer, children, node)


def _overlay(writer, pages, folios) -> None:
    """Draw each page of ``folios`` over the matching page, as a pagination artifact."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        StreamObject,
    )

    opening = writer._add_object(_stream(b"q\n"))
    resources_cache: dict[int, object] = {}
    for index, (page, folio) in enumerate(zip(pages, folios.pages, strict=True)):
        drawn = folio.raw_get("/Contents").get_object()  # one stream, as WeasyPrint writes
        form = StreamObject()
        form._data = drawn._data  # still encoded: its filter goes with it
        form.update({
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(folio.mediabox),
        })
        if "/Filter" in drawn:
            form[NameObject("/Filter")] = drawn["/Filter"].clone(writer)
        resources = folio["/Resources"]
        key = id(resources.get_object())
        if key not in resources_cache:
            resources_cache[key] = resources.clone(writer)
        form[NameObject("/Resources")] = resources_cache[key]
        form_ref = writer._add_object(form)
        name = f"/Folio{index}"
        page_resources = DictionaryObject(page["/Resources"].get_object())
        xobjects = DictionaryObject(page_resources.get("/XObject", {}))
        xobjects[NameObject(name)] = form_ref
        page_resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = page_resources
        closing = _stream(b"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"
                          + name.encode() + b" Do\nEMC\n")
        contents = page.raw_get("/Contents")  # references: a stream is never inline
        if isinstance(contents.get_object(), ArrayObject):
            contents = list(contents.get_object())
        else:
            contents = [contents]
        page[NameObject("/Contents")] = ArrayObject(
            [opening, *contents, writer._add_object(closing)])


def _stream(data: bytes):
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


# --- one font program per typeface ------------------------------------------------------
#
# Every part embeds its own subset of each font it uses.  WeasyPrint subsets with
# the glyph ids kept (a glyph has the same id in every subset of a font), so the
# subsets of one font can be merged: the glyphs that other parts use are copied
# into one part's subset, and every part's font then points at that program.
# Each part keeps its own font dictionary, widths and Unicode map: its text was
# positioned with those widths.  Without this a newsletter of thirty releases
# would carry thirty copies of each typeface.  (Kept glyph ids are how WeasyPrint
# subsets today; tests/test_assemble.py renders joined pages with and without
# the merge and fails if they differ by a pixel.)


@dataclass
class _Member:
    descendant: object  # the CIDFont dictionary
    descriptor: object
    program_key: str  # /FontFile2 (TrueType) or /FontFile3 (CFF)
    gids: set[int]  # the glyphs the part uses (those its widths list)


def merge_fonts(writer, cache=None) -> int:
    """Give each typeface one embedded program for the whole document; return how
    many programs were folded into another.  ``cache`` (``get(key)`` → bytes or
    None, ``put(key, bytes)``) keeps merged programs between builds."""
    from pypdf.generic import DictionaryObject, NameObject

    groups: dict[tuple, list[_Member]] = {}
    for obj in writer._objects:
        if isinstance(obj, DictionaryObject) and obj.get("/Subtype") == "/Type0":
            member = _member(obj)
            if member is not None:
                name = str(obj["/BaseFont"]).split("+", 1)[-1]
                groups.setdefault((name, member.program_key), []).append(member)
    folded = 0
    for members in groups.values():
        # a subset keeps every glyph id up to the highest it uses: the subset with
        # the highest one has room for the glyphs of all the others
        members.sort(key=lambda m: -max(m.gids, default=0))
        if len(members) > 1 and _merge_group(members, cache):
            keep = members[0].descriptor.indirect_reference
            for member in members[1:]:
                program = member.descriptor.raw_get(member.program_key)
                member.descendant[NameObject("/FontDescriptor")] = keep
                writer._objects[member.descriptor.indirect_reference.idnum - 1] = None
                writer._objects[program.idnum - 1] = None
                folded += 1
    return folded


def _member(font) -> _Member | None:
    """A Type0 font whose program can be shared: Identity-H, an embedded program."""
    from pypdf.generic import IndirectObject

    if font.get("/Encoding") != "/Identity-H":
        return None
    descendant = font["/DescendantFonts"][0].get_object()
    if descendant.get("/CIDToGIDMap", "/Identity") != "/Identity":
        return None
    descriptor = descendant.raw_get("/FontDescriptor")
    if not isinstance(descriptor, IndirectObject):
        return None
    descriptor = descriptor.get_object()
    key = next((k for k in ("/FontFile2", "/FontFile3") if k in descriptor), None)
    if (key is None or "/CIDSet" in descriptor
            or not isinstance(descriptor.raw_get(key), IndirectObject)):
        return None
    gids: set[int] = set()
    array = list(descendant.get("/W", []))
    position = 0
    while position < len(array):
        first, following = int(array[position]), array[position + 1]
        if isinstance(following, list):
            gids.update(range(first, first + len(following)))
            position += 2
        else:
            gids.update(range(first, int(following) + 1))
            position += 3
    return _Member(descendant, descriptor, key, gids)


def _merge_group(members: list[_Member], cache=None) -> bool:
    """Copy every member's glyphs into the first member's font program."""
    import hashlib

    from fontTools.ttLib import TTFont
    from pypdf.generic import ArrayObject, FloatObject, NameObject, NumberObject

    def load(member):
        data = member.descriptor[member.program_key].get_object().get_data()
        return TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)

    keep = members[0]
    digest = hashlib.sha256(b"merged font program 1")
    for member in members:
        digest.update(hashlib.sha256(member.descriptor[member.program_key].get_object()
                                     ._data).digest())
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
    if data is not None:
        program = keep.descriptor[keep.program_key].get_object()
        program.set_data(data)
        if keep.program_key == "/FontFile2":
            program[NameObject("/Length1")] = NumberObject(len(data))
    boxes = [m.descriptor["/FontBBox"] for m in members]
    keep.descriptor[NameObject("/FontBBox")] = ArrayObject(
        FloatObject(pick(float(box[i]) for box in boxes))
        for i, pick in enumerate((min, min, max, max)))
    return True


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
