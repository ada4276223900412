"""Reading PDFs back with pypdf: text, fonts, links, tags, metadata."""

from __future__ import annotations

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
