"""The command line, through click's CliRunner and one real subprocess."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, SAMPLE_STEM

from publisher.commands.cli import main


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_build_prints_one_line_per_output_and_exits_0(only_fr):
    result = _run("build", "--project", str(only_fr.root))
    assert result.exit_code == 0, result.output
    assert f"built  {only_fr.pdf(f'{SAMPLE_STEM}.fr')}  (2 p.)" in result.output
    assert f"built  {only_fr.root / 'build/newsletters/2018-06.fr.txt'}" in result.output
    assert f"built  {only_fr.root / 'build/kits/cnes-roscosmos-2018.fr.eml'}" in result.output
    # the release and the kit (PDF and message), the newsletter (PDF, HTML, text, message)
    assert "8 built, 0 failed" in result.output


def test_bad_source_exits_1_with_file_line_and_no_traceback(only_fr):
    source = only_fr.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace("title:", "titel:"))
    result = _run("build", "--project", str(only_fr.root))
    assert result.exit_code == 1
    assert (f"sources/releases/2018/{SAMPLE_STEM}.fr.md:2:1: unknown front matter key 'titel'; "
            "did you mean 'title'?") in result.output
    assert "Traceback" not in result.output
    # one failure: the kit holding only that release is not made, and says so once
    assert "0 built, 1 failed" in result.output
    assert "left out" in result.output and "its releases have errors" in result.output
    assert "missing the required key 'title'" not in result.output  # the typo is the cause


def test_usage_errors_exit_2(project):
    assert _run("build", "--as-of", "yesterday", "--project", str(project.root)).exit_code == 2
    assert _run("build", "--no-such-option").exit_code == 2
    assert _run("new", "release", "--title", "x", "--lang", "xx",
                "--project", str(project.root)).exit_code == 2


def test_new_release_writes_a_named_source_that_builds(only_fr):
    result = _run("new", "release", "--lang", "fr", "--title", "Lancement réussi d'Ariane 5 !",
                  "--date", "2018-07-25", "--project", str(only_fr.root))
    assert result.exit_code == 0, result.output
    path = only_fr.root / "sources/releases/2018/2018-07-25-lancement-reussi-d-ariane-5.fr.md"
    assert path.is_file()
    text = path.read_text(encoding="utf-8")
    assert "title: Lancement réussi d'Ariane 5 !" in text
    assert "contacts: [pascale-bresson, raphael-sart]" in text
    # placeholders in French, which a build warns about and the gate refuses
    assert "[[Premier paragraphe : qui, quoi, quand, où et pourquoi" in text
    build = only_fr.build(path)
    assert build.ok, [str(p) for p in build.problems]
    assert [w.line for w in build.warnings] == [9, 11]
    assert all(w.message.startswith("placeholder text left") for w in build.warnings)
    from publisher.gate import check

    report = check(only_fr.root, langs=["fr"])
    assert [f.problem.message[:25] for f in report.errors] == ["placeholder text left fro"] * 2


def test_new_release_names_a_title_in_any_script(project):
    result = _run("new", "release", "--lang", "ru", "--title", "Космическое сотрудничество",
                  "--date", "2018-07-25", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert (project.root / "sources/releases/2018/"
            "2018-07-25-kosmicheskoe-sotrudnichestvo.ru.md").is_file()


def test_catalogs_on_a_clean_checkout_change_nothing(project):
    shutil.copytree(REPO / "layouts", project.root / "layouts")
    before = {p: p.read_bytes() for p in (project.root / "layouts/locale").rglob("*.po*")}
    result = _run("catalogs", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    after = {p: p.read_bytes() for p in (project.root / "layouts/locale").rglob("*.po*")}
    changed = [str(p.relative_to(project.root)) for p in before if before[p] != after[p]]
    assert changed == [] and set(after) == set(before)


def test_new_release_defaults_to_today_and_the_site_language(project):
    result = _run("new", "release", "--title", "Essai", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    today = dt.date.today()
    assert (project.root / f"sources/releases/{today:%Y}/{today.isoformat()}-essai.fr.md").exists()
    again = _run("new", "release", "--title", "Essai", "--project", str(project.root))
    assert again.exit_code == 2 and "already exists" in again.output


def test_preview_writes_a_png_of_the_page(sample_build, tmp_path):
    project, _ = sample_build
    out = tmp_path / "page.png"
    result = _run("preview", str(project.pdf(f"{SAMPLE_STEM}.fr")), "--width", "300",
                  "--output", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 300


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom click.testing import CliRunner\n"
            "from publisher.commands.cli import main\n"
            "CliRunner().invoke(main, ['--help'])\n"
            "print(sorted(m for m in ('weasyprint', 'babel', 'pypdf', 'markdown_it')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def _click_help(columns: str, program: str) -> str:
    """What click itself prints for ``--help`` at ``columns``."""
    code = ("import sys\nfrom publisher.commands.cli import main\n"
            f"sys.argv = [{program!r}, '--help']\nmain(prog_name={program!r})")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS=columns)).stdout


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_help_answers_without_click_and_says_what_click_says(option):
    env = dict(os.environ, COLUMNS="80")
    fast = subprocess.run([sys.executable, "-X", "importtime", "-m", "publisher", option],
                          capture_output=True, text=True, env=env, check=True)
    assert "click" not in fast.stderr  # no module of click was imported
    assert fast.stdout == _click_help("80", "python -m publisher")
    assert fast.stdout.startswith("Usage: python -m publisher [OPTIONS] COMMAND")
    assert "  serve       Show every output in the browser" in fast.stdout
    # the installed command, named as it is typed
    script = Path(sys.executable).with_name("publisher")
    installed = subprocess.run([str(script), option], capture_output=True, text=True,
                               env=env, check=True)
    assert installed.stdout == _click_help("80", "publisher")


def test_help_on_a_narrow_terminal_is_click_s_own():
    narrow = subprocess.run([sys.executable, "-X", "importtime", "-m", "publisher", "--help"],
                            capture_output=True, text=True, check=True,
                            env=dict(os.environ, COLUMNS="60"))
    assert "click" in narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 58
    assert narrow.stdout == _click_help("60", "python -m publisher")


EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback")


def test_bad_arguments_get_a_sentence_and_exit_2(project, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.pdf").write_text("not a PDF", encoding="utf-8")
    root = str(project.root)
    cases = [
        ("check", "--project", root, "--lang", "xx"),
        ("check", "--project", root, "--format", "xml"),
        ("build", "--project", str(tmp_path / "empty")),
        ("check", "--project", str(tmp_path / "empty")),
        ("clean", "--project", str(tmp_path / "empty")),
        ("watch", "--project", root, "--interval", "0"),
        ("build", "--project", root, "--jobs", "0"),
        ("build", "--project", root, "--as-of", "yesterday"),
        ("build", "--project", root, "--profile", "poster"),
        ("kit", "nope", "--project", root),
        ("kit", "cnes-roscosmos-2018", "--lang", "de", "--project", root),
        ("newsletter", "2018-13", "--project", root),
        ("new", "release", "--title", "x", "--lang", "xx", "--project", root),
        ("new", "release", "--title", "x", "--date", "demain", "--project", root),
        ("preview", str(tmp_path / "notes.pdf"), "--output", str(tmp_path / "x.png")),
        ("preview", str(tmp_path / "notes.pdf"), "--width", "-5", "--output",
         str(tmp_path / "x.png")),
        ("preview", str(tmp_path / "notes.pdf"), "--page", "0", "--output",
         str(tmp_path / "x.png")),
        ("preview", "build/releases/nope.pdf", "--project", root, "--output",
         str(tmp_path / "x.png")),
        ("build", "--project", root, "--lang", "xx"),
        ("watch", "--project", root, "--jobs", "0"),
        ("check", "--project", root, "--profile", "poster"),
    ]
    for args in cases:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 2, (args, result.output)
        assert not EXCEPTION_NAME.search(result.output), (args, result.output)
        assert result.output.strip(), args


def test_a_folder_that_is_not_a_project_says_so(tmp_path):
    done = subprocess.run([sys.executable, "-m", "publisher", "build", "--project",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "is not a publisher project (it has no sources/site.yaml)" in done.stderr


SHARED = {  # the options each command takes, with the same names and meaning everywhere
    ("build",): {"--project", "--as-of", "--profile", "--jobs", "--strict", "--lang"},
    ("kit",): {"--project", "--as-of", "--profile", "--jobs", "--strict", "--lang"},
    ("newsletter",): {"--project", "--as-of", "--profile", "--jobs", "--strict", "--lang"},
    ("check",): {"--project", "--as-of", "--profile", "--jobs", "--strict", "--lang"},
    ("watch",): {"--project", "--as-of", "--profile", "--jobs", "--lang"},
    ("clean",): {"--project"},
    ("catalogs",): {"--project", "--lang"},
    ("new", "release"): {"--project", "--lang"},
    ("preview",): {"--project"},
}


def test_every_command_takes_the_shared_options_each_with_help():
    for command, options in SHARED.items():
        text = _run(*command, "--help").output
        lines = {line.split()[0].rstrip(","): line for line in text.splitlines()
                 if line.strip().startswith("-")}
        for option in options:
            line = lines.get(option) or next(
                (v for k, v in lines.items() if option in v.split()), None)
            assert line is not None, (command, option, text)
            described = line.split(option, 1)[1].split(maxsplit=1)
            assert len(described) == 2 and described[1].strip(), (command, option, line)
    assert "YYYY-MM" in _run("newsletter", "--help").output.split("Options")[0]


def test_build_lang_builds_only_that_language(project):
    result = _run("build", "--project", str(project.root), "--lang", "en", "-j", "2")
    assert result.exit_code == 0, result.output
    built = sorted(p.name for p in (project.root / "build").rglob("*.*")
                   if p.parent.name in ("releases", "kits", "newsletters"))
    assert built == sorted(["2018-06.en.html", "2018-06.en.pdf", "2018-06.en.txt",
                            "2018-06.en.eml", f"{SAMPLE_STEM}.en.pdf", f"{SAMPLE_STEM}.en.eml",
                            "cnes-roscosmos-2018.en.pdf", "cnes-roscosmos-2018.en.eml"])
