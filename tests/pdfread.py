"""Reading PDFs back with pypdf: text, fonts, links, tags, metadata."""

from __future__ import annotations

import functools
from pathlib import Path

from pypdf import PdfReader


def reader(path: Path) -> PdfReader:
    return PdfReader(str(path))


def text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in reader(path).pages)


def fonts(path: Path) -> dict[str, bool]:
    """Base font name → whether a font file is embedded."""
    found = {}
    for page in reader(path).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


def links(path: Path) -> list[str]:
    uris = []
    for page in reader(path).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris


def struct_roles(path: Path) -> list[str]:
    root = reader(path).trailer["/Root"]
    tree = root["/StructTreeRoot"].get_object()
    roles = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, dict) or hasattr(node, "get"):
            if "/S" in node:
                roles.append(str(node["/S"]))
            kids = node.get("/K")
            if kids is None:
                return
            if not isinstance(kids, list):
                kids = [kids]
            for kid in kids:
                kid = kid.get_object() if hasattr(kid, "get_object") else kid
                if hasattr(kid, "get"):
                    walk(kid)

    walk(tree)
    return roles


def syntax_problems(pdf: Path | bytes) -> list[str]:
    """What qpdf (through pikepdf) finds wrong in a PDF's syntax and structures."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf) as document:
        return document.check_pdf_syntax()


def structure_problems(pdf: PdfReader) -> list[str]:
    """What is inconsistent in a tagged PDF's structure tree (empty when sound).

    Checks what joining several PDFs into one can break: each element's
    parent link, the parent tree behind every page's marked content and every
    annotation, and the named destinations that links use.
    """
    import re

    problems = []
    root = pdf.trailer["/Root"]
    tree = root["/StructTreeRoot"].get_object()
    nums = tree["/ParentTree"].get_object()["/Nums"]
    parent_tree = {int(key): value for key, value in zip(nums[::2], nums[1::2], strict=True)}
    if int(tree.get("/ParentTreeNextKey", max(parent_tree, default=-1) + 1)) <= max(
            parent_tree, default=-1):
        problems.append("ParentTreeNextKey is not past the last key")
    pages = {page.indirect_reference.idnum: i for i, page in enumerate(pdf.pages)}

    def walk(ref, parent_ref):
        node = ref.get_object()
        if node.get("/Type") == "/OBJR" or "/S" not in node:
            return
        if parent_ref is not None and node.get("/P") != parent_ref:
            problems.append(f"element {node['/S']} does not point at its parent")
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object") and hasattr(kid.get_object(), "get"):
                walk(kid, ref)

    for kid in tree["/K"] if isinstance(tree["/K"], list) else [tree["/K"]]:
        walk(kid, tree.indirect_reference)
    for index, page in enumerate(pdf.pages):
        key = page.get("/StructParents")
        content = page.get_contents().get_data() if page.get_contents() else b""
        mcids = {int(m) for m in re.findall(rb"/MCID (\d+)", content)}
        if key is None:
            if mcids:
                problems.append(f"page {index + 1} has marked content but no StructParents")
            continue
        elements = parent_tree.get(int(key))
        if elements is None:
            problems.append(f"page {index + 1}: StructParents {key} is not in the parent tree")
            continue
        elements = elements.get_object()
        for mcid in sorted(mcids):
            if mcid >= len(elements):
                problems.append(f"page {index + 1}: MCID {mcid} has no element")
                continue
            element = elements[mcid].get_object()
            if pages.get(element["/Pg"].idnum) != index:
                problems.append(f"page {index + 1}: MCID {mcid} belongs to another page")
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if "/StructParent" not in annotation:
                continue
            element = parent_tree.get(int(annotation["/StructParent"]))
            element = element.get_object() if element is not None else None
            if element is None or element.get("/S") != "/Link":
                problems.append(f"page {index + 1}: a link annotation has no Link element")
                continue
            kids = element["/K"] if isinstance(element["/K"], list) else [element["/K"]]
            objects = [k.get_object().get("/Obj") for k in kids
                       if hasattr(k, "get_object") and hasattr(k.get_object(), "get")]
            if annotation.indirect_reference not in objects:
                problems.append(f"page {index + 1}: a Link element misses its annotation")
    names = root.get("/Names", {}).get("/Dests")
    array = names.get_object()["/Names"] if names else []
    dests = dict(zip((str(n) for n in array[::2]), array[1::2], strict=True))
    for index, page in enumerate(pdf.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if "/Dest" in annotation:
                dest = dests.get(str(annotation["/Dest"]))
                if dest is None or dest.get_object()[0].idnum not in pages:
                    problems.append(f"page {index + 1}: link to a missing destination "
                                    f"{annotation['/Dest']}")
            elif "/URI" in (annotation.get("/A") or {}) and str(
                    annotation["/A"]["/URI"]).startswith("x-part:"):
                problems.append(f"page {index + 1}: a link between parts was not resolved")
    return problems


RGB_OPERATORS = {"rg", "RG"}


def press_problems(path: Path) -> list[str]:
    """What a print preflight rejects in a PDF/X-4 edition: no output intent with a
    CMYK output profile, or any DeviceRGB colour (operator, colour space, image,
    shading, transparency group) anywhere."""
    import pikepdf

    problems = []
    with pikepdf.open(path) as pdf:
        intents = pdf.Root.get("/OutputIntents") or []
        if len(intents) != 1 or intents[0].get("/S") != "/GTS_PDFX":
            problems.append("no PDF/X output intent")
        else:
            profile = intents[0].get("/DestOutputProfile")
            header = profile.read_bytes()[:20] if profile is not None else b""
            if header[12:16] != b"prtr" or header[16:20] != b"CMYK":
                problems.append("the output intent's profile is not a CMYK output profile")
            if not str(intents[0].get("/OutputConditionIdentifier", "")):
                problems.append("the output intent names no condition")
        if pdf.docinfo.get("/Trapped") not in ("/True", "/False"):
            problems.append("/Trapped is not set")
        seen = set()

        def rgb(value) -> bool:
            return value == "/DeviceRGB" or (isinstance(value, pikepdf.Array) and len(value)
                                             and value[0] == "/DeviceRGB")

        def visit(owner, resources, where):
            for operands, operator in pikepdf.parse_content_stream(owner):
                name = str(operator)
                if name in RGB_OPERATORS or (name in ("cs", "CS") and operands
                                             and operands[0] == "/DeviceRGB"):
                    problems.append(f"{where}: {name} (DeviceRGB)")
            for kind in ("/XObject", "/Pattern", "/Shading", "/ColorSpace"):
                for key, item in ((resources or {}).get(kind) or {}).items():
                    if kind == "/ColorSpace":
                        if rgb(item):
                            problems.append(f"{where}: colour space {key} is DeviceRGB")
                        continue
                    if item.objgen in seen:
                        continue
                    seen.add(item.objgen)
                    for field in ("/ColorSpace",):
                        if rgb(item.get(field)) or rgb((item.get("/Shading") or {}).get(field)):
                            problems.append(f"{where}: {key} is DeviceRGB")
                    if rgb((item.get("/Group") or {}).get("/CS")):
                        problems.append(f"{where}: {key}'s group is DeviceRGB")
                    if item.get("/Subtype") == "/Form" or item.get("/PatternType") == 1:
                        visit(item, item.get("/Resources"), f"{where} {key}")

        for number, page in enumerate(pdf.pages, start=1):
            if rgb((page.obj.get("/Group") or {}).get("/CS")):
                problems.append(f"page {number}: its group is DeviceRGB")
            visit(page, page.obj.get("/Resources"), f"page {number}")
    return problems


def ua_problems(path: Path) -> list[str]:
    """PDF/UA-1 rules a machine can check, read with pikepdf: every marked-content
    sequence reachable from the structure root or an artifact, no text outside
    marked content, one described Link element per link annotation and no Link
    inside a Link, Lbl with LBody, TH with /Scope, headings without gaps,
    figures with alt text, the title shown in the window."""
    import pikepdf

    problems: list[str] = []
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        if "/StructTreeRoot" not in root:
            return ["no structure tree"]
        if not bool((root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle", False)):
            problems.append("the title is not shown in the window (DisplayDocTitle)")
        if not bool((root.get("/MarkInfo") or {}).get("/Marked", False)):
            problems.append("no /MarkInfo /Marked true")
        reachable: set = set()
        headings: list[int] = []

        def walk(node, inside_link: bool):
            if not isinstance(node, pikepdf.Dictionary) or "/S" not in node:
                return
            reachable.add(node.objgen)
            role = str(node.S)
            if role == "/Link" and inside_link:
                problems.append("a Link element inside a Link element")
            if len(role) == 3 and role.startswith("/H") and role[2].isdigit():
                headings.append(int(role[2]))
            if role == "/TH" and "/Scope" not in (node.get("/A") or {}):
                problems.append("a TH without /Scope")
            if role == "/Figure" and not str(node.get("/Alt", "")).strip():
                problems.append("a Figure without alt text")
            kids = node.get("/K")
            kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
            roles = [str(k.S) for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k]
            if role == "/LI" and "/Lbl" in roles and "/LBody" not in roles:
                problems.append("a list item with Lbl and no LBody")
            for kid in kids:
                walk(kid, inside_link or role == "/Link")

        tree = root.StructTreeRoot
        for kid in (tree.K if isinstance(tree.K, pikepdf.Array) else [tree.K]):
            walk(kid, False)
        for before, after in zip(headings, headings[1:], strict=False):
            if after > before + 1:
                problems.append(f"heading H{after} follows H{before}")
                break
        nums = tree.ParentTree.get("/Nums") or []
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for number, page in enumerate(pdf.pages, start=1):
            key = page.obj.get("/StructParents")
            elements = parents.get(int(key)) if key is not None else None
            depth_tags: list[str] = []
            outside = False
            for operands, operator in pikepdf.parse_content_stream(page):
                name = str(operator)
                if name in ("BDC", "BMC"):
                    tag = str(operands[0])
                    depth_tags.append(tag)
                    if name == "BDC" and tag != "/Artifact":
                        props = operands[1] if len(operands) > 1 else None
                        mcid = props.get("/MCID") if isinstance(props, pikepdf.Dictionary) \
                            else None
                        if mcid is None:
                            continue
                        element = elements[int(mcid)] if elements is not None and int(
                            mcid) < len(elements) else None
                        if element is None or element.objgen not in reachable:
                            problems.append(f"page {number}: marked content {tag} MCID {mcid} "
                                            "is neither reachable from the structure root "
                                            "nor an artifact")
                elif name == "EMC" and depth_tags:
                    depth_tags.pop()
                elif name in ("Tj", "TJ", "'", '"') and not depth_tags and not outside:
                    outside = True
                    problems.append(f"page {number}: text outside marked content")
            for annotation in page.obj.get("/Annots") or []:
                if annotation.get("/Subtype") != "/Link":
                    continue
                described = str(annotation.get("/Contents", ""))
                target = str((annotation.get("/A") or {}).get("/URI", "")) or str(
                    annotation.get("/Dest", ""))
                if not described or described == target or described.startswith(
                        ("tel:", "mailto:", "#")):
                    problems.append(f"page {number}: a link to {target[:40]} is not described "
                                    f"for a person ({described[:40]!r})")
                parent = parents.get(int(annotation.get("/StructParent", -1)))
                if parent is None or parent.get("/S") != "/Link":
                    problems.append(f"page {number}: a link annotation has no Link element")
    return list(dict.fromkeys(problems))


def pdfua_problems(path: Path) -> list[str]:
    """The independent checker pdfua's findings (see publisher.gate)."""
    from publisher.gate import pdfua_findings

    return pdfua_findings(Path(path).read_bytes())


