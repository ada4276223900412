"""Hostile input against what the toolkit writes and keeps: cache entries and
objects restored from elsewhere, a manifest edited to name a device or a pipe,
outputs edited in place, commands whose options name a path outside the
project, temporary files of a build still running, sources whose names collide
on other file systems, and sources whose mistakes must not cost good outputs.

Each test works on a copy of the French sample built once for the session, or
on a small project of its own, and checks what is on disk afterwards, outside
the project included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, SAMPLE_STEM, ProjectDir, french_only

RELEASE = f"releases/{SAMPLE_STEM}.fr.pdf"


@pytest.fixture(scope="session")
def _built_fr(tmp_path_factory) -> Path:
    from publisher.pipeline import build

    root = tmp_path_factory.mktemp("built-fr") / "p"
    shutil.copytree(REPO / "sources", root / "sources")
    french_only(ProjectDir(root))
    assert build(root, jobs=1).ok
    return root


@pytest.fixture
def built(_built_fr, tmp_path) -> ProjectDir:
    root = tmp_path / "p"
    shutil.copytree(_built_fr, root, symlinks=True)
    return ProjectDir(root)


def _build(project: ProjectDir, *args: str, timeout: int = 120, debug: bool = False):
    return subprocess.run([sys.executable, "-m", "publisher", *(["--debug"] if debug else []),
                           "build", "--project", str(project.root), "--jobs", "1", *args],
                          capture_output=True, text=True, timeout=timeout)


def _entry_of(project: ProjectDir, name: str) -> Path:
    """The cache entry that made the output ``name``."""
    for path in (project.root / "build/.cache/actions").glob("*.json"):
        entry = json.loads(path.read_text(encoding="utf-8"))
        if any(t.get("path") == name for t in entry.get("targets", [])):
            return path
    raise AssertionError(f"no cache entry made {name}")


def _forget(project: ProjectDir, name: str) -> None:
    """The output ``name`` gone from build/ and the manifest: the next build must
    restore it from the cache."""
    (project.root / "build" / name).unlink()
    manifest = project.root / "build/manifest.json"
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    listed["outputs"] = [o for o in listed["outputs"] if o["path"] != name]
    manifest.write_text(json.dumps(listed), encoding="utf-8")


# --- the cache and the manifest ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["../../../escaped.pdf", "../manifest.json",
                                    f"releases/{SAMPLE_STEM}.fr.pdf/../../../escaped.pdf",
                                    "kits/cnes-roscosmos-2018.fr.pdf"])
def test_a_cache_entry_naming_another_target_writes_nothing_there(built, target):
    entry_path = _entry_of(built, RELEASE)
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    entry["targets"][0]["path"] = target
    entry_path.write_text(json.dumps(entry), encoding="utf-8")
    kit = (built.root / "build/kits/cnes-roscosmos-2018.fr.pdf").read_bytes()
    _forget(built, RELEASE)
    done = _build(built, debug=True)
    assert done.returncode == 0, done.stderr
    assert not (built.root.parent / "escaped.pdf").exists()
    assert not (built.root / "escaped.pdf").exists()
    assert (built.root / "build/kits/cnes-roscosmos-2018.fr.pdf").read_bytes() == kit
    assert "rendered instead" in done.stderr  # said under --debug
    assert (built.root / "build" / RELEASE).read_bytes().startswith(b"%PDF")


def test_a_cache_object_whose_bytes_do_not_match_its_name_is_made_again(built):
    good = (built.root / "build" / RELEASE).read_bytes()
    entry = json.loads(_entry_of(built, RELEASE).read_text(encoding="utf-8"))
    [item] = [i for i in entry["files"] if i["suffix"].endswith("pdf")]
    sha = item["sha256"]
    blob = built.root / "build/.cache/objects" / sha[:2] / f"{sha}.pdf"
    forged = good.replace(b"Roscosmos", b"Rosc0smos")
    assert forged != good
    blob.write_bytes(forged)
    _forget(built, RELEASE)
    done = _build(built, debug=True)
    assert done.returncode == 0, done.stderr
    assert "does not match its digest" in done.stderr
    assert (built.root / "build" / RELEASE).read_bytes() == good
    assert blob.read_bytes() == good  # the object is right again


def test_a_manifest_naming_a_pipe_or_a_device_is_not_read(built):
    fifo = built.root / "build/releases/waiting.pdf"
    os.mkfifo(fifo)
    manifest = built.root / "build/manifest.json"
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    listed["outputs"] += [
        {"path": "releases/waiting.pdf", "sha256": "0" * 64, "sources": [], "pages": 1},
        {"path": "releases/../../../../../../dev/zero", "sha256": "0" * 64},
        {"path": "/dev/zero", "sha256": "0" * 64},
        {"path": "kits/../../../../../../../dev/urandom", "sha256": "0" * 64}]
    manifest.write_text(json.dumps(listed), encoding="utf-8")
    started = time.monotonic()
    done = _build(built, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    paths = [o["path"] for o in json.loads(manifest.read_text(encoding="utf-8"))["outputs"]]
    assert not any("dev/" in path or "waiting" in path for path in paths), " ".join(paths)


def test_an_output_edited_in_place_with_its_size_and_time_kept_is_written_again(built):
    output = built.root / "build" / RELEASE
    good = output.read_bytes()
    facts = output.stat()
    output.write_bytes(good.replace(b"Roscosmos", b"Rosc0smos"))
    os.utime(output, ns=(facts.st_atime_ns, facts.st_mtime_ns))
    assert output.stat().st_size == facts.st_size
    done = _build(built)
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == good


# --- commands that write files -------------------------------------------------------------


def _cli(*args: str):
    from publisher.commands.cli import main

    return CliRunner().invoke(main, list(args))


def _nothing_new_outside(root: Path, before: set[Path]) -> None:
    after = {p for p in root.parent.rglob("*") if not p.is_relative_to(root)}
    assert after == before, sorted(after - before)


def test_catalogs_refuses_a_language_that_is_a_path(built):
    root = built.root
    before = {p for p in root.parent.rglob("*") if not p.is_relative_to(root)}
    for code in ("../../escaped", "../../../tmp/x", "fr/../../../escaped", "/tmp/escaped"):
        result = _cli("catalogs", "--project", str(root), "--lang", code)
        assert result.exit_code == 2, result.output
        assert "unknown language" in result.output
    _nothing_new_outside(root, before)
    assert not (root / "escaped").exists()


def test_a_translation_of_a_file_outside_the_project_is_refused(built, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / f"{SAMPLE_STEM}.fr.md"
    shutil.copy(built.release("fr"), outside)
    result = _cli("new", "release", "--project", str(built.root), "--translate",
                  str(outside), "--lang", "en")
    assert result.exit_code == 2, result.output
    assert "is not a release of this project" in result.output
    assert sorted(p.name for p in outside.parent.iterdir()) == [outside.name]


def test_a_build_folder_whose_subfolder_links_outside_is_not_written_through(
        built, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("linked-out")
    releases = built.root / "build/releases"
    shutil.rmtree(releases)
    releases.symlink_to(elsewhere, target_is_directory=True)
    done = _build(built)
    assert done.returncode == 1
    assert "is outside build" in done.stderr
    assert list(elsewhere.iterdir()) == []


def test_send_s_outbox_and_ledger_are_written_only_inside_build(built, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("outbox-out")
    (built.root / "build/outbox").symlink_to(elsewhere, target_is_directory=True)
    result = _cli("send", "newsletter", "2018-06", "--dry-run", "--project", str(built.root),
                  "--as-of", "2018-06-20T10:00:00+00:00")
    assert result.exit_code == 1, result.output
    assert "outside build/outbox" in result.output
    assert list(elsewhere.iterdir()) == []


# --- temporary files ---------------------------------------------------------------------------


def test_a_command_leaves_the_temporary_files_of_a_build_still_running(built):
    folder = built.root / "build/releases"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = folder / f".{SAMPLE_STEM}.fr.pdf.{alive.pid}.abc123.publisher-tmp"
        running.write_bytes(b"half a PDF")
        gone = folder / f".{SAMPLE_STEM}.fr.pdf.{_dead_pid()}.def456.publisher-tmp"
        gone.write_bytes(b"half a PDF")
        done = _build(built)
        assert done.returncode == 0, done.stderr
        assert running.exists() and not gone.exists()
    finally:
        alive.kill()
        alive.wait()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("first, second", [
    ("2018-06-20-café.fr.md", "2018-06-20-cafe\u0301.fr.md"),  # NFC and NFD
    ("2018-06-20-Accord.fr.md", "2018-06-20-accord.fr.md")])  # case
def test_two_sources_whose_names_collide_elsewhere_are_one_error_naming_both(
        tmp_path, first, second):
    project = ProjectDir(tmp_path)
    shutil.copytree(REPO / "sources", tmp_path / "sources")
    folder = tmp_path / "sources/releases/2018"
    for path in folder.glob("*.md"):
        path.unlink()
    for name in (first, second):
        (folder / name).write_text("---\ntitle: Titre\ndate: 2018-06-20\n---\n\nTexte.\n",
                                   encoding="utf-8")
    result = project.build(jobs=1)
    [error] = [p for p in result.errors if "of the same name" in p.message]
    named = {error.file, error.message.split(" makes ")[0]}
    assert named == {f"sources/releases/2018/{first}", f"sources/releases/2018/{second}"}
    assert len([o for o in result.outputs
                if o.path.parent.name == "releases" and o.path.suffix == ".pdf"]) == 1


# --- one bad source, no good output lost ---------------------------------------------------------


def test_a_schema_error_in_the_only_french_release_of_a_month_keeps_its_newsletter(built):
    newsletter = built.root / "build/newsletters/2018-06.fr.pdf"
    good = newsletter.read_bytes()
    source = built.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace("title:", "titel:", 1),
                      encoding="utf-8")
    done = _build(built)
    assert done.returncode == 1
    assert "its source is gone" not in done.stdout
    assert newsletter.read_bytes() == good


def test_an_embargo_in_one_language_version_holds_the_others(tmp_path):
    from publisher.pipeline import build

    root = tmp_path / "p"
    shutil.copytree(REPO / "sources", root / "sources")
    fr = root / f"sources/releases/2018/{SAMPLE_STEM}.fr.md"
    fr.write_text(fr.read_text(encoding="utf-8").replace(
        "\n---\n", "\nembargo: 2018-06-15 10:00 Europe/Paris\n---\n", 1), encoding="utf-8")
    before = dt.datetime(2018, 6, 15, 6, 0, tzinfo=dt.timezone.utc)
    result = build(root, as_of=before, jobs=1)
    warned = {p.file for p in result.warnings if "under embargo until" in p.message}
    assert warned == {f"sources/releases/2018/{SAMPLE_STEM}.{lang}.md" for lang in ("en", "ru")}
    from pypdf import PdfReader

    english = PdfReader(str(root / f"build/releases/{SAMPLE_STEM}.en.pdf"))
    assert "NOT FOR PUBLICATION BEFORE JUNE 15, 2018" in english.pages[0].extract_text().upper()
    assert not (root / "build/newsletters/2018-06.en.pdf").exists()  # it holds only that one
    assert any("newsletter 2018-06.en" in note and "embargo" in note for note in result.notes)


def test_embargo_times_as_people_write_them(tmp_path):
    from publisher.inputs.resources import ResourcePolicy
    from publisher.load import load_release

    written = {
        "2018-03-24 10:00 Europe/Paris": "2018-03-24T10:00:00+01:00",  # winter time
        "2018-03-26 10:00 europe/paris": "2018-03-26T10:00:00+02:00",  # summer time
        "2018-11-03 09:30 America/New_York": "2018-11-03T09:30:00-04:00",
        "2018-11-05 09:30 America/New_York": "2018-11-05T09:30:00-05:00",
        "2018-06-15t10:00:00z": "2018-06-15T10:00:00+00:00",
        "2018-06-15T10:00:00+02:00": "2018-06-15T10:00:00+02:00",
    }
    refused = {
        "2018-06-15T10:00:00": "no UTC offset or time zone",
        "2018-03-25 02:30 Europe/Paris": "does not exist in Europe/Paris",
        "2018-10-28 02:30 Europe/Paris": "happens twice in Europe/Paris",
        "2018-06-15 10:00 Europe/Pariss": "is not a time zone",
    }
    for index, (text, expected) in enumerate({**written, **refused}.items()):
        path = tmp_path / f"2018-06-15-r{index}.fr.md"
        path.write_text(f"---\ntitle: T\ndate: 2018-06-15\nembargo: {text}\n---\n\nTexte.\n",
                        encoding="utf-8")
        release = load_release(path, tmp_path, ResourcePolicy([tmp_path]))
        if text in written:
            assert release.problems == [], (text, release.problems)
            assert release.meta["embargo"].isoformat() == expected, text
        else:
            [problem] = release.problems
            assert problem.line == 4 and expected in problem.message, problem


def test_a_resource_a_layout_refuses_is_blamed_on_the_layout_line(built):
    css = (REPO / "layouts/release/release.css").read_text(encoding="utf-8")
    built.write("layouts/release/release.css",
                '@import "https://tracker.example/x.css";\n' + css)
    done = _build(built)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if "tracker.example" in line]
    assert lines and all(line.strip().startswith("layouts/release/release.css:1: refused "
                                                 "resource") for line in lines), done.stderr
    assert len(lines) == 1  # said once, for every document it stops


def test_phone_numbers_in_a_long_run_of_digits_are_read_in_linear_time():
    from publisher.text.markdown import render_body
    from publisher.text.typography import Typographer

    started = time.monotonic()
    body = " ".join(["Réf. x" + "1" * 40 + "a"] * 50) + "\n"
    result = render_body(body, Typographer("fr"), source=Path("x.md"), shown="x.md",
                         first_line=1, resolve_resource=lambda path, line: path)
    assert result.problems == [] and time.monotonic() - started < 2


def test_a_long_link_breaks_at_its_slashes_and_is_copied_whole(tmp_path):
    from email import policy
    from email.parser import BytesParser

    from pypdf import PdfReader

    from publisher.pipeline import build

    address = ("https://maps.example.org/place/" + "/".join(["Centre+spatial+de+Toulouse"] * 20)
               + "?entry=ttu&utm_source=communique&utm_medium=pdf")
    shutil.copytree(REPO / "sources", tmp_path / "sources")
    folder = tmp_path / "sources/releases/2018"
    for path in folder.glob("*.md"):
        path.unlink()
    source = folder / "2018-06-20-plan.fr.md"
    source.write_text(f"---\ntitle: Plan\ndate: 2018-06-20\n---\n\nLe plan : <{address}>.\n",
                      encoding="utf-8")
    result = build(tmp_path, [source], jobs=1)
    assert result.ok, [str(p) for p in result.errors]
    pdf = PdfReader(str(tmp_path / "build/releases/2018-06-20-plan.fr.pdf"))
    text = pdf.pages[0].extract_text()
    assert "\u200b" not in text and "\u2060" not in text
    start = text.index("https://maps")
    end = text.index("utm_medium=pdf") + len("utm_medium=pdf")
    shown = text[start:end].split("\n")
    assert len(shown) > 2 and "".join(shown) == address  # broken over lines, nothing lost…
    assert all(line.endswith(("/", "?", "&", "=")) for line in shown[:-1]), shown
    links = [a.get_object()["/A"]["/URI"] for a in pdf.pages[0]["/Annots"]]
    assert address in links  # …and clickable whole
    message = BytesParser(policy=policy.default).parsebytes(
        (tmp_path / "build/releases/2018-06-20-plan.fr.eml").read_bytes())
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        content = part.get_content()
        assert "\u200b" not in content and "\u2060" not in content
    assert address in message.get_body(("plain",)).get_content().replace("\n", "")
