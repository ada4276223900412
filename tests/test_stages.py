"""Each stage on its own, with small inputs: load a source, localise it, compose
it, render it; and the HTML that goes to WeasyPrint for the sample release,
compared with a committed copy (tests/golden/).

A layout or a template change that alters the composed HTML fails
:func:`test_the_composed_release_is_the_golden_one` on purpose: look at the
difference, then write the new copy with ``UPDATE_GOLDEN=1 pytest
tests/test_stages.py``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import shutil

from conftest import REPO, SAMPLE_STEM

GOLDEN = REPO / "tests/golden"
AS_OF = dt.datetime(2018, 6, 20, tzinfo=dt.timezone.utc)


def _build(root):
    from publisher.load import load
    from publisher.pipeline import Build, BuildOptions

    return Build(load(root), BuildOptions(as_of=AS_OF, use_cache=False,
                                          build_dir=root / "scratch-build")).workspace


def _composed(made, lang: str):
    from publisher.actions import release_spec
    from publisher.compose import Document, compose

    index = next(i for i, r in enumerate(made.project.releases)
                 if r.stem == f"{SAMPLE_STEM}.{lang}")
    localised = made.localise(index)
    spec = release_spec(made, localised, made.profile())
    return localised, compose(Document(f"{spec.layout}/{spec.layout}.html", spec.lang,
                                       spec.context), made.layouts)


def test_load_reads_a_source_into_typed_fields(tmp_path):
    from publisher.inputs.resources import ResourcePolicy
    from publisher.load import load_release

    path = tmp_path / "2018-06-20-essai.fr.md"
    path.write_text("---\ntitle: Essai\ndate: 2018-06-20\nembargo: 2018-06-20 10:00 "
                    "Europe/Paris\ntags: [a, b]\n---\n\nTexte.\n", encoding="utf-8")
    release = load_release(path, tmp_path, ResourcePolicy([tmp_path]))
    assert release.problems == []
    assert (release.id, release.stem, release.lang) == ("2018-06-20-essai",
                                                       "2018-06-20-essai.fr", "fr")
    assert release.meta["date"] == dt.date(2018, 6, 20)
    assert release.meta["embargo"].isoformat() == "2018-06-20T10:00:00+02:00"
    assert release.meta["tags"] == ["a", "b"] and release.body_line == 7


def test_localise_gives_the_language_s_dateline_typography_and_contacts(project):
    made = _build(project.root)
    localised, _composed_html = _composed(made, "fr")
    assert localised.lang == "fr"
    assert (localised.place, localised.date_long) == ("Paris", "15 juin 2018")
    assert "\u202f!" in localised.body_html or "\u202f;" in localised.body_html \
        or "«\u202f" in localised.body_html  # French spacing, narrow no-break spaces
    assert [c.name for c in localised.contacts] and all(
        c.phone.startswith("+33") for c in localised.contacts if c.phone)


def test_compose_gives_html_that_names_project_files_by_their_virtual_address(project):
    made = _build(project.root)
    _localised, composed = _composed(made, "en")
    assert composed.problems == [] and composed.lang == "en"
    virtual = made.policy.virtual(composed.html)
    assert '<html lang="en"' in virtual
    assert str(project.root) not in virtual and "publisher://" in virtual


def test_render_makes_a_tagged_pdf_from_composed_html(project):
    from pypdf import PdfReader

    from publisher.render import RenderJob, render

    made = _build(project.root)
    _localised, composed = _composed(made, "ru")
    rendered = render(composed, RenderJob("test/ru", 1529020800, "test.ru.md",
                                          made.profile()), made.render_state())
    assert rendered.pages >= 1 and rendered.pdf.startswith(b"%PDF")
    reader = PdfReader(__import__("io").BytesIO(rendered.pdf))
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert "Роскосмос" in reader.pages[0].extract_text()


def test_the_composed_release_is_the_golden_one(tmp_path):
    root = tmp_path / "p"  # the same path on every machine does not matter: it is virtual
    shutil.copytree(REPO / "sources", root / "sources")
    made = _build(root)
    for lang in ("fr", "en", "ru"):
        _localised, composed = _composed(made, lang)
        html = made.policy.virtual(composed.html)
        golden = GOLDEN / f"{SAMPLE_STEM}.{lang}.html"
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(html, encoding="utf-8")
        expected = golden.read_text(encoding="utf-8")
        if html != expected:
            diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                                html.splitlines(keepends=True),
                                                str(golden), "composed", n=1))
            raise AssertionError(f"the composed {lang} release changed (UPDATE_GOLDEN=1 "
                                 f"writes it again, once you have looked):\n{diff[:4000]}")