def marked_text(path: Path) -> tuple[str, str]:
    """(text inside artifacts, text in tagged content) of a PDF, read with pypdf."""
    artifact, tagged = [], []
    for page in reader(path).pages:
        stack: list[bool] = []

        def before(operator, operands, cm, tm, stack=stack):
            if operator in (b"BDC", b"BMC"):
                stack.append(bool(operands) and operands[0] == "/Artifact"
                             or bool(stack and stack[-1]))
            elif operator == b"EMC" and stack:
                stack.pop()

        def visit(text_, cm, tm, font, size, stack=stack):
            (artifact if stack and stack[-1] else tagged).append(text_)

        page.extract_text(visitor_operand_before=before, visitor_text=visit)
    return "".join(artifact), "".join(tagged)


def structure_elements(pdf) -> list:
    """Every structure element of an open pikepdf document, in reading order."""
    import pikepdf

    found = []

    def walk(node):
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            found.append(node)
            walk(node.get("/K"))

    walk(pdf.Root.StructTreeRoot.K)
    return found


def lang_spans(path: Path) -> list[tuple[str, str]]:
    """(role, /Lang) of every structure element that carries its own language."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        return [(str(node.S), str(node.Lang)) for node in structure_elements(pdf)
                if "/Lang" in node]


def parent_tree_problems(path: Path) -> list[str]:
    """Marked content whose parent-tree entry is not the element that holds it."""
    import pikepdf

    problems = []
    with pikepdf.open(path) as pdf:
        tree = pdf.Root.StructTreeRoot
        nums = tree.ParentTree.get("/Nums") or []
        parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        pages = {page.obj.objgen: page for page in pdf.pages}

        def walk(node):
            if isinstance(node, pikepdf.Array):
                for kid in node:
                    walk(kid)
                return
            if not (isinstance(node, pikepdf.Dictionary) and "/S" in node):
                return
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, int) and node.get("/Pg") is not None:
                    page = pages.get(node.Pg.objgen)
                    key = page.obj.get("/StructParents") if page is not None else None
                    entries = parents.get(int(key)) if key is not None else None
                    held = entries[kid] if entries is not None and kid < len(entries) else None
                    if held is None or held.objgen != node.objgen:
                        problems.append(f"MCID {kid} of {node.S} is filed under another "
                                        "element in the parent tree")
                else:
                    walk(kid)

        walk(tree.K)
    return problems


@functools.lru_cache(maxsize=1)
def shipped_families() -> tuple[str, ...]:
    """The families of the fonts in the toolkit's fonts/, as PDF font names spell them."""
    from fontTools.ttLib import TTFont

    families = set()
    for path in (Path(__file__).resolve().parent.parent / "fonts").iterdir():
        if path.suffix in (".ttf", ".otf", ".woff2"):
            with TTFont(path, lazy=True) as font:
                names = font["name"]
                family = names.getDebugName(16) or names.getDebugName(1)
            families.add(str(family).replace(" ", "-"))
    return tuple(sorted(families, key=len, reverse=True))


