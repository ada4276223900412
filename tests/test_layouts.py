"""Layout lookup, gettext catalogs, template errors and the resource policy in layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, release_text
from pdfread import text

from publisher.inputs.catalogs import extract, read_messages

LAYOUTS = REPO / "layouts"
LANGS = ["en", "fr", "de", "es", "it", "ru"]
SOURCE = "sources/releases/2018/2018-06-20-test.{lang}.md"


@pytest.mark.parametrize("lang", LANGS)
def test_shipped_catalogs_are_complete(lang):
    wanted = {message for _file, _line, message in extract(LAYOUTS)}
    assert wanted, "no layout strings extracted"
    messages = read_messages(LAYOUTS / "locale" / lang / "LC_MESSAGES" / "messages.po")
    assert sorted(wanted - set(messages)) == []
    assert sorted(set(messages) - wanted) == [], "catalog entries no template uses"


def test_no_compiled_catalogs_in_the_repository():
    assert not list(LAYOUTS.rglob("*.mo"))


def _po(entries: dict[str, str]) -> str:
    return "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())


def test_project_catalog_overrides_the_builtin_one(project):
    project.write("layouts/locale/fr/LC_MESSAGES/messages.po",
                  _po({"Press release": "Information presse"}))
    path = project.write(SOURCE.format(lang="fr"), release_text())
    result = project.build(path)
    assert result.problems == []
    content = text(result.outputs[0].path)
    assert "INFORMATION PRESSE" in content
    assert "Page 1 sur 1" in content  # the rest still from the built-in catalog


def test_language_without_catalog_falls_back_to_english_and_says_so(project):
    path = project.write(SOURCE.format(lang="is"),
                         release_text(title="Fréttatilkynning", dateline="Reykjavík"))
    result = project.build(path)
    assert result.errors == []
    [warning] = result.warnings
    assert "no catalog for 'is'" in warning.message
    content = text(result.outputs[0].path)
    assert "Reykjavík, 20. júní 2018" in content  # Babel's date in Icelandic
    assert "PRESS RELEASE" in content and "Page 1 of 1" in content


def test_string_missing_from_a_catalog_is_reported_once(project):
    project.write("layouts/locale/is/LC_MESSAGES/messages.po",
                  _po({"Press release": "Fréttatilkynning",
                       "Page {page} of {pages}": "Síða {page} af {pages}"}))
    for day in ("20", "21"):
        project.write(f"sources/releases/2018/2018-06-{day}-x.is.md",
                      release_text(date=f"2018-06-{day}", contacts="[pascale-bresson]"))
    result = project.build(project.root / "sources/releases/2018/2018-06-20-x.is.md",
                           project.root / "sources/releases/2018/2018-06-21-x.is.md")
    catalog = "layouts/locale/is/LC_MESSAGES/messages.po"
    missing = sorted(w.message.split("'")[3] for w in result.warnings if w.file == catalog)
    assert missing == ["Call %(number)s", "E-mail %(address)s", "Press contacts", "Tel.",
                       "The PDF is attached to this message.", "Unsubscribe"]
    # the contact has no Icelandic role either: said once, at contacts.yaml
    roles = [w for w in result.warnings if w.file != catalog]
    assert [w.file for w in roles] == ["sources/contacts.yaml"]
    assert "no role in 'is'" in roles[0].message
    content = text(result.outputs[0].path)
    assert "FRÉTTATILKYNNING" in content and "PRESS CONTACTS" in content


def test_undefined_variable_names_the_template_line(project):
    template = (LAYOUTS / "release/release.html").read_text(encoding="utf-8")
    template = template.replace("{{ parts.about(release.about) }}",
                                "{{ release.headline }}{{ parts.about(release.about) }}")
    assert "release.headline" in template
    project.write("layouts/release/release.html", template)
    project.write("layouts/release/release.css", "")
    path = project.write(SOURCE.format(lang="fr"), release_text())
    result = project.build(path)
    [problem] = result.errors
    assert problem.file.endswith("layouts/release/release.html")
    assert problem.line == next(i for i, line in enumerate(template.splitlines(), 1)
                                if "release.headline" in line)
    assert "headline" in problem.message


def test_stylesheet_reaching_outside_the_project_is_refused(project):
    project.write("layouts/release/release.html",
                  (LAYOUTS / "release/release.html").read_text(encoding="utf-8"))
    project.write("layouts/release/release.css",
                  'body { background: url("file:///etc/passwd"); }\n'
                  'h1 { background: url("https://example.com/x.png"); }\n')
    path = project.write(SOURCE.format(lang="fr"), release_text())
    before = set(Path(project.root).rglob("*.pdf"))
    result = project.build(path)
    messages = " ".join(p.message for p in result.errors)
    assert "file:///etc/passwd" in messages and "outside the project" in messages
    assert "https://example.com/x.png" in messages and "network resource" in messages
    assert set(Path(project.root).rglob("*.pdf")) == before


def test_css_the_renderer_ignores_is_reported_and_strict_fails(project):
    from click.testing import CliRunner

    from publisher.commands.cli import main

    project.write("layouts/release/release.html",
                  (LAYOUTS / "release/release.html").read_text(encoding="utf-8"))
    project.write("layouts/release/release.css", "h1 { colour: red; }\n")
    path = project.write(SOURCE.format(lang="fr"), release_text())
    result = project.build(path)
    assert result.errors == []
    [warning] = result.warnings
    assert "colour" in warning.message and "1:6" in warning.message
    strict = CliRunner().invoke(main, ["build", "--strict", "--project", str(project.root),
                                       str(path)])
    assert strict.exit_code == 1
