"""The render cache: each input kind re-renders exactly what it affects."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_STEM
from pypdf import PdfReader

from publisher.pipeline import build, clean

LANGS = ("en", "fr", "ru")
RELEASE = {lang: f"sources/releases/2018/{SAMPLE_STEM}.{lang}.md" for lang in LANGS}
KIT = {lang: f"sources/kits/cnes-roscosmos-2018.yaml [{lang}]" for lang in LANGS}
NEWS = {lang: f"newsletter 2018-06 [{lang}]" for lang in LANGS}
EVERYTHING = set(RELEASE.values()) | set(KIT.values()) | set(NEWS.values())


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """The sample project, built once: later builds start from its cache."""
    root = tmp_path_factory.mktemp("warm")
    shutil.copytree(REPO / "sources", root / "sources")
    shutil.copytree(REPO / "layouts", root / "layouts")  # the project's own, to edit
    result = build(root, jobs=2)
    assert set(result.rendered_names) == EVERYTHING and result.reused == 0
    return root


@pytest.fixture
def project(warm, tmp_path):
    """A copy of the warm project (sources, layouts, build and cache)."""
    shutil.copytree(warm, tmp_path / "p")
    return tmp_path / "p"


def _rebuild(root, **kwargs) -> set[str]:
    result = build(root, jobs=1, **kwargs)
    assert result.errors == [], [str(p) for p in result.errors]
    return set(result.rendered_names)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _layouts(root: Path) -> Path:
    return root / "layouts"


def test_nothing_changed_nothing_rendered_nothing_rewritten(project):
    pdf = project / "build/releases" / f"{SAMPLE_STEM}.fr.pdf"
    before = pdf.stat().st_mtime_ns
    result = build(project, jobs=1)
    assert result.rendered_names == [] and result.reused == len(EVERYTHING)
    assert pdf.stat().st_mtime_ns == before
    assert len(result.outputs) == 24  # 15 PDFs and e-mail editions, 9 messages


def test_source(project):
    _edit(project / RELEASE["fr"], "Jeudi 15 juin", "Le jeudi 15 juin")
    assert _rebuild(project) == {RELEASE["fr"], KIT["fr"], NEWS["fr"]}


def test_contact(project):
    contacts = project / "sources/contacts.yaml"
    contacts.write_text(contacts.read_text(encoding="utf-8")
                        + "nobody-yet:\n  name: Personne Encore\n", encoding="utf-8")
    assert _rebuild(project) == set()  # a contact no release uses
    _edit(contacts, "01 44 76 75 39", "01 44 76 75 40")
    assert _rebuild(project) == EVERYTHING  # both contacts are in every release


def test_css(project):
    layouts = _layouts(project)
    _edit(layouts / "kit/kit.css", "font: 700 28pt/1.15", "font: 700 27pt/1.15")
    assert _rebuild(project) == set(KIT.values()) | set(NEWS.values())  # newsletter uses it
    _edit(layouts / "release/release.css", "font-size: 10pt;", "font-size: 10.2pt;")
    assert _rebuild(project) == EVERYTHING


def test_template(project):
    layouts = _layouts(project)
    _edit(layouts / "newsletter/email.html", '<br>{% endfor %}', '<br>\n{% endfor %}')
    assert _rebuild(project) == set(NEWS.values())


def test_catalog(project):
    layouts = _layouts(project)
    _edit(layouts / "locale/ru/LC_MESSAGES/messages.po", 'msgstr "Пресс-релиз"',
          'msgstr "Пресс-релиз CNES"')
    assert _rebuild(project) == {RELEASE["ru"], KIT["ru"], NEWS["ru"]}


def test_font(project):
    fonts = project / "fonts"
    fonts.mkdir()
    shutil.copy(REPO / "fonts/Inter-Medium.otf", fonts / "Inter-Medium.otf")
    assert _rebuild(project) == EVERYTHING


def test_profile(project):
    assert _rebuild(project, profile="print") == EVERYTHING
    assert (project / "build/print/releases" / f"{SAMPLE_STEM}.fr.pdf").exists()
    assert _rebuild(project) == set()  # the screen edition is still cached
    assert _rebuild(project, profile="print") == set()


def test_embargo_time(project):
    # written in the English version, the embargo holds every language version
    _edit(project / RELEASE["en"], "dateline: Paris", "dateline: Paris\n"
          "embargo: 2018-06-15T10:00:00+02:00")
    before = dt.datetime(2018, 6, 15, 7, 0, tzinfo=dt.timezone.utc)
    # the releases and kits get the embargo notice; the month's newsletters wait for it
    held = set(RELEASE.values()) | set(KIT.values())
    assert _rebuild(project, as_of=before) == held
    assert _rebuild(project, as_of=before + dt.timedelta(minutes=30)) == set()
    after = dt.datetime(2018, 6, 15, 9, 0, tzinfo=dt.timezone.utc)
    # lifted, the other versions are as they were before (their own sources did not
    # change): from the cache
    assert _rebuild(project, as_of=after) == {RELEASE["en"], KIT["en"], NEWS["en"]}
    assert _rebuild(project, as_of=after + dt.timedelta(days=300)) == set()


def test_clean_empties_the_cache_and_removes_the_outputs(project):
    entries = len(list((project / "build/.cache/actions").glob("*.json")))
    assert entries > len(EVERYTHING)  # outputs, and the parts of kits and newsletters
    outputs = len(_outputs(project)) - 1  # the manifest aside
    assert clean(project, cache_only=True) == (entries, 0)
    assert not (project / "build/.cache").exists()
    assert len(_outputs(project)) - 1 == outputs
    assert clean(project) == (0, outputs)
    assert _outputs(project) == {}
    assert _rebuild(project) == EVERYTHING


def _drop_russian(project) -> None:
    (project / RELEASE["ru"]).unlink()
    _edit(project / "sources/kits/cnes-roscosmos-2018.yaml", "lang: [fr, en, ru]",
          "lang: [fr, en]")


def test_outputs_whose_source_is_gone_leave_build_and_the_manifest(project):
    _drop_russian(project)
    result = build(project, jobs=1)
    assert result.ok, [str(p) for p in result.errors]
    gone = ["releases/2018-06-15-cnes-roscosmos.ru.pdf", "newsletters/2018-06.ru.pdf",
            "newsletters/2018-06.ru.html", "newsletters/2018-06.ru.txt",
            "kits/cnes-roscosmos-2018.ru.pdf"]
    for name in gone:
        assert not (project / "build" / name).exists(), name
        assert f"removed build/{name}: its source is gone" in result.notes
    listed = {e["path"] for e in json.loads(
        (project / "build/manifest.json").read_text(encoding="utf-8"))["outputs"]}
    assert not listed & set(gone)
    assert "kits/cnes-roscosmos-2018.fr.pdf" in listed


def test_keep_orphans_keeps_them_out_of_the_manifest(project):
    _drop_russian(project)
    result = build(project, jobs=1, keep_orphans=True)
    assert (project / "build/releases/2018-06-15-cnes-roscosmos.ru.pdf").exists()
    assert any("its source is gone (kept" in note for note in result.notes)
    listed = {e["path"] for e in json.loads(
        (project / "build/manifest.json").read_text(encoding="utf-8"))["outputs"]}
    assert "releases/2018-06-15-cnes-roscosmos.ru.pdf" not in listed


def test_one_edited_release_renders_only_its_own_parts(tmp_path):
    """Kits and newsletters are joined from cached parts: an edit re-renders its part."""
    root = tmp_path / "aurora"
    shutil.copytree(REPO / "tests/fixtures/aurora/sources", root / "sources")
    for source in (root / "sources/releases").rglob("*.md"):  # French is enough here
        if not source.name.endswith(".fr.md"):
            source.unlink()
    _edit(root / "sources/kits/salon-2026.yaml", "lang: [fr, en, ru]", "lang: fr")
    as_of = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    first = build(root, jobs=2, as_of=as_of)
    assert first.errors == [] and first.parts > len(first.parts_rendered) > 10
    # each release is laid out once, by its own output: the bundles take its pages
    assert not [name for name in first.parts_rendered if "sources/releases" in name]
    kit = root / "build/kits/salon-2026.fr.pdf"
    cold = kit.read_bytes()
    source = "sources/releases/2026/2026-03-04-aurora-budget-2026.fr.md"
    _edit(root / source, "a présenté mercredi", "a présenté ce mercredi")
    second = build(root, jobs=2, as_of=as_of)
    assert second.errors == []
    assert set(second.rendered_names) == {source, "sources/kits/salon-2026.yaml [fr]",
                                          "newsletter 2026-03 [fr]"}
    # the kit's 5 releases and the newsletter's 4, fronts, appendices, footers: 15 parts;
    # the edited release was laid out by its own build, and besides it only a front may
    # change (the newsletter quotes its lede)
    assert second.parts == 15
    assert set(second.parts_rendered) <= {"2026-03.fr.pdf: front", "salon-2026.fr.pdf: front"}
    assert "ce mercredi" in " ".join(page.extract_text() for page in PdfReader(str(kit)).pages)
    # joined again from cached parts only (the release's first part is still in the
    # cache; a comment in the kit's file makes the kit be joined again), the kit is
    # the same file as when it was joined from fresh parts
    _edit(root / source, "a présenté ce mercredi", "a présenté mercredi")
    kit_file = root / "sources/kits/salon-2026.yaml"
    kit_file.write_text(kit_file.read_text(encoding="utf-8") + "# seen\n", encoding="utf-8")
    third = build(root, jobs=2, as_of=as_of)
    assert "sources/kits/salon-2026.yaml [fr]" in third.rendered_names
    assert third.parts > 0 and third.parts_rendered == []
    assert kit.read_bytes() == cold


def _outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root / "build")): p.read_bytes()
            for p in sorted((root / "build").rglob("*"))
            if p.is_file() and ".cache" not in p.parts}


def test_parallel_and_serial_builds_are_byte_identical(warm, tmp_path):
    serial = tmp_path / "serial"
    shutil.copytree(REPO / "sources", serial / "sources")
    shutil.copytree(REPO / "layouts", serial / "layouts")
    build(serial, jobs=1)
    assert _outputs(serial) == _outputs(warm)  # the warm build ran on two processes


def _assert_manifest_true(root: Path) -> int:
    """Every entry of build/manifest.json is a file on disk with that sha256."""
    path = root / "build/manifest.json"
    if not path.exists():
        return 0
    entries = json.loads(path.read_text(encoding="utf-8"))["outputs"]  # valid JSON
    for entry in entries:
        data = (root / "build" / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
    return len(entries)


def test_interrupted_build_is_repaired(warm, tmp_path):
    """Killed (-9) twice (in a cold build, then while rewriting listed outputs),
    the build leaves whole PDFs and a manifest
    that matches them; the next build is byte-identical to a clean one."""
    root = tmp_path / "killed"
    shutil.copytree(REPO / "sources", root / "sources")
    shutil.copytree(REPO / "layouts", root / "layouts")
    code = f"from publisher.pipeline import build; build({str(root)!r}, jobs=2)"
    sources = sorted((root / "sources/releases").rglob("*.md"))
    originals = {path: path.read_text(encoding="utf-8") for path in sources}
    interrupted = []
    for trial, written_before_kill in enumerate((2, 2)):
        if trial == 1:  # every output is now rewritten over a listed one
            for path, text in originals.items():
                path.write_text(text + "\nUne phrase de plus.\n", encoding="utf-8")
        started = time.time_ns()
        process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
        deadline = time.monotonic() + 60

        def written(started=started):
            return [p for p in (root / "build").rglob("*.pdf") if p.stat().st_mtime_ns > started]

        while (len(written()) < written_before_kill and time.monotonic() < deadline
               and process.poll() is None):
            time.sleep(0.02)
        interrupted.append(process.poll() is None and len(written()) >= written_before_kill)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pdf in (root / "build").rglob("*.pdf"):  # whatever landed is whole
            PdfReader(str(pdf)).pages[0].extract_text()
        _assert_manifest_true(root)
    for path, text in originals.items():
        path.write_text(text, encoding="utf-8")
    result = build(root, jobs=1)
    assert result.ok
    assert _outputs(root) == _outputs(warm)
    assert _assert_manifest_true(root) == len(result.outputs)
    assert not list((root / "build").rglob(".*.publisher-tmp"))
    assert interrupted == [True, True]  # each kill came while the build was writing


def test_a_moved_project_reuses_its_whole_cache(warm, tmp_path):
    moved = tmp_path / "elsewhere" / "deeper" / "project"
    shutil.copytree(warm, moved)
    result = build(moved, jobs=1)
    assert result.ok
    assert result.rendered == 0 and result.parts_rendered == [], result.rendered_names
    assert result.reused == len(EVERYTHING)
    assert _outputs(moved) == _outputs(warm)


def test_watch_rebuilds_what_a_saved_file_affects(project):
    import threading

    from publisher.watch import watch

    builds, written = [], []

    def wrote(output, name, problems):
        if builds and output is not None:
            written.append(output.path.relative_to(project / "build").as_posix())

    thread = threading.Thread(target=watch, args=(project,), daemon=True, kwargs={
        "interval": 0.05, "max_builds": 2, "on_build": lambda r, s: builds.append(r),
        "on_output": wrote})
    thread.start()
    deadline = time.monotonic() + 30
    while not builds and time.monotonic() < deadline:
        time.sleep(0.05)
    assert builds and builds[0].rendered_names == []  # everything came from the cache
    _edit(project / RELEASE["ru"], "Жан-Ив Ле Галль", "Ж.-И. Ле Галль")
    thread.join(60)
    assert len(builds) == 2
    assert sorted(builds[1].rendered_names) == sorted([RELEASE["ru"], KIT["ru"], NEWS["ru"]])
    assert builds[1].rendered == 3 and builds[1].reused == len(EVERYTHING) - 3
    # the saved release's own PDF comes first, before the whole project is planned
    assert written[0] == f"releases/{SAMPLE_STEM}.ru.pdf", written
    assert written.index("kits/cnes-roscosmos-2018.ru.pdf") > 0


def test_noop_build_does_not_import_weasyprint(project):
    code = ("import sys\nfrom publisher.pipeline import build\n"
            f"result = build({str(project)!r}, jobs=1)\n"
            "print(result.rendered, result.reused, 'weasyprint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", str(len(EVERYTHING)), "False"]


def test_watch_names_what_it_rebuilt_and_what_failed(project):
    import selectors

    process = subprocess.Popen([sys.executable, "-m", "publisher", "watch", "--project",
                                str(project), "--interval", "0.05"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, bufsize=0, start_new_session=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines: list[str] = []
    pending = b""
    waiting = selectors.DefaultSelector()
    waiting.register(process.stdout, selectors.EVENT_READ)

    def until(words: str) -> None:  # never blocks past its deadline
        nonlocal pending
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not waiting.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            lines.extend(line.decode() + "\n" for line in complete)
            if any(words in line for line in lines[-len(complete):] if complete):
                return
        raise AssertionError("".join(lines))

    try:
        until(" failed in ")  # the first build
        _edit(project / RELEASE["fr"], "Jean-Yves Le Gall", "J.-Y. Le Gall")
        until(" failed in ")
        assert f"  rebuilt {RELEASE['fr']}\n" in lines
        site = project / "sources/site.yaml"
        site.write_text(site.read_text(encoding="utf-8") + "nom: x\n", encoding="utf-8")
        until(" failed in ")
        assert "  FAILED  sources/site.yaml\n" in lines
        assert lines[-1].split(" reused, ")[1].startswith("1 failed")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()


def test_dry_run_names_what_would_be_rendered_and_writes_nothing(project, tmp_path):
    from click.testing import CliRunner

    from publisher.commands.cli import main

    fresh = tmp_path / "fresh"
    shutil.copytree(project / "sources", fresh / "sources")
    run = CliRunner().invoke(main, ["build", "--project", str(fresh), "--dry-run"])
    assert run.exit_code == 0, run.output
    planned = {line.split("  ", 1)[1] for line in run.output.splitlines()
               if line.startswith("would render  ")}
    assert planned == EVERYTHING
    assert f"{len(EVERYTHING)} to render, 0 up to date, 0 failed" in run.output
    assert not (fresh / "build").exists()
    # on a built project: one edited release, and the bundles that hold it
    _edit(project / RELEASE["fr"], "Jean-Yves Le Gall", "J.-Y. Le Gall")
    before = {p: p.stat().st_mtime_ns for p in (project / "build").rglob("*") if p.is_file()}
    result = build(project, dry_run=True)
    assert set(result.planned) == {RELEASE["fr"], KIT["fr"], NEWS["fr"]}
    assert result.reused == len(EVERYTHING) - 3 and result.rendered == 0
    after = {p: p.stat().st_mtime_ns for p in (project / "build").rglob("*") if p.is_file()}
    assert after == before


def test_a_cached_file_damaged_without_a_trace_is_not_used(project):
    """An object of the cache is checked against its digest when it is used, so
    a damage that kept its size and time is still caught."""
    output = project / "build/releases" / f"{SAMPLE_STEM}.fr.pdf"
    good = output.read_bytes()
    cache = project / "build/.cache"
    [blob] = [p for p in cache.glob("objects/*/*.pdf") if p.read_bytes() == good]
    stat = blob.stat()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    blob.write_bytes(bytes(damaged))
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    output.unlink()  # so the build must take it from the cache
    result = build(project, jobs=1)
    assert result.errors == []
    assert RELEASE["fr"] in result.rendered_names  # rendered again, not copied
    assert output.read_bytes() == good


def test_an_output_changed_by_hand_is_written_again(project):
    """A no-op build trusts an output whose size and time are as it wrote them
    (kept in the cache, not in the manifest); an output changed since is
    checked, found different and written again from the cache."""
    output = project / "build/releases" / f"{SAMPLE_STEM}.fr.pdf"
    good = output.read_bytes()
    manifest = (project / "build/manifest.json").read_bytes()
    output.write_bytes(good + b"% changed by hand\n")
    result = build(project, jobs=1)
    assert result.errors == [] and result.rendered_names == []
    assert output.read_bytes() == good
    assert (project / "build/manifest.json").read_bytes() == manifest


def test_a_cold_build_guesses_a_front_s_length_from_the_fronts_before_it():
    """The contents' page numbers need the front's length: a cold build guesses it
    from the bundles already rendered, so that a front is seldom rendered twice."""
    from publisher.bundle import front_guess

    assert front_guess({}, 33, 1) == 1  # nothing seen: the layout's default
    assert front_guess({33: 8}, 33, 1) == 8
    assert front_guess({33: 8}, 30, 1) == 7  # in proportion to the nearest count
    assert front_guess({4: 2, 33: 8}, 5, 1) == 2
    assert front_guess({3: 1}, 1, 2) == 1
