"""Every bad input gives one `file:line: what is wrong, how to fix it`."""

from __future__ import annotations

import pytest
from conftest import SAMPLE_STEM, release_text

BAD = "sources/releases/2018/2018-06-20-bad.fr.md"


def _only_problem(result, file=BAD):
    errors = [p for p in result.errors if p.file == file]
    assert len(errors) == 1, [str(p) for p in result.problems]
    return errors[0]


def _check(project, text, line, *words):
    project.write(BAD, text)
    result = project.build(project.root / BAD)
    problem = _only_problem(result)
    assert problem.line == line, str(problem)
    for word in words:
        assert word in problem.message, str(problem)
    assert result.failed == [BAD]
    assert not result.outputs
    return problem


def test_broken_yaml(project):
    _check(project, "---\ntitle: Titre\ndate: [2018-06-20\n---\nTexte\n", 4, "invalid YAML")


def test_no_front_matter(project):
    _check(project, "Juste du texte\n", 1, "no front matter")


def test_unknown_key_with_did_you_mean(project):
    _check(project, release_text(subtitel="x"), 4, "unknown front matter key 'subtitel'",
           "did you mean 'subtitle'")


def test_missing_required_title(project):
    _check(project, release_text(title=None), 2, "missing the required key 'title'")


def test_bad_date(project):
    _check(project, release_text(date="2018-13-45"), 3, "not an ISO 8601 date", "YYYY-MM-DD")


def test_bad_locale(project):
    project.write(BAD, release_text(lang="xx"))
    result = project.build(project.root / BAD)
    assert any("unknown language 'xx'" in p.message and p.line == 4 for p in result.errors)


def test_language_disagrees_with_file_name(project):
    _check(project, release_text(lang="en"), 4, "disagrees with the file name")


def test_unknown_contact_id(project):
    _check(project, release_text(contacts="[pascale-bresson, raphael-sar]"), 4,
           "unknown contact id 'raphael-sar'", "did you mean 'raphael-sart'")


def test_embargo_needs_an_offset(project):
    _check(project, release_text(embargo="2018-06-20T10:00:00"), 4, "no UTC offset")


def test_missing_image(project):
    _check(project, release_text(body="Texte.\n\n![Le satellite](absent.png)\n"), 8,
           "'absent.png' does not exist")


def test_image_without_alt_text(project):
    project.write("sources/releases/2018/photo.svg",
                  '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    _check(project, release_text(body="Texte.\n\n![](photo.svg)\n"), 8, "no alt text")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "../../../../../../etc/passwd"])
def test_file_outside_the_project_is_refused(project, url):
    _check(project, release_text(body=f"![Secret]({url})\n"), 6, "outside the project")


def test_network_url_is_refused(project):
    _check(project, release_text(body="![Logo](https://example.com/logo.png)\n"), 6,
           "network resource", "allowed_hosts")


def test_character_no_font_covers_is_named_with_its_line(project):
    problem = _check(project, release_text(body="Le mot हिन्दी en hindi.\n"), 6,
                     "U+0939", "U+0928", "fonts/")
    assert "DEVANAGARI LETTER HA" in problem.message


def test_all_problems_of_a_source_are_collected(project):
    project.write(BAD, release_text(date="demain", subtitel="x", contacts="[nobody]"))
    result = project.build(project.root / BAD)
    assert sorted(p.line for p in result.errors) == [3, 4, 5]


def test_broken_site_yaml_stops_with_its_line(project):
    site = project.read("sources/site.yaml").replace("page_size: A4", "page_sise: A4")
    project.write("sources/site.yaml", site)
    result = project.build()
    assert not result.outputs
    [problem] = result.errors
    assert problem.file == "sources/site.yaml"
    assert "did you mean 'page_size'" in problem.message
    assert problem.line == next(i for i, line in enumerate(site.splitlines(), 1)
                                if line.startswith("page_sise"))


def test_an_unreadable_phone_is_a_warning_at_the_contact_and_never_drops_the_release(project):
    contacts = project.read("sources/contacts.yaml").replace('"01 44 76 75 39"', '"01 44"')
    project.write("sources/contacts.yaml", contacts)
    project.write(BAD, release_text(contacts="[pascale-bresson]"))
    result = project.build(project.root / BAD)
    assert result.ok and [o.path.name for o in result.outputs] == ["2018-06-20-bad.fr.pdf",
                                                                   "2018-06-20-bad.fr.eml"]
    [problem] = result.warnings
    assert problem.file == "sources/contacts.yaml"
    assert "phone number '01 44' of 'Pascale Bresson' is printed as written" in problem.message
    assert problem.line == next(i for i, line in enumerate(contacts.splitlines(), 1)
                                if line.startswith("pascale-bresson:"))


def test_bad_source_never_costs_a_good_output(only_fr):
    project = only_fr
    result = project.build()
    assert result.ok
    good = project.pdf(f"{SAMPLE_STEM}.fr")
    before = good.read_bytes()
    # break the good source and add a second, broken one
    source = project.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace("date: 2018-06-15",
                                                                 "date: 15/06/2018"))
    project.write(BAD, "---\ntitle: [\n---\n")
    result = project.build()
    assert {BAD, f"sources/releases/2018/{SAMPLE_STEM}.fr.md"} <= set(result.failed)
    assert good.read_bytes() == before
    assert not list(good.parent.glob(".*.publisher-tmp"))


