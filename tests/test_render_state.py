"""Render state belongs to a build: nothing one build rendered answers for another's.

Each test builds in this process, after something that could leak (a foreign
font face, another project, a file edited in place), and compares the bytes
with the same project built in a fresh process from nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_STEM

from publisher.pipeline import Session, build


def _outputs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root / "build").as_posix(): p.read_bytes()
            for p in sorted((root / "build").rglob("*"))
            if p.is_file() and ".cache" not in p.parts}


def _fresh(roots: list[Path], tmp_path: Path, *paths: str) -> list[dict[str, bytes]]:
    """Each of ``roots`` copied and built from nothing, each in a fresh process."""
    copies, processes = [], []
    for number, root in enumerate(roots):
        copy = tmp_path / f"fresh-{number}"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("build"))
        targets = [str(copy / p) for p in paths] or None
        code = (f"from publisher.pipeline import build; "
                f"result = build({str(copy)!r}, {targets!r}, jobs=1); "
                f"assert result.ok, result.errors")
        processes.append(subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ)))
        copies.append(copy)
    for process in processes:
        assert process.wait(timeout=300) == 0
    return [_outputs(copy) for copy in copies]


def test_a_foreign_font_face_in_the_process_does_not_change_a_build(only_fr, tmp_path):
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # faces named like the shipped families, drawn from the other family's files
    foreign = FontConfiguration()
    css = CSS(string=f"""
        @font-face {{ font-family: Inter;
                      src: url({(REPO / 'fonts/NotoSerif-Bold.ttf').as_uri()}); }}
        @font-face {{ font-family: "Noto Serif";
                      src: url({(REPO / 'fonts/Inter-Bold.otf').as_uri()}); }}
        @font-face {{ font-family: TestSans;
                      src: url({(REPO / 'fonts/Inter-Medium.otf').as_uri()}); }}
        """, font_config=foreign)
    HTML(string="<p style='font-family: Inter'>Coopération</p>"
                "<p style='font-family: TestSans'>Coopération</p>").write_pdf(
        font_config=foreign, stylesheets=[css])
    [expected] = _fresh([only_fr.root], tmp_path)
    assert build(only_fr.root, jobs=1).ok
    assert _outputs(only_fr.root) == expected


def _text(pdf: Path) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)


def _png(path: Path, colour: tuple[int, int, int]) -> None:
    from PIL import Image

    Image.new("RGB", (400, 300), colour).save(path, format="PNG")


def _renamed_font(source: Path, target: Path, family: str) -> None:
    from fontTools.ttLib import TTFont

    font = TTFont(source)
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (4, 6):
            record.string = family.replace(" ", "")
    font.save(target)


def _set_up(root: Path, what: str) -> tuple[Path, callable]:
    """Make the sample release use a file of kind ``what``; return the edit to make."""
    release = root / "sources/releases/2018" / f"{SAMPLE_STEM}.fr.md"
    if what == "logo":
        logo = root / "sources/images/cnes-mark.svg"
        return release, lambda: logo.write_text(
            logo.read_text(encoding="utf-8").replace("#0b3a6e", "#6e0b3a"), encoding="utf-8")
    if what == "image":
        image = release.parent / "photo.png"
        _png(image, (200, 30, 30))
        release.write_text(release.read_text(encoding="utf-8")
                           + "\n![Une photo de la signature](photo.png)\n", encoding="utf-8")
        return release, lambda: _png(image, (30, 30, 200))
    if what == "contacts":  # what a localised release kept by a watch is made from
        contacts = root / "sources/contacts.yaml"
        return release, lambda: contacts.write_text(contacts.read_text(
            encoding="utf-8").replace('"01 44 76 75 39"', '"01 44 76 75 40"', 1),
            encoding="utf-8")
    if what == "template":
        (root / "layouts/release").mkdir(parents=True)
        for name in ("release.html", "release.css"):
            shutil.copy(REPO / "layouts/release" / name, root / "layouts/release" / name)
        template = root / "layouts/release/release.html"
        return release, lambda: template.write_text(template.read_text(
            encoding="utf-8").replace("<main>", "<main>\n<p>Version révisée</p>", 1),
            encoding="utf-8")
    font = root / "fonts/edited.ttf"
    font.parent.mkdir()
    _renamed_font(REPO / "fonts/NotoSerif-Regular.ttf", font, "Edited Face")
    (root / "layouts/release").mkdir(parents=True)
    for name in ("release.html", "release.css"):
        shutil.copy(REPO / "layouts/release" / name, root / "layouts/release" / name)
    with open(root / "layouts/release/release.css", "a", encoding="utf-8") as sheet:
        sheet.write('\nh1.title { font-family: "Edited Face"; font-weight: 400; }\n')
    return release, lambda: _renamed_font(REPO / "fonts/NotoSerif-Bold.ttf", font,
                                          "Edited Face")


@pytest.mark.parametrize("what", ["logo", "image", "font", "template", "contacts"])
def test_a_file_edited_in_place_changes_the_next_build_in_the_same_process(
        only_fr, tmp_path, what):
    root = only_fr.root
    release, edit = _set_up(root, what)
    session = Session()  # as publisher watch keeps it between builds
    pdf = f"releases/{SAMPLE_STEM}.fr.pdf"
    first = build(root, [release], jobs=1, session=session)
    assert first.ok, first.errors
    before = _outputs(root)[pdf]
    edit()
    second = build(root, [release], jobs=1, session=session)
    assert second.ok and second.rendered == 1
    after = _outputs(root)[pdf]
    assert after != before
    if what == "template":  # compiled again from the edited source, not kept by name
        assert "Version révisée" in _text(root / "build" / pdf)
    if what == "contacts":  # localised again, not kept from the first build
        assert "75 40" in _text(root / "build" / pdf)
    [fresh] = _fresh([root], tmp_path, release.relative_to(root).as_posix())
    assert after == fresh[pdf]
    # the cache holds the new PDF: taken from it, the output is the same file
    (root / "build" / pdf).unlink()
    third = build(root, [release], jobs=1)
    assert third.rendered == 0 and third.reused == 1
    assert (root / "build" / pdf).read_bytes() == fresh[pdf]


def test_a_watch_keeps_a_release_s_reduced_images_after_the_cache_is_emptied(only_fr):
    """A localised release that a session keeps points at the reduced copy of a
    large image in the cache; emptied meanwhile (publisher clean), the next build
    makes the copy again rather than lose the image."""
    from PIL import Image

    from publisher.pipeline import clean

    root = only_fr.root
    release = root / "sources/releases/2018" / f"{SAMPLE_STEM}.fr.md"
    Image.new("RGB", (4000, 600), (30, 90, 160)).save(release.parent / "wide.png")
    release.write_text(release.read_text(encoding="utf-8")
                       + "\n![Une large photo](wide.png)\n", encoding="utf-8")
    session = Session()
    first = build(root, [release], jobs=1, session=session)
    assert first.ok, first.errors
    assert list((root / "build/.cache").glob("objects/*/*.*")), "no reduced copy was made"
    before = _outputs(root)
    clean(root, cache_only=True)
    second = build(root, [release], jobs=1, session=session)
    assert second.ok and second.problems == [], [str(p) for p in second.problems]
    assert second.rendered == 1
    assert _outputs(root) == before


def test_a_kept_release_s_e_mail_links_the_original_of_an_image_another_shares(
        only_fr, tmp_path):
    """Two releases show the same large image; a watch keeps both localised. After
    a layout edit, one of them rebuilt on its own makes the same e-mail as a
    fresh process: the original of its reduced image is known, whichever release
    reduced it first."""
    from PIL import Image

    root = only_fr.root
    folder = root / "sources/releases/2018"
    Image.effect_noise((4000, 600), 80).convert("RGB").save(folder / "wide.png")
    french = folder / f"{SAMPLE_STEM}.fr.md"
    french.write_text(french.read_text(encoding="utf-8") + "\n![Une large photo](wide.png)\n",
                      encoding="utf-8")
    other = folder / "2018-06-16-autre-communique.fr.md"
    other.write_text(french.read_text(encoding="utf-8").replace(
        "date: 2018-06-15", "date: 2018-06-16", 1), encoding="utf-8")
    site = root / "sources/site.yaml"  # the e-mail links the published originals
    site.write_text(site.read_text(encoding="utf-8").replace(
        "email:\n", "email:\n  assets_url: https://cnes.example/press/\n", 1), encoding="utf-8")
    (root / "layouts/release").mkdir(parents=True)
    for name in ("release.html", "release.css"):
        shutil.copy(REPO / "layouts/release" / name, root / "layouts/release" / name)
    session = Session()
    assert build(root, jobs=1, session=session).ok
    with open(root / "layouts/release/release.css", "a", encoding="utf-8") as sheet:
        sheet.write("\nh1 { letter-spacing: 0.01em; }\n")
    later = build(root, [other], jobs=1, session=session)  # the second to be localised
    assert later.ok and later.rendered == 1, later.errors
    eml = "releases/2018-06-16-autre-communique.fr.eml"
    [fresh] = _fresh([root], tmp_path, other.relative_to(root).as_posix())
    assert _outputs(root)[eml] == fresh[eml]
    import email
    from email import policy

    html = email.message_from_bytes(fresh[eml], policy=policy.default).get_body(
        ("html",)).get_content()
    assert "https://cnes.example/press/releases/2018/wide.png" in html


def test_two_projects_in_one_process_build_as_in_fresh_processes(only_fr, tmp_path):
    aurora = tmp_path / "aurora"
    shutil.copytree(REPO / "tests/fixtures/aurora/sources", aurora / "sources")
    shutil.rmtree(aurora / "sources/kits")
    for source in (aurora / "sources/releases/2026").glob("*.md"):
        if not (source.name.startswith("2026-03") and source.name.endswith(".fr.md")):
            source.unlink()
    session = Session()
    for root in (only_fr.root, aurora):
        assert build(root, jobs=1, session=session).ok
    for root in (aurora, only_fr.root):  # and in the other order, without a session
        shutil.rmtree(root / "build")
        assert build(root, jobs=1).ok
    in_process = [_outputs(only_fr.root), _outputs(aurora)]
    assert in_process == _fresh([only_fr.root, aurora], tmp_path)
    assert any(name.startswith("newsletters/") for name in in_process[1])


def test_worker_processes_leave_no_temporary_font_folders(only_fr, tmp_path):
    # WeasyPrint copies @font-face fonts into a temporary folder per font
    # configuration; a worker process ends without garbage collection, so a
    # folder left behind by each worker of each build would fill the disk
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    code = (f"from publisher.pipeline import build; "
            f"result = build({str(only_fr.root)!r}, jobs=2); "
            f"assert result.ok and result.rendered >= 2, result.errors")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300,
                   env={**os.environ, "TMPDIR": str(temporary)})
    assert sorted(p.name for p in temporary.iterdir()) == []
