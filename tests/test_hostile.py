"""Hostile and broken input: nothing read from outside, nothing hangs, one bad
file costs one output.

Most cases are sources put side by side into one copy of the sample project
and built once, on the command line, as a user would: each bad source must
get its own ``file:line`` message while the good outputs are built and
unchanged.  The build runs under an audit hook that lists every file Python
opens, and a canary file outside the project is looked for in every output.
Cases that concern the whole project (a layout, site.yaml, the build folder)
have a build each.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_STEM, ProjectDir, french_only

CANARY = "CANARY-4f1d9 text of a file outside the project"
BAD_DIR = "sources/releases/2019"
GOOD = ["releases/2018-06-15-cnes-roscosmos.fr.pdf", "kits/cnes-roscosmos-2018.fr.pdf",
        "newsletters/2018-06.fr.pdf", "newsletters/2018-06.fr.html",
        "newsletters/2018-06.fr.txt"]

# Python's audit hook, installed before the command line runs: every path opened
_HOOK = """
import os, sys
if os.environ.get("OPEN_LOG"):
    _log = open(os.environ["OPEN_LOG"], "a", encoding="utf-8")
    def _hook(event, args):
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            _log.write(os.fsdecode(args[0]) + "\\n"); _log.flush()
    sys.addaudithook(_hook)