def foreign_fonts(path: Path) -> list[str]:
    """Fonts of a PDF that are not the shipped ones (a system font the renderer fell
    back to for a character the shipped faces lack: where boxes and foreign glyph
    forms come from)."""
    families = shipped_families()
    found = []
    for name in fonts(path):
        family = name.lstrip("/").partition("+")[2]
        if not any(family == f or family.startswith(f + "-") for f in families):
            found.append(name)
    return found


def notdef_glyphs(path: Path) -> list[str]:
    """The characters a PDF draws as boxes: every glyph its text operators show
    that is the embedded font's .notdef (glyph 0, or a code past the font's last
    glyph, which is what a renderer writes for a character no face covers), as
    "page N: U+XXXX" (from the font's ToUnicode map)."""
    import io
    import re

    import pikepdf
    from fontTools.ttLib import TTFont

    fonts_seen: dict = {}

    def glyphs_of(font) -> tuple[range | None, dict[int, str]]:
        key = font.objgen
        if key not in fonts_seen:
            valid = None
            if font.get("/Subtype") == "/Type0":
                descriptor = font.DescendantFonts[0].FontDescriptor
                program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                if program is not None:
                    with TTFont(io.BytesIO(program.read_bytes()), lazy=True) as embedded:
                        order = embedded.getGlyphOrder()
                    # the codes are glyph ids (Identity), also in CID-keyed CFF
                    valid = range(1, len(order))
            unicode: dict[int, str] = {}
            if "/ToUnicode" in font:
                cmap = font.ToUnicode.read_bytes().decode("latin-1")
                for code, value in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", cmap):
                    unicode[int(code, 16)] = "U+" + value.upper()
            fonts_seen[key] = (valid, unicode)
        return fonts_seen[key]

    found: list[str] = []

    def walk(owner, resources, number: int, depth: int = 0) -> None:
        font_resources = resources.get("/Font") or {}
        font = None
        for operands, operator in pikepdf.parse_content_stream(owner):
            name = str(operator)
            if name == "Tf":
                font = font_resources.get(str(operands[0]))
            elif name in ("Tj", "TJ", "'", '"') and font is not None:
                valid, unicode = glyphs_of(font)
                if valid is None:
                    continue
                strings = operands[0] if name == "TJ" else operands[-1:]
                for item in strings:
                    if isinstance(item, pikepdf.String):
                        data = bytes(item)
                        for i in range(0, len(data) - 1, 2):
                            cid = int.from_bytes(data[i:i + 2], "big")
                            if cid not in valid:
                                found.append(f"page {number}: {unicode.get(cid, f'CID {cid}')}")
            elif name == "Do" and depth < 8:
                xobject = (resources.get("/XObject") or {}).get(str(operands[0]))
                if xobject is not None and xobject.get("/Subtype") == "/Form":
                    walk(xobject, xobject.get("/Resources") or resources, number, depth + 1)

    with pikepdf.open(path) as document:
        for number, page in enumerate(document.pages, start=1):
            walk(page, page.Resources, number)
    return found
