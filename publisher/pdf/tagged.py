"""What a tagged PDF needs beyond what WeasyPrint writes, for PDF/UA-1.

WeasyPrint tags every box it draws, but some of what it draws must not be
read: the running footers (their marked content points at elements that are
not linked into the structure tree), the leaders and page numbers of a
contents entry (a ``::after`` of the link, tagged as links inside the link),
decorative images (``alt=""``).  :func:`accessible` makes those artifacts,
gives every link annotation one description a person can read (the ``title``
the layout gave the ``<a>``, else the address without its scheme), keeps one
annotation per contents entry, puts list-item bodies in ``LBody`` and gives
table header cells their ``/Scope``.  A layout marks what is only decoration
(an end mark) as ``<a href="x-artifact:">``: it becomes an artifact, without a
link; a passage in another language as ``<a href="x-lang:fr">``: it becomes a
``Span`` with its ``/Lang``, without a link.  (WeasyPrint gives no other way to
reach a structure element from the HTML.)
"""

from __future__ import annotations

import html as html_lib
import io
import re
from typing import Any

from .objects import entry

_LINK = re.compile(r"<a\b([^>]*)>", re.IGNORECASE)
# a layout marks what must not be read (an end mark, an ornament) as a link to this
ARTIFACT = "x-artifact:"
# …and a passage in another language than the document's as a link to x-lang:CODE
LANG = "x-lang:"
_ATTRIBUTE = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')


def link_descriptions(html: str) -> dict[str, str]:
    """href (an anchor without its '#' or part prefix) → the ``title`` of its <a>."""
    from .join import PART_LINK

    found: dict[str, str] = {}
    for match in _LINK.finditer(html):
        attributes = dict(_ATTRIBUTE.findall(match[1]))
        href, title = attributes.get("href"), attributes.get("title")
        if not href or not title:
            continue
        href = html_lib.unescape(href)
        for prefix in ("#", PART_LINK):
            if href.startswith(prefix):
                href = href[len(prefix):]
        found.setdefault(href, html_lib.unescape(title))
    return found


def _kids(node) -> list:
    import pikepdf

    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _set_kids(node, kids: list) -> None:
    import pikepdf

    node.K = pikepdf.Array(kids)


def _is_element(node) -> bool:
    import pikepdf

    return isinstance(node, pikepdf.Dictionary) and "/S" in node


def _mcids(node) -> list[tuple[int, Any]]:
    """(MCID, page) of every content item under ``node``."""
    import pikepdf

    found = []
    for kid in _kids(node):
        if isinstance(kid, int):
            found.append((kid, node.get("/Pg")))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            found.append((int(kid.MCID), kid.get("/Pg") or node.get("/Pg")))
        elif _is_element(kid):
            found += _mcids(kid)
    return found


def _describe(target: str, descriptions: dict[str, str]) -> str:
    from .join import PART_LINK

    target = target.removeprefix(PART_LINK).removeprefix("#")
    if target in descriptions:
        return descriptions[target]
    for scheme in ("mailto:", "tel:", "https://", "http://"):
        if target.startswith(scheme):
            return target[len(scheme):].rstrip("/")
    return target.replace("-", " ")


