"""Prepared assets: large images reduced once to what the page needs, WOFF2 decoded once."""

from __future__ import annotations

from conftest import REPO, release_text
from PIL import Image
from pypdf import PdfReader

from publisher.cache import Cache
from publisher.inputs.assets import max_pixels, prepare_image
from publisher.inputs.resources import Files, ResourcePolicy


def _files(root):
    return Files(ResourcePolicy([root]))


SOURCE = "sources/releases/2018/2018-06-20-photo.fr.md"


def _photo(path, width=3000, height=2000):
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.save(path, format="PNG")
    return path


def _image_widths(pdf_path) -> list[int]:
    widths = []
    for page in PdfReader(str(pdf_path)).pages:
        for xobject in (page["/Resources"].get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Image":
                widths.append(int(xobject["/Width"]))
    return widths


def test_large_photo_is_reduced_for_screen_and_for_print(project):
    _photo(project.root / "sources/releases/2018/photo.png")
    path = project.write(SOURCE, release_text(body="Texte.\n\n![Une grande photo](photo.png)\n"))
    screen = project.build(path)
    assert screen.problems == []
    assert max_pixels(150) in _image_widths(screen.outputs[0].path)
    printed = project.build(path, profile="print")
    assert printed.problems == []  # 300 dpi at the page's width: no warning
    assert max_pixels(300) in _image_widths(printed.outputs[0].path)
    prepared = sorted((project.root / "build/.cache").glob("objects/*/*.jpg"))
    assert len(prepared) == 2  # one per resolution, photos as JPEG


def test_images_are_reduced_once(tmp_path):
    photo = _photo(tmp_path / "photo.png")
    cache = Cache(tmp_path / "cache")
    first = prepare_image(photo, cache, 1000, _files(tmp_path))
    stamp = first.stat().st_mtime_ns
    again = prepare_image(photo, cache, 1000, _files(tmp_path))
    assert again == first and again.stat().st_mtime_ns == stamp
    with Image.open(first) as reduced:
        assert reduced.size == (1000, 667)
    small = _photo(tmp_path / "small.png", 400, 300)
    assert prepare_image(small, cache, 1000, _files(tmp_path)) == small


def test_woff2_font_is_decoded_once_and_embedded(project):
    from fontTools.ttLib import TTFont

    fonts = project.root / "fonts"
    fonts.mkdir()
    font = TTFont(REPO / "fonts/NotoSerif-Regular.ttf")
    for name_id in (1, 4, 16):  # family, full name (the PDF's font name), typographic family
        font["name"].setName("Body Web", name_id, 3, 1, 0x409)
    font.flavor = "woff2"
    font.save(fonts / "BodyWeb.woff2")
    project.write("layouts/release/release.css",
                  (REPO / "layouts/release/release.css").read_text(encoding="utf-8")
                  .replace('--serif: "Noto Serif";', '--serif: "Body Web";'))
    path = project.write(SOURCE, release_text())
    result = project.build(path)
    assert result.problems == []
    decoded = list((project.root / "build/.cache").glob("objects/*/*.ttf"))
    assert len(decoded) == 1
    names = []
    for page in PdfReader(str(result.outputs[0].path)).pages:
        names += [str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()]
    assert any(name.endswith("+Body-Web") for name in names), names