from publisher.commands.cli import main
sys.argv = ["publisher", *sys.argv[1:]]
main()
"""


@dataclass
class Run:
    root: Path
    code: int
    output: str
    opened: list[str]

    def lines(self) -> list[str]:
        return self.output.splitlines()


def _png(width: int, height: int, data: bytes | None = None) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = data if data is not None else zlib.compress(b"\0" * (width + 1) * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + \
        chunk(b"IEND", b"")


def _source(body: str = "Premier paragraphe.\n", title: str = "Titre", extra: str = "",
            date: str = "2019-01-10") -> str:
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n\n{body}"


def _run(root: Path, *args: str, timeout: int = 120, limit_file_size: int | None = None) -> Run:
    log = root.parent / f"{root.name}-opened.txt"
    # under a file-size limit the log itself could not be written
    env = dict(os.environ, OPEN_LOG="" if limit_file_size else str(log))

    def limits():
        if limit_file_size:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    done = subprocess.run([sys.executable, "-c", _HOOK, "build", "--project", str(root), *args],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          preexec_fn=limits)
    opened = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return Run(root, done.returncode, done.stdout + done.stderr, opened)


def _digests(root: Path) -> dict[str, str]:
    return {name: hashlib.sha256((root / "build" / name).read_bytes()).hexdigest()
            for name in GOOD if (root / "build" / name).exists()}


def _assert_contained(run: Run, outside: Path) -> None:
    """No traceback; nothing of the canary in any output; nothing outside opened."""
    assert "Traceback" not in run.output, run.output
    for path in (run.root / "build").rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
            if path.suffix == ".pdf" and ".cache" not in path.parts:
                assert CANARY not in _pdf_text(path), path
    fifo = str((run.root / "sources/images/fifo.png").resolve())
    for opened in run.opened:
        resolved = os.path.realpath(opened)
        assert not resolved.startswith(str(outside.resolve())), opened
        assert resolved not in ("/etc/passwd", "/etc/hostname", "/dev/zero", fifo), opened


def _pdf_text(path: Path) -> str:
    """What a reader of the PDF gets: its text, metadata and every decoded stream
    (attachments included; raw bytes hide them behind compression)."""
    import pikepdf
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    parts = [page.extract_text() for page in reader.pages]
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                parts.append(obj.read_bytes().decode("latin-1"))
    return "\n".join(parts)


@pytest.fixture(scope="session")
def outside(tmp_path_factory) -> Path:
    """A folder beside the projects, with a canary file and a release in it."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.txt").write_text(CANARY + "\n", encoding="utf-8")
    (folder / "secret.png").write_bytes(_png(2, 2) + CANARY.encode())
    (folder / "release.fr.md").write_text(_source(CANARY + "\n"), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def warm(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The French sample, built once: its cache and its good outputs."""
    root = tmp_path_factory.mktemp("warm-hostile") / "p"
    shutil.copytree(REPO / "sources", root / "sources")
    french_only(ProjectDir(root))
    run = _run(root)
    assert run.code == 0, run.output
    digests = _digests(root)
    assert sorted(digests) == sorted(GOOD)
    return root, digests


def _copy(warm, tmp_path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(warm[0], root, symlinks=True)
    return root


# --- many bad sources, one build -------------------------------------------------------

# name → (what the source holds, extra files it needs, the line and words of its message)
CASES: dict[str, tuple] = {}


def case(name, line, *words, files=None):
    def register(make):
        CASES[name] = (make, files or {}, line, words)
        return make
    return register


@case("symlink-to-outside", None, "outside the project")
def _(outside):
    return outside / "release.fr.md"  # the source itself is a link to it


@case("image-etc-passwd", 6, "'/etc/passwd' is outside the project")
def _(outside):
    return _source("![Une image](/etc/passwd)\n")


@case("image-dev-zero", 6, "'/dev/zero' is outside the project")
def _(outside):
    return _source("![Une image](/dev/zero)\n")


@case("image-escapes-by-dots", 6, "is outside the project")
def _(outside):
    return _source(f"![Une image](../../../../{outside.name}/secret.png)\n")


@case("image-link-inside-to-outside", 6, "is outside the project",
      files={"sources/images/inside.png": "link:secret.png"})
def _(outside):
    return _source("![Une image](../../images/inside.png)\n")


@case("image-fifo", 6, "is not a regular file", files={"sources/images/fifo.png": "fifo"})
def _(outside):
    return _source("![Une image](../../images/fifo.png)\n")


@case("image-corrupt-png", 6, "cannot be read as an image",
      files={"sources/images/corrupt.png": b"\x89PNG\r\n\x1a\nbroken"})
def _(outside):
    return _source("![Une image](../../images/corrupt.png)\n")


@case("image-text-named-png", 6, "cannot be read as an image",
      files={"sources/images/text.png": b"just some text\n"})
def _(outside):
    return _source("![Une image](../../images/text.png)\n")


@case("image-decompression-bomb", 6, "megapixels allowed", "image_megapixels",
      files={"sources/images/bomb.png": _png(30000, 30000, zlib.compress(b"\0" * 1000))})
def _(outside):
    return _source("![Une image](../../images/bomb.png)\n")


@case("svg-refers-outside", None, "outside the project",
      files={"sources/images/inner.svg": "svg-outside"})
def _(outside):
    return _source("![Une image](../../images/inner.svg)\n")


@case("figure-huge-exponent", 5, "out of range")
def _(outside):
    return _source(extra="figures:\n  - {label: x, value: 1e999999999}\n")


@case("figure-tiny-exponent", 5, "out of range")
def _(outside):
    return _source(extra="figures:\n  - {label: x, value: 1e-999999}\n")


@case("figure-5000-digits", 5, "at most 30 digits")
def _(outside):
    return _source(extra="figures:\n  - {label: x, value: " + "9" * 5000 + "}\n")


@case("figure-nan", 5, "not a number")
def _(outside):
    return _source(extra="figures:\n  - {label: x, value: .nan}\n")


@case("figure-infinity", 5, "not a number")
def _(outside):
    return _source(extra="figures:\n  - {label: x, value: .inf}\n")


@case("date-year-one", 3, "a year before 1900")
def _(outside):
    return _source(date="0001-01-01")


@case("date-as-a-number", 3, "not an ISO 8601 date")
def _(outside):
    return _source(date="20190110.5")


@case("layout-that-does-not-exist", 4, "no layout 'nonexistent'", "layouts: ")
def _(outside):
    return _source(extra="layout: nonexistent\n")


@case("yaml-billion-laughs", None, "YAML")
def _(outside):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 10):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "---\ntitle: T\ndate: 2019-01-10\n" + "\n".join(lines) + "\ntags: *j\n---\nx\n"


@case("yaml-100000-tags", 2, "front_matter_chars")
def _(outside):
    return _source(extra="tags: [" + ",".join(f"t{i}" for i in range(100_000)) + "]\n")


@case("yaml-300-tags", 4, "300 items", "list_items")
def _(outside):
    return _source(extra="tags: [" + ",".join(f"t{i}" for i in range(300)) + "]\n")


@case("yaml-duplicate-key", 3, "'title' is given twice (first at line 2)")
def _(outside):
    return "---\ntitle: A\ntitle: B\ndate: 2019-01-10\n---\nTexte.\n"


@case("word-of-20000-characters", 6, "word_chars")
def _(outside):
    return _source("a" * 20_000 + "\n")


@case("table-cell-of-1000-words", 8, "cell_words")
def _(outside):
    return _source("| a | b |\n|---|---|\n| " + "mot " * 1000 + "| x |\n")


@case("table-continued-by-10-kb", 9, "cell_words")
def _(outside):
    return _source("| a | b |\n|---|---|\n| x | y |\n" + "suite du texte " * 700 + "\n")


@case("2000-footnotes", 6, "footnotes")
def _(outside):
    notes = "".join(f"Texte[^{i}].\n\n" for i in range(2000))
    return _source(notes + "".join(f"[^{i}]: note {i}\n" for i in range(2000)))


@case("paragraph-of-2-mb", 6, "body_chars")
def _(outside):
    return _source("mot " * 500_000 + "\n")


@case("source-over-10-mb", None, "more than the 10 MB allowed", "source_mb")
def _(outside):
    return _source("mot\n" * 2_700_000)


@case("link-javascript", 6, "'javascript:' scheme")
def _(outside):
    return _source("[clic](javascript:alert(1))\n")


@case("link-data-html", 6, "'data:' scheme")
def _(outside):
    return _source("[clic](data:text/html,<script>alert(1)</script>)\n")


@case("link-file", 6, "'file:' scheme")
def _(outside):
    return _source("[clic](file:///etc/passwd)\n")


@case("link-relative", 6, "is relative")
def _(outside):
    return _source("[le logo](../../images/cnes-mark.svg)\n")


@case("control-character", 2, "control character U+0005")
def _(outside):
    return _source(title="A\x05B")


@case("non-character-uffff", 2, "control character U+FFFF")
def _(outside):
    return _source(title="A\uffffB")


@case("nul-in-body", 6, "control character U+0000")
def _(outside):
    return _source("a\x00b\n")


@case("not-utf-8", 6, "not UTF-8 text")
def _(outside):
    return _source("Pr\xe9mier.\n").encode("latin-1")


@case("bidi-override-in-title", 2, "direction", "U+202E")
def _(outside):
    return _source(title="Accord\u202e sreyap")


@case("rtl-override-in-body", 6, "direction override U+202E")
def _(outside):
    return _source("Le contrat porte sur \u202e000 005 1 euros.\n")


@case("list-as-key", 4, "a list or a mapping as a key")
def _(outside):
    return _source(extra="? [a, b]\n: 1\n")


@case("line-end-in-file-name", 2, "expected text")
def _(outside):
    return _source(title="[1, 2]")


GOOD_CASES = {
    # a byte-order mark is accepted: the file builds
    "byte-order-mark": "\ufeff" + _source(),
    # digits glued to a letter: the phone-number pattern reads them in linear time
    "digits-glued-to-a-letter": _source(" ".join(["x" + "1" * 40 + "a"] * 20) + "\n"),
    # a map link of 600 characters is a link, not a word
    "long-link": _source("Le plan : <https://maps.example.org/place/"
                         + "/".join(["Centre+spatial+de+Toulouse"] * 22)
                         + "?entry=ttu&utm_source=press>.\n"),
}


def _write_files(root: Path, outside: Path, files: dict) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "fifo":
            os.mkfifo(path)
        elif content == "svg-outside":
            path.write_text(
                '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/'
                'xlink" width="10" height="10"><image xlink:href="'
                f'{(outside / "secret.png").as_uri()}" width="10" height="10"/></svg>',
                encoding="utf-8")
        elif isinstance(content, str) and content.startswith("link:"):
            os.symlink(outside / content[5:], path)
        else:
            path.write_bytes(content)


def _file_of(name: str) -> str:
    if name == "line-end-in-file-name":
        return f"{BAD_DIR}/2019-01-10-line\nend.fr.md"
    return f"{BAD_DIR}/2019-01-10-{name}.fr.md"


@pytest.fixture(scope="session")
def many(warm, outside, tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("many") / "p"
    shutil.copytree(warm[0], root, symlinks=True)
    for name, (make, files, _line, _words) in CASES.items():
        _write_files(root, outside, files)
        made = make(outside)
        path = root / _file_of(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(made, Path):
            os.symlink(made, path)
        else:
            (path.write_bytes if isinstance(made, bytes) else path.write_text)(made)
    for name, text in GOOD_CASES.items():
        (root / _file_of(name)).write_text(text, encoding="utf-8")
    # a kit whose cover and attachment are outside the project
    (root / "sources/kits/outside.yaml").write_text(
        "title: Dossier\nlang: fr\ndate: 2018-06-15\n"
        f"cover: ../../../{outside.name}/secret.png\n"
        "releases: [2018-06-15-cnes-roscosmos]\nattachments: [/etc/hostname]\n",
        encoding="utf-8")
    return _run(root)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_source_gets_its_own_message(many, name):
    _make, _files, line, words = CASES[name]
    file = _file_of(name).replace("\n", "\\n")
    where = f"{file}:{line}" if line else file
    mine = [text.strip() for text in many.lines() if text.strip().startswith(where + ":")]
    assert mine, f"no message for {where}:\n{many.output}"
    assert all(word in " ".join(mine) for word in words), mine
    assert f"FAILED {file}" in many.output


def test_bad_sources_cost_only_their_own_outputs(many, warm, outside):
    assert many.code == 1
    assert _digests(many.root) == warm[1]  # the good outputs: built, unchanged
    for name in GOOD_CASES:
        assert (many.root / "build/releases" / f"2019-01-10-{name}.fr.pdf").exists()
    assert "FAILED sources/releases/2018" not in many.output
    _assert_contained(many, outside)


def test_every_problem_is_one_line(many):
    # a file name with a line end is escaped; each failed output is named once
    failed = [line for line in many.lines() if line.startswith("FAILED ")]
    assert len(failed) == len(set(failed))
    assert "FAILED sources/releases/2019/2019-01-10-line\\nend.fr.md" in failed


def test_kit_resources_outside_are_refused(many):
    assert "sources/kits/outside.yaml:4:1: cover:" in many.output
    assert "sources/kits/outside.yaml:6:15: attachment: '/etc/hostname' is outside" \
        in many.output
    assert "FAILED sources/kits/outside.yaml [fr]" in many.output


def test_the_containment_checks_can_see(many):
    # a hook that saw nothing, or a reader that found no text, would let the
    # containment checks pass
    assert any(path.endswith("site.yaml") for path in many.opened)
    assert any(path.endswith(".md") for path in many.opened)
    assert "Roscosmos" in _pdf_text(many.root / "build" / GOOD[0])


# --- the whole project ---------------------------------------------------------------------


def _layout(root: Path, name: str, change) -> None:
    target = root / "layouts" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(change((REPO / "layouts" / name).read_text(encoding="utf-8")),
                      encoding="utf-8")


def test_templates_are_sandboxed(warm, outside, tmp_path):
    root = _copy(warm, tmp_path)
    _layout(root, "release/release.html", lambda html: html.replace(
        "<body", f"{{{{ release.__class__.__init__.__globals__ }}}}"
                 f"{{{{ lipsum.__globals__['os'].popen('cat {outside}/secret.txt').read() }}}}"
                 "<body", 1))
    run = _run(root)
    assert run.code == 1
    assert re.search(r"layouts/release/release\.html:\d+: ", run.output), run.output
    _assert_contained(run, outside)


def test_an_include_that_does_not_exist(warm, outside, tmp_path):
    root = _copy(warm, tmp_path)
    _layout(root, "release/release.html",
            lambda html: html.replace("</body>", "{% include 'nope.html' %}</body>"))
    run = _run(root)
    assert run.code == 1
    assert re.search(r"layouts/release/release\.html:\d+: template 'nope\.html' not found",
                     run.output), run.output
    assert "Traceback" not in run.output


def test_a_broken_logo_fails_every_document_once(warm, outside, tmp_path):
    root = _copy(warm, tmp_path)
    (root / "sources/images/cnes-mark.svg").write_text("<svg broken", encoding="utf-8")
    run = _run(root)
    assert run.code == 1
    said = [line for line in run.lines() if "sources/images/cnes-mark.svg: cannot be used" in line]
    assert len(said) == 1, run.output
    failed = [line for line in run.lines() if line.startswith("FAILED ")]
    assert len(failed) == 3, run.output  # the release, the kit, the newsletter


@pytest.mark.parametrize("key, value", [("website", "javascript:alert(1)"),
                                        ("email:\n  assets_url", "javascript:alert(1)"),
                                        ("allowed_hosts", "[https://example.org/x]")])
def test_urls_in_site_yaml_are_checked(warm, tmp_path, key, value):
    root = _copy(warm, tmp_path)
    site = root / "sources/site.yaml"
    text = site.read_text(encoding="utf-8")
    text = re.sub(r"^website: .*\n", "", text, flags=re.M) if key == "website" else text
    site.write_text(text + f"{key}: {value}\n", encoding="utf-8")
    run = _run(root)
    assert run.code == 1
    assert re.search(r"sources/site\.yaml:\d+(:\d+)?: '(website|assets_url|allowed_hosts)'",
                     run.output), run.output


def test_a_cache_index_of_the_wrong_shape_is_rendered_again(warm, tmp_path):
    root = _copy(warm, tmp_path)
    for index in (root / "build/.cache/actions").glob("*.json"):
        index.write_text('[1, 2]', encoding="utf-8")
    run = _run(root)
    assert run.code == 0, run.output
    assert _digests(root) == warm[1]


@pytest.mark.parametrize("ranges", [[[0, 2**40]], [["a", "b"]], [[5, 2]], [7], 7])
def test_a_cached_font_coverage_that_is_not_code_points_is_read_from_the_fonts(
        warm, tmp_path, ranges):
    """What the fonts cover is kept in the cache as runs of code points; a run
    that is not one (huge, reversed, not numbers) is neither trusted nor expanded."""
    root = _copy(warm, tmp_path)
    [entry] = [p for p in (root / "build/.cache/actions").glob("*.json")
               if '"ranges"' in p.read_text(encoding="utf-8")]
    good = json.loads(entry.read_text(encoding="utf-8"))
    entry.write_text(json.dumps({**good, "ranges": ranges}), encoding="utf-8")
    source = root / "sources/releases/2018" / f"{SAMPLE_STEM}.fr.md"
    source.write_text(source.read_text(encoding="utf-8") + "\nUne phrase de plus.\n",
                      encoding="utf-8")  # so that the release is localised again
    run = _run(root, timeout=60)
    assert run.code == 0, run.output
    assert json.loads(entry.read_text(encoding="utf-8"))["ranges"] == good["ranges"]


def test_a_build_folder_that_is_a_file(warm, tmp_path):
    root = _copy(warm, tmp_path)
    shutil.rmtree(root / "build")
    (root / "build").write_text("not a folder", encoding="utf-8")
    run = _run(root)
    assert run.code == 1
    said = [line for line in run.lines() if "could not be written" in line]
    assert said == ["  build/: could not be written (Not a directory); a file stands where "
                    "a folder should be; move it away [O001]"], run.output


def test_a_full_disk_keeps_the_previous_outputs_and_a_true_manifest(warm, tmp_path):
    root = _copy(warm, tmp_path)
    source = root / f"sources/releases/2018/{SAMPLE_STEM}.fr.md"
    source.write_text(source.read_text(encoding="utf-8") + "\nUne phrase de plus.\n",
                      encoding="utf-8")
    run = _run(root, "--jobs", "1", limit_file_size=20_000)  # every PDF is larger
    assert run.code == 1
    # said once per folder (the fonts' temporary files, or build/), plainly
    said = [line.strip() for line in run.lines() if "could not be written" in line]
    assert said and all(re.fullmatch(r"\S+/: could not be written \(File too large\); "
                                     r"the system refused a file this large; .*", line)
                        for line in said), run.output
    assert len(said) == len(set(said))
    assert "Traceback" not in run.output
    assert _digests(root) == warm[1]  # the previous outputs are all there, unchanged
    _assert_manifest_true(root)


def _assert_manifest_true(root: Path) -> None:
    manifest = json.loads((root / "build/manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["outputs"]:
        path = root / "build" / entry["path"]
        assert path.exists(), entry
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry


def test_every_weasyprint_message_is_reported_with_its_stylesheet(warm, tmp_path):
    root = _copy(warm, tmp_path)
    _layout(root, "release/release.css",
            lambda css: css + "\nh1 { colour: red; }\np { text-wibble: 2; }\n")
    run = _run(root)
    assert run.code == 0, run.output
    for name in ("colour", "text-wibble"):
        assert re.search(rf"layouts/release/release\.css:\d+:\d+: warning: .*{name}",
                         run.output), run.output
    # nothing printed raw, outside the toolkit's reporting
    assert not [line for line in run.lines() if line.startswith(("Ignored", "Failed"))]


def test_a_render_over_its_time_limit_fails_alone(warm, tmp_path):
    root = _copy(warm, tmp_path)
    site = root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "limits:\n  render_seconds: 0.01\n",
                    encoding="utf-8")
    run = _run(root, "--jobs", "1")
    assert run.code == 1
    assert (f"sources/releases/2018/{SAMPLE_STEM}.fr.md: laying it out took more than 0.01 s"
            in run.output), run.output
    assert "render_seconds" in run.output and "Traceback" not in run.output


def test_limits_in_site_yaml_are_checked(warm, tmp_path):
    root = _copy(warm, tmp_path)
    site = root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "limits:\n  body_char: 5\n",
                    encoding="utf-8")
    run = _run(root)
    assert run.code == 1
    assert re.search(r"sources/site\.yaml:\d+(:\d+)?: 'limits': unknown limit 'body_char'; "
                     r"did you mean 'body_chars'\?", run.output), run.output