def test_language_is_required_when_the_file_name_has_none(project):
    project.write("sources/releases/2018/sans-langue.md", release_text())
    result = project.build(project.root / "sources/releases/2018/sans-langue.md")
    [problem] = result.errors
    assert problem.file == "sources/releases/2018/sans-langue.md"
    assert "add 'lang: fr' to the front matter or name the file" in problem.message


@pytest.mark.parametrize("front", ["date: demain", "date: [2018-06-20"])
def test_front_matter_and_body_are_checked_in_one_run(project, front):
    # a broken front matter (bad value, or YAML that does not parse) does not hide
    # the body's problems: one run reports the whole file
    body = "Texte.\n\n![](../../images/nope.png)\n\n[clic](javascript:alert(1))\n"
    project.write(BAD, f"---\ntitle: Titre\n{front}\n---\n\n{body}")
    result = project.build(project.root / BAD)
    lines = sorted(p.line for p in result.errors)
    assert lines[0] in (3, 4) and 8 in lines and 10 in lines, [str(p) for p in result.errors]
    messages = " ".join(p.message for p in result.errors)
    assert "has no alt text" in messages and "'javascript:' scheme" in messages


@pytest.mark.parametrize("text", [
    "title: x\ntitle: y\n", "a: [1,\nb: 2\n", "a: 1\n  b: 2\n", 'a: "\x07"\n',
    "a:\n  b: [1, {c: 2}]\nd: 2018-06-01\n", "a: &x [1, 2]\n" + "".join(
        f"k{i}: *x\n" for i in range(120)), "b: &b {r: 1, s: 2}\n" + "".join(
        f"k{i}: {{<<: *b, t: {i}}}\n" for i in range(90)), "a: " + "[" * 60 + "]" * 60 + "\n",
])
def test_libyaml_reads_yaml_as_the_python_parser_does(text, monkeypatch):
    """libyaml is used when PyYAML has it (six to seven times faster); what a
    document gives, and where its problems are, does not depend on it."""
    import yaml

    from publisher.inputs import yamlfile

    assert yaml.__with_libyaml__ and issubclass(yamlfile._Loader, yaml.CSafeLoader)

    def read():
        try:
            located = yamlfile.parse_yaml(text, "f.yaml", line_offset=2)
        except yamlfile.YamlSyntaxError as error:
            return error.problem.line, error.problem.col, "this YAML" in str(error)
        return located.data, located.marks, located.problems

    fast = read()

    class Python(yaml.SafeLoader):
        yaml_implicit_resolvers = yamlfile._Loader.yaml_implicit_resolvers

    monkeypatch.setattr(yamlfile, "_Loader", Python)
    assert read() == fast
