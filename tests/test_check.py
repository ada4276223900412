"""publisher check: one project broken on purpose per failure class."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from conftest import REPO, SAMPLE_STEM

from publisher.commands.cli import main
from publisher.gate import check, github_annotations, junit_xml

LAYOUTS = REPO / "layouts"


def _findings(report, kind):
    return [f.problem for f in report.findings if f.check == kind]


def _override_layout(project, css: str = "", html=None):
    template = (LAYOUTS / "release/release.html").read_text(encoding="utf-8")
    project.write("layouts/release/release.html", html(template) if html else template)
    project.write("layouts/release/release.css",
                  (LAYOUTS / "release/release.css").read_text(encoding="utf-8") + css)


def test_sample_project_checks_clean(project):
    report = check(project.root)
    assert [str(f.problem) for f in report.findings] == []
    checked = {item for _kind, item in report.checked}
    for lang in ("de", "en", "es", "fr", "it", "ru"):  # every language with a catalog
        assert f"(stress release, {lang})" in checked
        assert f"(stress kit, {lang}) [{lang}]" in checked


def test_schema_problems_are_all_collected_with_line_and_column(checked_fr):
    source = checked_fr.release("fr")
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("dateline: Paris", "datelne: Paris")
                      .replace("date: 2018-06-15", "date: 2018-06-31"), encoding="utf-8")
    report = check(checked_fr.root, langs=["fr"])
    problems = sorted((p for p in _findings(report, "sources") if p.file == checked_fr.release(
        "fr").relative_to(checked_fr.root).as_posix() and p.severity == "error"),
        key=lambda p: p.line)
    assert [(p.line, p.col) for p in problems] == [(4, 1), (5, 1)]
    assert "not an ISO 8601 date" in problems[0].message
    assert "unknown front matter key 'datelne'; did you mean 'dateline'?" == problems[1].message
    assert not report.ok


def test_template_error_names_the_template_and_line(checked_fr):
    _override_layout(checked_fr, html=lambda t: t.replace(
        "{{ parts.release_contacts(release) }}",
        "{% if release.contact_list %}{% endif %}{{ parts.release_contacts(release) }}"))
    report = check(checked_fr.root, langs=["fr"])
    problems = _findings(report, "layouts")
    assert problems and all(p.file == "layouts/release/release.html" for p in problems)
    template = (checked_fr.root / "layouts/release/release.html").read_text(encoding="utf-8")
    assert problems[0].line == next(n for n, line in enumerate(template.splitlines(), 1)
                                    if "contact_list" in line)
    assert "contact_list" in problems[0].message


def test_css_the_renderer_ignores_names_the_stylesheet_line_and_column(checked_fr):
    _override_layout(checked_fr, css="h1 { colour: red; }\n")
    report = check(checked_fr.root, langs=["fr"])
    line = len((LAYOUTS / "release/release.css").read_text(encoding="utf-8").splitlines()) + 1
    problems = {(p.file, p.line, p.col) for p in _findings(report, "layouts")}
    assert problems == {("layouts/release/release.css", line, 6)}
    # the gate fails on it (a build only warns)
    assert not report.ok and all(p.severity == "error" for p in _findings(report, "layouts"))


def test_one_mistake_in_a_shared_partial_is_one_error(checked_fr):
    partial = (LAYOUTS / "partials/release.html").read_text(encoding="utf-8")
    checked_fr.write("layouts/partials/release.html",
                     partial.replace("{{", "{{ no_such_variable }}{{", 1))
    report = check(checked_fr.root, langs=["fr"])
    assert len(report.errors) == 1, [str(f.problem) for f in report.findings]
    [finding] = report.errors
    assert finding.problem.file == "layouts/partials/release.html"
    assert "no_such_variable" in finding.problem.message
    assert finding.count > 1  # the release, the kit's part, the newsletter's, the stress ones


def test_an_ignored_property_in_a_kit_stylesheet_fails_the_gate_once(checked_fr):
    kit_css = (LAYOUTS / "kit/kit.css").read_text(encoding="utf-8")
    checked_fr.write("layouts/kit/kit.css", kit_css + "\n.cover { colour: red; }\n")
    report = check(checked_fr.root, langs=["fr"])
    errors = [f for f in report.errors if f.problem.file == "layouts/kit/kit.css"]
    assert len(errors) == 1 and "colour" in errors[0].problem.message
    assert errors[0].problem.line == len(kit_css.splitlines()) + 2


def test_overflow_is_named_by_page_and_element(checked_fr):
    _override_layout(checked_fr, css=".title { white-space: nowrap; }\n")
    report = check(checked_fr.root, langs=["fr"])
    messages = [p.message for p in _findings(report, "overflow")]
    assert any(m.startswith("overflow on page 1: <h1 class='title'> 'Coopération spatiale")
               and "runs past the page's content area by" in m for m in messages), messages
    assert any(p.file == "(stress release, fr)" for p in _findings(report, "overflow"))
    assert not report.ok


def test_catalog_missing_and_unused_strings(checked_fr):
    po = (LAYOUTS / "locale/fr/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    po = po.replace('msgstr "Contacts presse"', 'msgstr ""')
    po += '\nmsgid "Old label"\nmsgstr "Ancien libellé"\n'
    checked_fr.write("layouts/locale/fr/LC_MESSAGES/messages.po", po)
    report = check(checked_fr.root, langs=["fr"])
    lines = po.splitlines()
    problems = {p.message: p for p in _findings(report, "catalogs")
                if p.file == "layouts/locale/fr/LC_MESSAGES/messages.po"}
    missing = next(p for m, p in problems.items() if m.startswith("catalog: 'Press contacts'"))
    assert "has no fr translation" in missing.message
    assert lines[missing.line - 1] == 'msgid "Press contacts"'
    unused = problems["catalog: 'Old label' is used by no template; remove it "
                      "(publisher catalogs does)"]
    assert lines[unused.line - 1] == 'msgid "Old label"'


def test_catalog_string_no_font_covers(checked_fr):
    po = (LAYOUTS / "locale/fr/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    checked_fr.write("layouts/locale/fr/LC_MESSAGES/messages.po",
                  po.replace('msgstr "Chiffres clés"', 'msgstr "मुख्य आंकड़े"'))
    report = check(checked_fr.root, langs=["fr"])
    assert any("U+092E" in p.message and p.file.endswith("fr/LC_MESSAGES/messages.po")
               for p in _findings(report, "catalogs"))


def test_missing_glyph_in_a_source(checked_fr):
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8") + "\nAvec ትግርኛ.\n", encoding="utf-8")
    report = check(checked_fr.root, langs=["fr"])
    [problem] = _findings(report, "glyphs")
    assert problem.file == f"sources/releases/2018/{SAMPLE_STEM}.fr.md"
    assert problem.line == len(source.read_text(encoding="utf-8").splitlines())
    assert "U+1275" in problem.message and "U+130D" in problem.message  # Ethiopic


def test_page_limit(checked_fr):
    site = checked_fr.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "page_limit: 1\n", encoding="utf-8")
    report = check(checked_fr.root, langs=["fr"])
    problems = [p for p in report.findings if p.problem.message.startswith("page limit")]
    assert {f.problem.file for f in problems} >= {f"sources/releases/2018/{SAMPLE_STEM}.fr.md"}
    assert "2 pages, more than the 1" in problems[0].problem.message


def test_lost_accessibility(checked_fr):
    def strip(template: str) -> str:
        return (template.replace('<html lang="{{ html_lang }}" dir="{{ direction }}">', "<html>")
                .replace('{% include "partials/head.html" %}',
                         '<meta charset="utf-8"><style>{{ font_faces | safe }}</style>')
                .replace('alt="{{ site.name }}"', ""))

    checked_fr.write("layouts/partials/release.html",
                  (LAYOUTS / "partials/release.html").read_text(encoding="utf-8")
                  .replace('alt="{{ site.name }}"', ""))
    _override_layout(checked_fr, html=strip)
    report = check(checked_fr.root, langs=["fr"])
    messages = {f.problem.message for f in report.findings
                if f.problem.file == f"sources/releases/2018/{SAMPLE_STEM}.fr.md"}
    assert "accessibility: the PDF has no /Lang; give <html> a lang attribute" in messages
    assert "accessibility: the PDF has no title; give the layout a <title>" in messages
    assert ("accessibility: an image has no alternative text; give every <img> an alt"
            in messages)


def test_stale_translation(checked_fr):
    result = CliRunner().invoke(main, ["new", "release", "--translate",
                                       str(checked_fr.release("fr")), "--lang", "en",
                                       "--project", str(checked_fr.root)])
    assert result.exit_code == 0, result.output
    # the stub is not a translation until its body changes
    [untranslated] = _findings(check(checked_fr.root, langs=["fr"]), "translations")
    assert untranslated.message.startswith(f"not translated yet: the body is still {SAMPLE_STEM}")
    english = checked_fr.release("en")
    stub = english.read_text(encoding="utf-8")
    front = stub[:stub.index("---", 3) + 3]
    translated = (REPO / "sources/releases/2018" / f"{SAMPLE_STEM}.en.md").read_text(
        encoding="utf-8")
    english.write_text(front + translated[translated.index("---", 3) + 3:], encoding="utf-8")
    assert check(checked_fr.root, langs=["fr"]).findings == []
    # a translation begun but still mostly in French is not ready either
    english.write_text(stub.replace("Jeudi 15 juin", "On Thursday 15 June"), encoding="utf-8")
    [half] = _findings(check(checked_fr.root, langs=["fr"]), "translations")
    assert "the body reads as French (fr), not English as the file says" in half.message
    english.write_text(front + translated[translated.index("---", 3) + 3:], encoding="utf-8")
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8") + "\nUn ajout.\n", encoding="utf-8")
    [problem] = _findings(check(checked_fr.root, langs=["fr"]), "translations")
    assert problem.file == f"sources/releases/2018/{SAMPLE_STEM}.en.md"
    assert problem.line == 8
    assert problem.message.startswith(f"stale translation: {SAMPLE_STEM}.fr.md changed")


def test_public_fails_under_embargo(checked_fr):
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace(
        "dateline: Paris", "dateline: Paris\nembargo: 2018-06-15T10:00:00+02:00"),
        encoding="utf-8")
    before = dt.datetime(2018, 6, 15, 7, 0, tzinfo=dt.timezone.utc)
    assert check(checked_fr.root, as_of=before, langs=["fr"]).ok  # without --public
    [problem] = _findings(check(checked_fr.root, as_of=before, public=True, langs=["fr"]),
                          "embargo")
    assert problem.line == 6
    assert "under embargo until 2018-06-15T10:00:00+02:00" in problem.message
    after = dt.datetime(2018, 6, 15, 8, 0, tzinfo=dt.timezone.utc)
    assert check(checked_fr.root, as_of=after, public=True, langs=["fr"]).ok


def test_visual_baseline(checked_fr, tmp_path):
    baseline = tmp_path / "baseline"
    check(checked_fr.root, langs=["fr"], baseline=baseline, update_baseline=True)
    pictures = sorted(p.name for p in baseline.iterdir())
    assert f"releases--{SAMPLE_STEM}.fr-p1.png" in pictures
    assert "kits--cnes-roscosmos-2018.fr-p1.png" in pictures
    assert check(checked_fr.root, langs=["fr"], baseline=baseline).ok
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace(
        "Coopération spatiale entre", "Nouvelle coopération spatiale entre"), encoding="utf-8")
    report = check(checked_fr.root, langs=["fr"], baseline=baseline)
    changed = [p for p in _findings(report, "visual")
               if p.file.endswith(f"releases--{SAMPLE_STEM}.fr-p1.png")]
    assert changed and "changed" in changed[0].message
    assert report.diff_images and all(p.exists() for p in report.diff_images)


@pytest.fixture
def broken_report(checked_fr):
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace("tags:", "tagz:"),
                      encoding="utf-8")
    return check(checked_fr.root, langs=["fr"])


def test_junit_report_has_the_required_elements(broken_report):
    root = ET.fromstring(junit_xml(broken_report))
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    for attribute in ("name", "tests", "failures", "errors", "time"):
        assert attribute in suite.attrib
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) > 1
    failed = {c.get("name"): c for c in cases if c.find("failure") is not None}
    assert int(suite.get("failures")) == len(failed)
    failure = failed[f"sources/releases/2018/{SAMPLE_STEM}.fr.md"].find("failure")
    assert failure.get("message").startswith("unknown front matter key 'tagz'")
    assert failure.get("type") == "sources"
    assert all(c.get("classname") and c.get("name") for c in cases)


def test_github_annotations(broken_report, checked_fr):
    lines = github_annotations(broken_report, checked_fr.root)
    assert len(lines) == len(broken_report.findings) + 1
    line = next(x for x in lines if "tagz" in x)
    assert line.startswith(f"::error file=sources/releases/2018/{SAMPLE_STEM}.fr.md,"
                           "line=7,col=1,title=publisher check S001%3A sources::unknown front "
                           "matter "
                           "key 'tagz'")
    # a summary even when there is nothing else to say
    assert lines[-1].startswith("::notice title=publisher check::checked ")
    assert "1 error," in lines[-1]


def test_command_line_exit_codes_and_summary(checked_fr, tmp_path):
    clean = CliRunner().invoke(main, ["check", "--project", str(checked_fr.root), "--lang", "fr",
                                      "--junit", str(tmp_path / "report.xml")])
    assert clean.exit_code == 0, clean.output
    assert "0 errors, 0 warnings" in clean.output and " s (" in clean.output
    # not a terminal: what it does first, then one line per document checked
    assert clean.output.startswith("checking the sources, then every layout")
    assert f"\n  checked sources/releases/2018/{SAMPLE_STEM}.fr.md\n" in clean.output
    assert "\n  checked (stress kit, fr) [fr]\n" in clean.output
    assert ET.parse(tmp_path / "report.xml").getroot().tag == "testsuites"
    usage = CliRunner().invoke(main, ["check", "--update-baseline"])
    assert usage.exit_code == 2
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace("tags:", "tagz:"),
                      encoding="utf-8")
    failed = CliRunner().invoke(main, ["check", "--project", str(checked_fr.root), "--lang", "fr"])
    assert failed.exit_code == 1
    assert f"sources/releases/2018/{SAMPLE_STEM}.fr.md\n" in failed.output
    assert "unknown front matter key 'tagz'; did you mean 'tags'?" in failed.output
    assert ": 1 error, " in failed.output


def test_strict_check_fails_on_a_warning(checked_fr):
    contacts = checked_fr.read("sources/contacts.yaml")
    checked_fr.write("sources/contacts.yaml",
                     contacts.replace("    fr: Attaché de presse\n", ""))
    lenient = CliRunner().invoke(main, ["check", "--project", str(checked_fr.root),
                                        "--lang", "fr"])
    assert lenient.exit_code == 0, lenient.output
    assert "contact 'raphael-sart' has no role in 'fr'" in lenient.output
    assert ": 0 errors, 1 warning" in lenient.output
    strict = CliRunner().invoke(main, ["check", "--project", str(checked_fr.root),
                                       "--lang", "fr", "--strict"])
    assert strict.exit_code == 1
    assert ": 0 errors, 1 warning (--strict: warnings fail)" in strict.output


def test_text_not_ready_to_send_fails_the_check(checked_fr):
    source = checked_fr.release("fr")
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace('subtitle: "Le CNES', 'subtitle: "TODO Le CNES'),
                      encoding="utf-8")
    # the French text, labelled German: an untranslated copy
    german = source.with_name(f"{SAMPLE_STEM}.de.md")
    german.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--project", str(checked_fr.root), "--lang", "fr"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    subtitle = next(i for i, line in enumerate(text.splitlines(), 1) if "subtitle" in line)
    assert any(line.split() [:2] == [str(subtitle), "error"] and
               "placeholder text 'TODO' is not ready to send" in line for line in lines), lines
    body = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("Jeudi"))
    assert any(line.split()[:2] == [str(body), "error"] and
               "the body reads as French (fr), not German as the file says" in line
               for line in lines), result.output


def test_second_check_comes_from_the_cache(checked_fr):
    _override_layout(checked_fr, css="h1 { colour: red; }\n")  # a warning, kept in the cache
    first = check(checked_fr.root, langs=["fr"], jobs=2)
    assert first.rendered > 0 and first.findings
    second = check(checked_fr.root, langs=["fr"], jobs=2)
    assert second.rendered == 0 and second.reused == first.rendered
    assert sorted(map(str, (f.problem for f in second.findings))) == sorted(
        map(str, (f.problem for f in first.findings)))


def test_missing_alt_text_in_a_source(checked_fr):
    checked_fr.write("sources/releases/2018/carte.svg",
                  '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    source = checked_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8") + "\n![](carte.svg)\n",
                      encoding="utf-8")
    report = check(checked_fr.root, langs=["fr"])
    [problem] = [f.problem for f in report.errors if "alt text" in f.problem.message]
    assert problem.file == f"sources/releases/2018/{SAMPLE_STEM}.fr.md"
    assert problem.line == len(source.read_text(encoding="utf-8").splitlines())
    assert problem.message == ("image 'carte.svg' has no alt text; describe it: "
                               "![what the image shows](file)")
