"""The recipients of `publisher send`: the YAML list, or the CSV a CRM exports."""

from __future__ import annotations

from publisher.inputs.recipients import Recipient, read_recipients, recipients_file
from publisher.inputs.resources import ResourcePolicy


def _read(root, relative):
    path = recipients_file(root, relative)
    return read_recipients(path, root, ResourcePolicy([root]))


def test_the_sample_list_reads_whole(project):
    people, problems = _read(project.root, "sources/recipients.yaml")
    assert problems == []
    assert [p.email for p in people] == [
        "claire.martin@example.org", "james.okafor@example.org", "irina.volkova@example.org",
        "jonas.becker@example.org", "ana.souza@example.org"]
    assert people[1] == Recipient(email="james.okafor@example.org", name="James Okafor",
                                  langs=("en", "fr"), lists=("space",), embargo_ok=True,
                                  file="sources/recipients.yaml", line=13)
    assert people[2].name == "Ирина Волкова" and not people[2].embargo_ok


def test_bad_rows_are_reported_at_their_line_and_left_out(project):
    project.write("sources/recipients.yaml", "\n".join([
        "recipients:",
        "  - email: good@example.org",          # 2
        "    lang: fr",
        "  - name: No Address",                 # 4
        "  - email: not-an-address",            # 5
        "  - email: lang@example.org",          # 6
        "    lang: xx-nowhere",                 # 7
        "  - email: GOOD@example.org",          # 8: the same person again
        "  - email: flag@example.org",          # 9
        "    embargo_ok: perhaps",              # 10
        "  - email: typo@example.org",          # 11
        "    embrago_ok: true",                 # 12
        "  - just a string",                    # 13
        ""]))
    people, problems = _read(project.root, "sources/recipients.yaml")
    assert [p.email for p in people] == ["good@example.org", "typo@example.org"]
    said = {(p.line, p.severity): p.message for p in problems}
    assert all(p.file == "sources/recipients.yaml" for p in problems)
    assert sorted(said) == [(4, "error"), (5, "error"), (7, "error"), (8, "warning"),
                            (10, "error"), (12, "warning"), (13, "error")]
    assert "no email" in said[4, "error"]
    assert "'not-an-address' is not an e-mail address" in said[5, "error"]
    assert "unknown language 'xx-nowhere'" in said[7, "error"]
    assert "already on line 2" in said[8, "warning"]
    assert "must be true or false" in said[10, "error"]
    assert "did you mean 'embargo_ok'" in said[12, "warning"]
    assert len(problems) == len(set((p.line, p.message) for p in problems))  # each once


def test_a_crm_export_in_csv_with_its_own_column_names(project):
    (project.root / "sources/recipients.yaml").unlink()
    project.write("sources/recipients.csv", "\n".join([
        "Name;E-mail;Languages;Beats;embargo_ok",
        "Claire Martin;claire.martin@example.org;fr;space, science;oui",
        '"Okafor; James";james.okafor@example.org;en fr;space;yes',
        ";;;;",
        "Nobody;nobody-at-example.org;en;;no",
        "Irina;irina@example.org;ru;;",
        ""]))
    people, problems = _read(project.root, "sources/recipients.yaml")
    assert [(p.name, p.email, p.langs, p.lists, p.embargo_ok, p.line) for p in people] == [
        ("Claire Martin", "claire.martin@example.org", ("fr",), ("space", "science"), True, 2),
        ("Okafor; James", "james.okafor@example.org", ("en", "fr"), ("space",), True, 3),
        ("Irina", "irina@example.org", ("ru",), (), False, 6)]
    [problem] = problems
    assert (problem.file, problem.line) == ("sources/recipients.csv", 5)
    assert "is not an e-mail address" in problem.message


def test_a_csv_without_an_email_column_says_what_it_needs(project):
    project.write("sources/recipients.csv", "nom,courriel\nA,a@example.org\n")
    (project.root / "sources/recipients.yaml").unlink()
    people, [problem] = _read(project.root, "sources/recipients.yaml")
    assert people == [] and problem.line == 1
    assert "names no 'email' column" in problem.message


def test_a_recipients_file_outside_the_project_is_not_read(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "list.yaml"
    outside.write_text("- email: leak@example.org\n", encoding="utf-8")
    target = project.root / "sources/recipients.yaml"
    target.unlink()
    target.symlink_to(outside)
    people, [problem] = _read(project.root, "sources/recipients.yaml")
    assert people == [] and "cannot read the recipients" in problem.message
    assert "leak" not in problem.message
