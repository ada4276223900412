"""Press kits on the Aurora fixture: TOC, appendix, vCards, bookmarks, labels, tags."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
import vobject
import yaml
from conftest import REPO
from pdfread import pdfua_problems, structure_problems, syntax_problems, ua_problems
from pypdf import PdfReader

AURORA = REPO / "tests/fixtures/aurora"
AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
SALON = ["2026-05-05-altair-launch-success", "2026-03-04-aurora-budget-2026",
         "2026-04-09-student-cubesat", "2026-05-20-salon-2026-presence",
         "2026-04-16-toulouse-clean-room"]


@pytest.fixture(scope="session")
def kits(tmp_path_factory):
    from publisher.pipeline import build_kit

    root = tmp_path_factory.mktemp("aurora")
    shutil.copytree(AURORA / "sources", root / "sources")
    results = {slug: build_kit(root, slug, as_of=AS_OF)
               for slug in ("salon-2026", "launches-spring")}
    return root, results


def _pdf(root, name) -> PdfReader:
    return PdfReader(str(root / "build/kits" / name))


def _titles(root, ids, lang):
    titles = []
    for rid in ids:
        path = root / "sources/releases/2026" / f"{rid}.{lang}.md"
        if path.exists():
            front = path.read_text(encoding="utf-8").split("---")[1]
            titles.append(yaml.safe_load(front)["title"])
    return titles


def _squash(text: str) -> str:
    """Text with plain quotes and single spaces (the PDF has the typeset ones)."""
    for typeset, plain in (("\u2019", "'"), ("«", '"'), ("»", '"'), ("“", '"'), ("”", '"'),
                           ("\u202f", " "), ("\u00a0", " ")):
        text = text.replace(typeset, plain)
    return " ".join(text.split()).replace('" ', '"').replace(' "', '"')


def test_kits_build_in_each_language(kits):
    root, results = kits
    salon = results["salon-2026"]
    assert sorted(o.path.name for o in salon.outputs) == [
        f"salon-2026.{lang}.{ext}" for lang in ("en", "fr", "ru") for ext in ("eml", "pdf")]
    assert salon.errors == []


def test_release_missing_in_a_language_is_named_and_left_out(kits):
    root, results = kits
    salon = results["salon-2026"]
    [warning] = salon.warnings
    assert warning.file == "sources/kits/salon-2026.yaml"
    assert "'2026-04-09-student-cubesat' has no 'ru' version" in warning.message
    assert any("salon-2026.ru.pdf: left out" in note and "2026-04-09-student-cubesat" in note
               for note in salon.notes)
    contents = _pdf(root, "salon-2026.ru.pdf").pages[1].extract_text()
    assert "Нет на русском языке" in contents and "nanosatellite" in contents


@pytest.mark.parametrize("lang", ["fr", "en", "ru"])
def test_toc_numbers_are_the_pages_where_the_releases_start(kits, lang):
    root, _ = kits
    pdf = _pdf(root, f"salon-2026.{lang}.pdf")
    pages = [_squash(page.extract_text()) for page in pdf.pages]
    titles = _titles(root, SALON, lang)
    assert len(titles) == (4 if lang == "ru" else 5)
    toc = pages[1]
    for title in titles:
        match = re.search(re.escape(_squash(title)) + r"[ .]*?(\d+)(?: |$)", toc)
        assert match, f"{title!r} not in the contents: {toc}"
        printed = int(match[1])
        starts = [i + 1 for i, text in enumerate(pages) if i > 1 and _squash(title) in text]
        assert starts and starts[0] == printed, (title, printed, starts)


def test_bookmarks_and_page_labels(kits):
    root, _ = kits
    pdf = _pdf(root, "salon-2026.fr.pdf")
    # (each release's own headings are bookmarks under its title)
    outline = [(item.title, pdf.get_destination_page_number(item)) for item in pdf.outline
               if not isinstance(item, list)]
    assert [_squash(title) for title, _ in outline] == [
        _squash(t) for t in _titles(root, SALON, "fr") + ["Contacts presse"]]
    assert pdf.page_labels == [str(n) for n in range(1, len(pdf.pages) + 1)]
    for index, page in enumerate(pdf.pages[1:], start=1):
        assert f"Page {index + 1} sur {len(pdf.pages)}" in page.extract_text()
    # each bookmark points at the page whose printed number the contents gives
    toc = _squash(pdf.pages[1].extract_text())
    for title, page_index in outline[:-1]:
        assert re.search(re.escape(_squash(title)) + rf"[ .]*?{page_index + 1}(?: |$)", toc)


def _contact_names(root):
    text = (root / "sources/contacts.yaml").read_text(encoding="utf-8")
    return dict(re.findall(r"^([a-z-]+):\n  name: (.+)$", text, re.M))


def test_contacts_appendix_has_each_contact_once_grouped_and_sorted(kits):
    root, _ = kits
    pdf = _pdf(root, "salon-2026.fr.pdf")
    start = pdf.get_destination_page_number(pdf.outline[-1])
    appendix = "\n".join(page.extract_text() for page in pdf.pages[start:])
    names = _contact_names(root)
    expected = {"elodie-marchand", "zoe-zimmer", "bastien-leroy", "camille-durand",
                "olga-smirnova"}  # the contacts of the five releases
    for cid, name in names.items():
        assert appendix.count(name) == (1 if cid in expected else 0), name
    folded = appendix.casefold()  # organisation names are set in capitals
    order = [folded.index(x.casefold()) for x in (
        "Aurora\n", "Élodie Marchand", "Zoé Zimmer", "Institut Boréal", "Bastien Leroy",
        "Zénith Lanceurs", "Camille Durand", "Ольга Смирнова")]
    assert order == sorted(order)
    assert "+33 5 61 00 00 01" in appendix
    uris = [a.get_object()["/A"]["/URI"] for page in pdf.pages[start:]
            for a in page.get("/Annots") or []]
    assert "mailto:olga.smirnova@zenit.example" in uris
    assert "tel:+7-495-000-00-01" in uris


def test_each_contact_is_attached_as_a_parseable_vcard(kits):
    root, _ = kits
    attachments = _pdf(root, "salon-2026.ru.pdf").attachments
    assert "fact-sheet.txt" in attachments
    cards = {name: vobject.readOne(data[0].decode("utf-8"))
             for name, data in attachments.items() if name.endswith(".vcf")}
    assert set(cards) == {"elodie-marchand.vcf", "zoe-zimmer.vcf", "camille-durand.vcf",
                          "olga-smirnova.vcf"}  # the ru kit leaves the student release out
    olga = cards["olga-smirnova.vcf"]
    assert olga.fn.value == "Ольга Смирнова"
    assert olga.tel.value == "+7 495 000-00-01"
    assert olga.email.value == "olga.smirnova@zenit.example"
    assert olga.org.value == ["«Зенит»"]
    assert cards["elodie-marchand.vcf"].title.value  # the role, in Russian


def _struct_pages(pdf: PdfReader) -> set[int]:
    pages = {page.indirect_reference.idnum: n for n, page in enumerate(pdf.pages)}
    seen = set()

    def walk(node):
        node = node.get_object()
        if "/Pg" in node:
            seen.add(pages.get(node.raw_get("/Pg").idnum))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object") and hasattr(kid.get_object(), "get"):
                walk(kid)

    walk(pdf.trailer["/Root"]["/StructTreeRoot"])
    return seen


@pytest.mark.parametrize("lang", ["fr", "ru"])
def test_kit_is_tagged_on_every_page(kits, lang):
    root, _ = kits
    pdf = _pdf(root, f"salon-2026.{lang}.pdf")
    assert pdf.trailer["/Root"]["/Lang"] == lang
    assert _struct_pages(pdf) == set(range(len(pdf.pages)))
    assert pdf.metadata.title.startswith({"fr": "Dossier", "ru": "Пресс-кит"}[lang])
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp


@pytest.mark.parametrize("lang", ["fr", "ru"])
def test_joined_kit_has_one_sound_structure_tree(kits, lang):
    """The kit is joined from parts rendered apart: one tree, links between parts work."""
    root, _ = kits
    pdf = _pdf(root, f"salon-2026.{lang}.pdf")
    assert syntax_problems(root / f"build/kits/salon-2026.{lang}.pdf") == []
    assert structure_problems(pdf) == []
    tree = pdf.trailer["/Root"]["/StructTreeRoot"].get_object()
    [document] = tree["/K"] if isinstance(tree["/K"], list) else [tree["/K"]]
    assert document.get_object()["/S"] == "/Document"
    # the contents' links land where the releases and the appendix start
    contents = pdf.pages[1]
    named = pdf.named_destinations
    targets = [pdf.get_destination_page_number(named[str(a.get_object()["/Dest"])])
               for a in contents["/Annots"] if "/Dest" in a.get_object()]
    pages = [_squash(page.extract_text()) for page in pdf.pages]
    starts = [next(i for i, text in enumerate(pages) if i > 1 and _squash(title) in text)
              for title in _titles(root, SALON, lang)]
    appendix = pdf.get_destination_page_number(pdf.outline[-1])
    # (an entry is a link on its title and one on its leader and number)
    assert list(dict.fromkeys(targets)) == [*starts, appendix]


def test_selector_kit_takes_matching_releases_in_date_order(kits):
    root, results = kits
    assert results["launches-spring"].problems == []
    pdf = _pdf(root, "launches-spring.fr.pdf")
    outline = [_squash(item.title) for item in pdf.outline if not isinstance(item, list)]
    ids = ["2026-03-19-zenith-engine-test", "2026-04-02-altair-launch-date",
           "2026-05-05-altair-launch-success", "2026-05-26-launch-pad-works"]
    assert outline == [_squash(t) for t in _titles(root, ids, "fr") + ["Contacts presse"]]


def test_kit_command_line(tmp_path):
    from click.testing import CliRunner

    from publisher.commands.cli import main

    shutil.copytree(AURORA / "sources", tmp_path / "sources")
    result = CliRunner().invoke(main, ["kit", "launches", "--project", str(tmp_path)])
    assert result.exit_code == 2 and "did you mean 'launches-spring'" in result.output
    result = CliRunner().invoke(main, ["kit", "salon-2026", "--lang", "de",
                                       "--project", str(tmp_path)])
    assert result.exit_code == 2 and "languages: fr, en, ru" in result.output


def test_every_kit_passes_pdfua_and_the_structure_checks(kits):
    root, _ = kits
    paths = sorted((root / "build/kits").glob("*.pdf"))
    assert len(paths) >= 4
    for path in paths:  # the budget release's key figures, footnotes, tables, appendix
        assert pdfua_problems(path) == [], path.name
        assert ua_problems(path) == [], path.name


def test_a_release_is_laid_out_once_for_its_own_pdf_and_every_bundle(tmp_path):
    """The kit's and the newsletter's pages of a release are the release's own pages:
    the same content streams, only the footers drawn over them differ."""
    import pikepdf

    from publisher.pipeline import build

    root = tmp_path / "aurora"
    shutil.copytree(AURORA / "sources", root / "sources")
    result = build(root, as_of=AS_OF, langs=["fr"])
    assert result.errors == []
    assert not [name for name in result.parts_rendered if "sources/releases" in name]

    def pages(pdf, first, count):  # each page's own streams, without the footer overlay
        return [[stream.read_bytes() for stream in pdf.pages[first + i].obj.Contents[1:-1]]
                for i in range(count)]

    compared = 0
    for bundle in (root / "build/kits/salon-2026.fr.pdf",
                   root / "build/newsletters/2026-05.fr.pdf"):
        with pikepdf.open(bundle) as whole:
            named = pikepdf.NameTree(whole.Root.Names.Dests)
            index = {page.objgen: n for n, page in enumerate(whole.pages)}
            for path in sorted((root / "build/releases").glob("*.fr.pdf")):
                anchor = "release-" + path.name.removesuffix(".fr.pdf")
                if anchor not in named:
                    continue
                with pikepdf.open(path) as alone:
                    first = index[named[anchor][0].objgen]
                    assert pages(whole, first, len(alone.pages)) == pages(
                        alone, 0, len(alone.pages)), (bundle.name, path.name)
                    compared += 1
    assert compared >= 7  # the kit's releases and the newsletter's


@pytest.mark.parametrize("name", ["salon-2026.fr.pdf", "salon-2026.ru.pdf"])
def test_a_release_s_headings_move_one_level_down_inside_a_kit(kits, name):
    """The kit's title is its one H1; each release's title is an H2 under it."""
    import pikepdf

    root, _ = kits
    with pikepdf.open(root / "build/kits" / name) as pdf:
        headings = []

        def walk(node):
            if isinstance(node, pikepdf.Dictionary) and "/S" in node:
                if re.fullmatch(r"/H\d", str(node.S)):
                    text = node.get("/T") or node.get("/Alt") or ""
                    headings.append((str(node.S), str(text)))
                kids = node.get("/K")
                for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                    walk(kid)

        walk(pdf.Root.StructTreeRoot.K[0])  # the Document element
    levels = [level for level, _ in headings]
    assert levels.count("/H1") == 1 and levels[0] == "/H1"
    releases = 5 if name.endswith(".fr.pdf") else 4  # the ru kit leaves one out
    assert levels.count("/H2") >= releases
    # no level skipped on the way down
    numbers = [int(level[2:]) for level in levels]
    assert all(b <= a + 1 for a, b in zip(numbers, numbers[1:], strict=False))