def accessible(data: bytes, descriptions: dict[str, str] | None = None, *,
               compress: bool = True) -> bytes:
    """The tagged PDF ``data`` with the fixes of this module's docstring (streams it
    rewrites compressed unless ``compress`` is false: a part qpdf compresses later)."""
    import pikepdf

    descriptions = descriptions or {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        if "/StructTreeRoot" not in root:
            return data
        tree = root.StructTreeRoot
        reachable: set = set()
        artifacts: dict[tuple, set[int]] = {}  # page objgen → MCIDs to make artifacts
        dropped_annotations: set = set()
        moved: dict[tuple, object] = {}  # (page objgen, MCID) → its new parent element

        def make_artifacts(node) -> None:
            for mcid, page in _mcids(node):
                if page is not None:
                    artifacts.setdefault(page.objgen, set()).add(mcid)

        def annotations_of(node) -> list:
            return [kid.Obj for kid in _kids(node) if isinstance(kid, pikepdf.Dictionary)
                    and kid.get("/Type") == "/OBJR" and kid.get("/Obj") is not None]

        def visit(node) -> bool:
            """Fix ``node`` and its kids; False when it is to leave the tree."""
            role = str(node.S)
            if role == "/Figure" and "/Alt" in node and not str(node.Alt).strip():
                make_artifacts(node)  # alt="": a decorative image
                return False
            if role == "/Link" and any(str((a.get("/A") or {}).get("/URI", "")).startswith(
                    ARTIFACT) for a in annotations_of(node)):
                make_artifacts(node)  # decoration the layout marked
                dropped_annotations.update(a.objgen for a in annotations_of(node))
                return False
            marker = next((str((a.get("/A") or {}).get("/URI", "")) for a in
                           annotations_of(node) if str((a.get("/A") or {}).get(
                               "/URI", "")).startswith(LANG)), None) if role == "/Link" else None
            if marker:  # a passage in another language: a Span with its /Lang
                dropped_annotations.update(a.objgen for a in annotations_of(node))
                node.S = pikepdf.Name.Span
                node.Lang = pikepdf.String(marker[len(LANG):].replace("_", "-"))
                _set_kids(node, [kid for kid in _kids(node) if not (
                    isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR")])
                role = "/Span"
            reachable.add(node.objgen)
            if role == "/Link":
                flatten_link(node)
            if role == "/LI":
                wrap_body(node)
            if role == "/TH":
                scope(node)
            kids = _kids(node)
            kept = [kid for kid in kids if not _is_element(kid) or visit(kid)]
            if len(kept) != len(kids):
                _set_kids(node, kept)
            return True

        def flatten_link(link) -> None:
            """Links inside a link (a contents entry's leader and page number): their
            content becomes artifacts, their annotations merge into the outer one's."""
            inner = [kid for kid in _kids(link) if _is_element(kid) and kid.S == "/Link"]
            if not inner:
                return
            own = annotations_of(link)
            rects = []
            nested = list(inner)
            while nested:
                element = nested.pop()
                make_artifacts(element)
                for annotation in annotations_of(element):
                    rects.append([float(v) for v in annotation.Rect])
                    dropped_annotations.add(annotation.objgen)
                nested += [kid for kid in _kids(element) if _is_element(kid)
                           and kid.S == "/Link"]
            _set_kids(link, [kid for kid in _kids(link)
                             if not (_is_element(kid) and kid.S == "/Link")])
            if own and rects:
                box = [float(v) for v in own[0].Rect]
                for rect in rects:
                    box = [min(box[0], rect[0]), min(box[1], rect[1]),
                           max(box[2], rect[2]), max(box[3], rect[3])]
                own[0].Rect = pikepdf.Array(box)

        def wrap_body(item) -> None:
            """Lbl followed by content that is not in an LBody: put it in one."""
            kids = _kids(item)
            roles = [str(kid.S) if _is_element(kid) else None for kid in kids]
            if "/Lbl" not in roles or "/LBody" in roles:
                return
            rest = [kid for kid, role in zip(kids, roles, strict=True) if role != "/Lbl"]
            if not rest:
                return
            body = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.StructElem, S=pikepdf.Name.LBody, P=item,
                K=pikepdf.Array(rest)))
            if item.get("/Pg") is not None:
                body.Pg = item.Pg
            for kid in rest:
                if _is_element(kid):
                    kid.P = body
                elif isinstance(kid, int) and item.get("/Pg") is not None:
                    moved[(item.Pg.objgen, kid)] = body  # its parent-tree entry follows
            _set_kids(item, [kid for kid, role in zip(kids, roles, strict=True)
                             if role == "/Lbl"] + [body])

        def scope(cell) -> None:
            attributes = cell.get("/A")
            if isinstance(attributes, pikepdf.Dictionary) and "/Scope" in attributes:
                return
            row = cell.get("/P")
            section = row.get("/P") if row is not None else None
            in_head = section is not None and section.get("/S") == "/THead"
            cells = [kid for kid in _kids(row)] if row is not None else []
            only_headers = all(_is_element(k) and k.S == "/TH" for k in cells if _is_element(k))
            cell.A = pikepdf.Dictionary(O=pikepdf.Name.Table, Scope=pikepdf.Name(
                "/Column" if in_head or only_headers else "/Row"))

        kids = _kids(tree)
        kept = [kid for kid in kids if not _is_element(kid) or visit(kid)]
        if len(kept) != len(kids):
            _set_kids(tree, kept)

        # marked content whose element is not reachable (running footers) → artifacts
        nums = entry(tree, "/ParentTree", "/Nums", default=[])
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for page in pdf.pages:
            key = page.obj.get("/StructParents")
            elements = parents.get(int(key)) if key is not None else None
            if elements is None:
                continue
            for mcid, element in enumerate(elements):
                if isinstance(element, pikepdf.Dictionary) and element.objgen not in reachable:
                    artifacts.setdefault(page.obj.objgen, set()).add(mcid)

        for page in pdf.pages:
            key = page.obj.get("/StructParents")
            elements = parents.get(int(key)) if key is not None else None
            for (page_id, mcid), element in moved.items():
                if page_id == page.obj.objgen and elements is not None and mcid < len(elements):
                    elements[mcid] = element
            marked = artifacts.get(page.obj.objgen, set())
            if marked:
                _artifact_content(pdf, page, marked)
                if elements is not None:
                    for mcid in marked:
                        if mcid < len(elements):
                            elements[mcid] = None
            annotations = page.obj.get("/Annots")
            if annotations is not None and dropped_annotations:
                kept = [a for a in annotations if a.objgen not in dropped_annotations]
                if len(kept) != len(annotations):
                    page.obj.Annots = pikepdf.Array(kept)
            for annotation in page.obj.get("/Annots") or []:
                if annotation.get("/Subtype") != "/Link":
                    continue
                target = str(entry(annotation, "/A", "/URI", default="")) or str(
                    annotation.get("/Dest", ""))
                annotation.Contents = pikepdf.String(_describe(target, descriptions))
        for objgen in dropped_annotations:
            annotation = pdf.get_object(objgen)
            parent_key = annotation.get("/StructParent")
            if parent_key is not None and int(parent_key) in parents:
                for index in range(0, len(nums), 2):
                    if int(nums[index]) == int(parent_key):
                        nums[index + 1] = None
        out = io.BytesIO()
        pdf.remove_unreferenced_resources()
        pdf.save(out, compress_streams=compress, deterministic_id=True)
    return out.getvalue()


def _artifact_content(pdf, page, mcids: set[int]) -> None:
    """Turn the marked-content sequences ``mcids`` of ``page`` into artifacts."""
    import pikepdf

    out: list[tuple[list, pikepdf.Operator]] = []
    for instruction in pikepdf.parse_content_stream(page):
        operands, operator = list(instruction.operands), instruction.operator
        if str(operator) == "BDC" and len(operands) == 2 and isinstance(
                operands[1], pikepdf.Dictionary) and operands[1].get("/MCID") is not None \
                and int(operands[1].MCID) in mcids:
            out.append(([pikepdf.Name.Artifact], pikepdf.Operator("BMC")))
            continue
        out.append((operands, operator))
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(out))
