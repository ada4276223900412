"""Every problem has a stable code: listed in the README, used by the code that
decides, never its wording."""

from __future__ import annotations

import ast

from conftest import REPO

PACKAGE = REPO / "publisher"
TEXT_METHODS = {"startswith", "endswith", "find", "index", "count", "split", "search",
                "match", "fullmatch", "findall"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _is_problem_call(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "Problem") or (
        isinstance(func, ast.Attribute) and func.attr == "problem")


def test_every_problem_is_made_with_a_code_the_table_knows():
    from publisher.codes import CODES

    missing, unknown = [], []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _is_problem_call(node)):
                continue
            if any(k.arg is None for k in node.keywords):  # Problem(**kept): checked on read
                continue
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if code is None:
                missing.append(f"{path.relative_to(REPO)}:{node.lineno}")
            elif isinstance(code, ast.Constant) and code.value not in CODES:
                unknown.append(f"{path.relative_to(REPO)}:{node.lineno}: {code.value}")
    assert missing == [] and unknown == [], (missing, unknown)


def test_every_code_is_used_and_in_the_readme():
    from publisher.codes import CODES, table

    used = set()
    for path, tree in _modules():
        if path.name == "codes.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value in CODES:
                used.add(node.value)
    assert sorted(set(CODES) - used) == []
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = readme.index("<!-- codes -->\n"), readme.index("<!-- /codes -->")
    assert readme[start + len("<!-- codes -->\n"):end] == table(), \
        "the README's table of codes is not the one in publisher/codes.py: python -m " \
        "publisher.codes README.md writes it again"


def _message_of(node) -> bool:
    """``node`` is ``<something>.message`` (not an exception's: schema.Invalid has one)."""
    return (isinstance(node, ast.Attribute) and node.attr == "message"
            and not (isinstance(node.value, ast.Name) and node.value.id in ("exc", "self")))


def test_no_code_decides_by_a_problem_s_wording():
    decided = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                    _message_of(operand) for operand in [node.left, *node.comparators]):
                decided.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in TEXT_METHODS and (
                        _message_of(node.func.value)
                        or any(_message_of(arg) for arg in node.args)):
                    decided.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert decided == []


def test_the_wording_test_can_see():
    tree = ast.parse('if "left out" in problem.message: pass\nx = p.message.startswith("a")')
    seen = [n for n in ast.walk(tree) if isinstance(n, ast.Compare)
            and any(_message_of(o) for o in [n.left, *n.comparators])]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and _message_of(n.func.value)]
    assert len(seen) == 1 and len(calls) == 1


def test_a_problem_prints_its_code_and_refuses_an_unknown_one():
    import pytest

    from publisher.errors import Problem

    problem = Problem("sources/site.yaml", 3, "unknown site key 'nme'", col=1, code="S001")
    assert str(problem) == "sources/site.yaml:3:1: unknown site key 'nme' [S001]"
    with pytest.raises(ValueError):
        Problem("x", None, "y", code="Z999")
    with pytest.raises(ValueError):
        Problem("x", None, "y")


def test_check_leaves_out_the_codes_it_is_told_to_ignore(checked_fr):
    from click.testing import CliRunner

    from publisher.commands.cli import main

    source = checked_fr.root / "sources/releases/2018/2018-06-15-cnes-roscosmos.fr.md"
    source.write_text(source.read_text(encoding="utf-8").replace(
        "\n---\n", "\nunknown_key: 1\n---\n", 1), encoding="utf-8")
    base = ["check", "--project", str(checked_fr.root), "--lang", "fr", "--format", "json"]
    seen = CliRunner().invoke(main, base)
    assert seen.exit_code == 1 and '"code": "S001"' in seen.output
    quiet = CliRunner().invoke(main, [*base, "--ignore", "s001"])
    assert '"code": "S001"' not in quiet.output and "1 ignored by code" in quiet.output
    site = checked_fr.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "check:\n  ignore: [S001]\n",
                    encoding="utf-8")
    configured = CliRunner().invoke(main, base)
    assert '"code": "S001"' not in configured.output
    unknown = CliRunner().invoke(main, [*base, "--ignore", "Q123"])
    assert unknown.exit_code == 2 and "is not the code of a problem" in unknown.output
