"""``publisher check``: the gate a team puts in CI before anything is sent.

It loads every source against the schema, then renders every layout
(release, kit, newsletter PDF and e-mail) in every language present in the
sources or in a catalog, with the real sources plus a built-in stress release,
into a temporary folder: the project's ``build/`` is left alone.  Each
rendered document is inspected for what a reader would notice: overflowing
boxes, lost tags, fonts not embedded, too many pages.  Catalogs are compared
with the strings the templates use, translations with their originals, and,
on request, pages with a baseline of pictures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..codes import CHECK_OF, GATED
from ..errors import ConfigError, Problem, display_path
from ..inputs.catalogs import DOMAIN, extract
from ..inputs.catalogs import languages as catalog_languages
from ..inputs.fonts import coverage, describe, uncovered
from ..inputs.layouts import layout_dirs
from ..inputs.resources import RefusedResource, ResourcePolicy
from ..inputs.yamlfile import Located
from ..load import Kit, Project, load, load_release
from ..pdf.weasy import page_box
from ..pipeline import Build, BuildOptions, default_jobs

CHECKS = ("sources", "layouts", "glyphs", "overflow", "catalogs", "page-limit",
          "accessibility", "translations", "embargo", "visual")


@dataclass
class Finding:
    check: str
    problem: Problem
    count: int = 1  # documents that had it (a layout mistake is in every one)


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    checked: list[tuple[str, str]] = field(default_factory=list)  # (check, item) that ran
    seconds: float = 0.0
    diff_images: list[Path] = field(default_factory=list)
    rendered: int = 0  # documents rendered (the others came from the cache)
    reused: int = 0
    strict: bool = False  # warnings fail too
    ignore: frozenset[str] = frozenset()  # codes not reported (--ignore, check.ignore)
    ignored: int = 0  # findings left out for their code

    def add(self, check: str, problems, count: int = 1) -> None:
        """Add ``problems``; one already found only counts one more document."""
        for problem in problems:
            if problem.code in self.ignore:
                self.ignored += 1
                continue
            for finding in self.findings:
                if finding.problem == problem:
                    finding.count += count
                    break
            else:
                self.findings.append(Finding(check, problem, count))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.problem.severity == "error"]

    @property
    def ok(self) -> bool:
        return not (self.findings if self.strict else self.errors)


def check(project: Path | str = ".", *, as_of: dt.datetime | None = None, public: bool = False,
          langs: list[str] | None = None, baseline: Path | None = None,
          update_baseline: bool = False, jobs: int | None = None,
          progress: Callable[[int, str], None] | None = None, profile: str | None = None,
          strict: bool = False, ignore: tuple[str, ...] = ()) -> CheckReport:
    """Run every check on ``project``; see the module docstring.

    ``progress(done, what)`` is called as documents are checked.  ``profile``
    renders with that profile instead of the project's; with ``strict``,
    warnings fail the check too.  Findings whose code is in ``ignore``, or in
    site.yaml's ``check: {ignore: […]}``, are left out (and counted).
    """
    started = time.perf_counter()
    report = CheckReport(strict=strict, ignore=frozenset(ignore))
    root = Path(project).resolve()
    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    try:
        loaded = load(root)
    except ConfigError as exc:
        report.add("sources", exc.problems)
        report.seconds = time.perf_counter() - started
        return report
    report.ignore |= frozenset((loaded.site.get("check") or {}).get("ignore") or ())
    for release in loaded.releases:  # its problems come with its render below
        report.checked.append(("sources", release.file))
    for kit in loaded.kits:
        report.checked.append(("sources", kit.file))
        report.add("sources", kit.problems)
    stale = stale_translations(loaded)
    report.add("translations", stale)
    report.add("translations", language_problems(
        loaded, {p.file for p in stale if p.code == "G008"}))
    if public:
        report.add("embargo", under_embargo(loaded, as_of))
    with tempfile.TemporaryDirectory(prefix="publisher-check-") as scratch:
        scratch = Path(scratch)
        outputs: list[Path] = []
        stressed = with_stress_sources(loaded, scratch, langs)
        # the build's cache, with entries of its own: they carry the inspections' findings
        options = BuildOptions(as_of=as_of, profile=profile, jobs=jobs,
                               build_dir=scratch / "build",
                               key_salt="check", inspect=Inspector(loaded),
                               extra_roots=(scratch / "stress",))

        from_cache: list[str] = []  # said after the plan's own line

        def record(output, name, problems):
            report.checked.append(("layouts", name))
            if progress and from_cache is not None:
                from_cache.append(name)
            elif progress:
                progress(len(report.checked), name)
            if output is not None and not name.startswith("("):
                outputs.append(output.path)

        made = Build(stressed, options, on_output=record)
        planned = made.plan(False)
        if progress:
            progress(0, f"{len(planned)} documents to render, "
                        f"{made.result.reused} from the cache")
            for done, name in enumerate(from_cache, start=len(report.checked)
                                        - len(from_cache) + 1):
                progress(done, name)
        from_cache = None
        made.execute(planned, jobs or default_jobs())
        for problem in made.result.problems:  # each once, with how many documents had it
            if problem.file.startswith("(") and problem.code == "K001":
                continue  # a stress kit holds the real releases: their errors are said
            report.add(_kind(problem), [gate(problem)], made.result.affected.get(problem, 1))
        report.rendered, report.reused = made.result.rendered, made.result.reused
        report.add("catalogs", catalog_problems(made.layout_dirs, root, made.fontset))
        if baseline is not None:
            report.diff_images = compare_baseline(
                made.build_dir, outputs, Path(baseline), root, report,
                update=update_baseline)
    report.seconds = time.perf_counter() - started
    return report


# --- rendering every layout in every language ------------------------------------------


def languages(loaded: Project, layout_dirs) -> list[str]:
    present = {r.lang for r in loaded.releases if r.lang}
    return sorted(present | set(catalog_languages(layout_dirs)))


def with_stress_sources(loaded: Project, scratch: Path, only) -> Project:
    """``loaded`` plus a stress release (two: embargoed and public) and a stress kit
    in every language; ``loaded`` itself is left as it is."""
    # one stress release under embargo (its notice in the release and kit layouts),
    # one without (newsletters leave embargoed releases out)
    dates = sorted(r.meta["date"] for r in loaded.releases if r.meta.get("date"))
    day = dates[-1] if dates else dt.date(2000, 1, 1)
    folder = scratch / "stress"
    policy = ResourcePolicy([folder])
    releases, kits = [], []
    for lang in only or languages(loaded, layout_dirs(loaded.root)):
        ids = []
        for variant, embargo in (("stress-test", True), ("stress-test-public", False)):
            path = folder / f"{day.isoformat()}-publisher-{variant}.{lang}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(stress_source(lang, day, loaded, embargo), encoding="utf-8")
            stress = load_release(path, loaded.root, policy)
            stress.file = f"(stress release{'' if embargo else ', public'}, {lang})"
            releases.append(stress)
            ids.append(stress.id)
        ids += sorted({r.id for r in loaded.releases if r.lang == lang and r.id not in ids})
        kit = Kit(path=path, file=f"(stress kit, {lang})", slug=f"stress-kit-{lang}",
                  located=Located({}, f"(stress kit, {lang})"))
        kit.meta = {"title": {"*": "Stress test"}, "subtitle": {"*": stress_words()},
                    "lang": [lang], "date": day, "intro": {"*": stress_paragraph()},
                    "releases": {"ids": ids}, "contacts_appendix": True, "attachments": [],
                    "cover": None, "profile": None}
        kits.append(kit)
    return loaded.with_sources(releases, kits)


def gate(problem: Problem) -> Problem:
    """A problem as the gate sees it: a CSS declaration WeasyPrint ignores or does
    not support, or placeholder text left in a source, is a warning for a build,
    an error for ``check``."""
    if problem.severity == "warning" and problem.code in GATED:
        return dataclasses.replace(problem, severity="error")
    return problem


def _kind(problem: Problem) -> str:
    return CHECK_OF.get(problem.code, "sources")


LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen"


def stress_words() -> str:
    return ("Ἀρχιμήδης · Произведение · Ünïcödé · " + LONG_WORD)


def stress_paragraph() -> str:
    return ("Latin àéîõüçœæß, Greek Αλφάβητο καί ἀρχή, Cyrillic Щедрость, ёж и «кавычки». "
            "Every shipped script: [報道関係者各位、プレスリリースです。]{lang=ja} "
            "[新闻稿：卫星发射成功。]{lang=zh} [新聞稿：衛星發射成功。]{lang=zh_Hant} "
            "[보도자료: 위성 발사 성공.]{lang=ko} [بيان صحفي: نجاح إطلاق القمر 2022.]{lang=ar} "
            "[הודעה לעיתונות: השיגור הצליח.]{lang=he} "
            "A long address: https://www.example.org/a/very/long/path/that/does/not/break/"
            "easily/because/it/has/no/spaces/at/all/index.html and mail "
            "very.long.name.of.a.press.officer@communication.example.org.")


def stress_source(lang: str, day: dt.date, loaded, embargo: bool = True) -> str:
    """A release with every front-matter field, long words, every script, a wide table.

    The project's own contacts are in it for the languages the project publishes
    in (a role missing in another language is nobody's problem yet)."""
    published = {r.lang.split("_")[0] for r in loaded.releases if r.lang}
    contacts = list(loaded.contacts)[:4] if lang.split("_")[0] in published else []
    inline = [f'{{name: "Стресс Тестов {n}", role: "Press officer", '
              f'phone: "+33 1 44 76 75 {30 + n}", email: "stress{n}@example.org"}}'
              for n in range(6)]
    refs = ", ".join(contacts + inline)
    table = "| " + " | ".join(f"Column {n}" for n in range(9)) + " |\n"
    table += "|" + "---|" * 9 + "\n"
    table += "| " + " | ".join(f"{LONG_WORD[:12 + n]}" for n in range(9)) + " |\n"
    return f"""---
title: "{LONG_WORD} {LONG_WORD} — a very long title that goes on and on across lines"
subtitle: "{stress_words()}"
date: {day.isoformat()}
lang: "{lang}"
dateline: "Saint-Rémy-de-Provence"
contacts: [{refs}]
tags: [stress, layout]
{'embargo: "2099-01-01T10:00:00+02:00"' if embargo else ""}
figures:
  - {{label: "Budget", value: 1500000, unit: EUR}}
  - {{label: "Share", value: 12.5, unit: "%"}}
  - {{label: "Distance", value: 384400, unit: km}}
---

{stress_paragraph()}

## {stress_words()}

{table}
Footnote reference[^1] and `code with -- "quotes"`.

[^1]: {stress_paragraph()}
"""


# --- inspecting what was rendered ------------------------------------------------------


class Inspector:
    """Called after every render (in the worker that rendered it): overflow,
    accessibility, page limit.  A kit or newsletter is inspected part by part
    for overflow (``target`` None), then whole for the rest."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.page_limit = loaded.site.get("page_limit")

    def __call__(self, target: Path, rendered, file: str) -> list[Problem]:
        problems = []
        if rendered.document is not None:
            problems += overflow_problems(rendered.document, file)
        if target is None:
            return problems  # one part of a kit or newsletter: the whole is inspected later
        problems += accessibility_problems(rendered.pdf, file)
        if (self.page_limit and target.parent.name == "releases"
                and rendered.pages > int(self.page_limit)):
            located = self.loaded.site_located
            problems.append(Problem(file, None, f"page limit: {rendered.pages} pages, more "
                                    f"than the {int(self.page_limit)} that site.yaml's "
                                    "page_limit allows; shorten the release"
                                    + (f" (limit set at sources/site.yaml:"
                                       f"{located.line('page_limit')})" if located else ""),
                                           code="G001"))
        return problems


def _describe(box) -> str:
    element = getattr(box, "element", None)
    tag = getattr(box, "element_tag", None) or "box"
    classes = element.get("class") if element is not None else None
    name = f"<{tag}{' class=' + repr(classes) if classes else ''}>"
    text = ""
    if element is not None:
        text = " ".join("".join(element.itertext()).split())[:40]
    return f"{name} {text!r}" if text else name


def overflow_problems(document, file: str, tolerance: float = 1.0) -> list[Problem]:
    """Boxes whose content runs outside the page's content area or their own box."""
    from weasyprint.formatting_structure import boxes

    problems: list[Problem] = []
    for number, page in enumerate(document.pages, start=1):
        root_box = page_box(page)
        right = root_box.content_box_x() + root_box.width
        reported: set[int] = set()

        def report(block, past: float, what: str, number=number, reported=reported) -> None:
            key = id(getattr(block, "element", None) or block)
            if key not in reported:
                reported.add(key)
                problems.append(Problem(file, None, f"overflow on page {number}: "
                                        f"{_describe(block)} {what} by {past:.1f} mm; "
                                        "let it wrap (overflow-wrap: anywhere) or shorten it",
                                            code="G002"))

        def walk(box, limit: float, block, right=right) -> None:
            if isinstance(box, boxes.MarginBox):
                return
            if isinstance(box, boxes.TextBox):
                end = box.position_x + box.width
                if end > min(limit, right) + tolerance:
                    report(block, (end - min(limit, right)) * 25.4 / 96, "runs past its box")
                return
            if not isinstance(box, boxes.InlineLevelBox) and hasattr(box, "margin_width"):
                if box.style["position"] not in ("absolute", "fixed"):
                    end = box.position_x + box.margin_width()
                    if end > right + tolerance:
                        report(box, (end - right) * 25.4 / 96,
                               "runs past the page's content area")
                        return
                if getattr(box, "element", None) is not None:
                    block = box
                limit = box.content_box_x() + box.width
            for child in getattr(box, "children", None) or []:
                walk(child, limit, block)

        for child in root_box.children:
            walk(child, right, root_box)
    return problems


def accessibility_problems(pdf: bytes, file: str) -> list[Problem]:
    """What a screen reader or an archive needs, read back from the PDF."""
    import io

    import pikepdf

    problems = []

    def lost(what: str) -> None:
        problems.append(Problem(file, None, f"accessibility: {what}", code="G003"))

    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root
        xmp = root.Metadata.read_bytes() if "/Metadata" in root else b""
        if b"GTS_PDFXVersion" in xmp:
            return []  # the print edition is for the press, not for readers
        if "/StructTreeRoot" not in root:
            lost("the PDF has no structure tree (tags); keep the screen profile's pdf/ua-1")
        if not str(root.get("/Lang", "")):
            lost("the PDF has no /Lang; give <html> a lang attribute")
        if not str(document.docinfo.get("/Title", "")):
            lost("the PDF has no title; give the layout a <title>")
        if not bool((root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle", False)):
            lost("the title is not shown as the window title (DisplayDocTitle)")
        for page_number, page in enumerate(document.pages, start=1):
            fonts = (page.obj.get("/Resources") or {}).get("/Font") or {}
            for _name, font in fonts.items():
                descriptor = font.get("/FontDescriptor")
                if descriptor is None and "/DescendantFonts" in font:
                    descriptor = font.DescendantFonts[0].get("/FontDescriptor")
                descriptor = descriptor if descriptor is not None else {}
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    lost(f"font {font.get('/BaseFont')} on page {page_number} is not embedded")
        if "/StructTreeRoot" in root:
            for alt in _figures(root.StructTreeRoot, set()):
                if not alt:
                    lost("an image has no alternative text; give every <img> an alt")
    for finding in pdfua_findings(pdf):
        lost(f"pdfua {finding}")
    return problems


# pdfua 0.1.3's UA-14-001 (empty headings) raises on a heading whose /K is an array
# (getattr(pikepdf.Array, "is_integer") raises ValueError, not AttributeError): it
# is not evaluated, and the project's own check of headings stands in for it
CHECKER_CRASHES = {"UA-14-001"}


def pdfua_findings(pdf: bytes) -> list[str]:
    """What the independent checker ``pdfua`` finds in a tagged PDF (its findings,
    and its rules that could not run, but for the crashes named above)."""
    import os

    from pdfua import validate

    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as handle:
        handle.write(pdf)
    try:
        report = validate(handle.name)
    finally:
        os.unlink(handle.name)
    found = [f"{f.rule_id}: {f.message}" for f in report.findings]
    found += [f"{o.rule_id} not evaluated: {o.skipped_reason}" for o in report.outcomes
              if o.skipped and o.rule_id not in CHECKER_CRASHES]
    return found


def _figures(node, seen: set):
    import pikepdf

    if not isinstance(node, pikepdf.Dictionary) or (node.is_indirect and node.objgen in seen):
        return
    if node.is_indirect:
        seen.add(node.objgen)
    if node.get("/S") == "/Figure":
        yield str(node.get("/Alt", "")).strip()
    kids = node.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        yield from _figures(kid, seen)


# --- catalogs, translations, embargo ---------------------------------------------------


def catalog_problems(layout_dirs: list[Path], root: Path, fontset) -> list[Problem]:
    """Strings the templates use but a catalog lacks, and entries no template uses."""
    from babel.messages.pofile import read_po

    problems = []
    covered = coverage(fontset)
    used: dict[str, tuple[str, int]] = {}  # catalogs apply to the templates of every folder
    for folder in reversed(layout_dirs):
        for file, line, message in extract(folder):
            used.setdefault(message, (file, line))
    for folder in layout_dirs:
        for path in sorted((folder / "locale").glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            lang = path.parent.parent.name
            shown = display_path(path, root)
            with path.open("rb") as handle:
                catalog = read_po(handle)
            entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
            for message, (file, line) in sorted(used.items()):
                entry = entries.get(message)
                if entry is None or not entry.string:
                    problems.append(Problem(
                        shown, entry.lineno if entry else None,
                        f"catalog: '{message}' (used in {file}:{line}) has no {lang} "
                        "translation; add its msgstr", code="G004"))
            for message, entry in sorted(entries.items()):
                if message not in used:
                    problems.append(Problem(
                        shown, entry.lineno, f"catalog: '{message}' is used by no template; "
                                             "remove it (publisher catalogs does)", code="G004"))
                elif entry.string:
                    text = entry.string if isinstance(entry.string, str) else entry.string[0]
                    missing = uncovered(text, covered)
                    if missing:
                        problems.append(Problem(shown, entry.lineno,
                                                f"no shipped font has {describe(missing)}",
                                                    code="T004"))
    return problems


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stale_translations(loaded) -> list[Problem]:
    problems = []
    for release in loaded.releases:
        origin = (release.meta or {}).get("translated_from")
        if not origin:
            continue
        original = release.path.parent / origin["file"]
        line = release.located.line("translated_from") if release.located else None
        try:
            ResourcePolicy([loaded.root]).check_path(original, "source", origin["file"])
        except RefusedResource as exc:
            problems.append(Problem(release.file, line, f"translated_from: {exc}", code="G005"))
            continue
        if not original.is_file():
            problems.append(Problem(release.file, line, f"translated_from: "
                                    f"'{origin['file']}' does not exist beside this file",
                                        code="G005"))
        elif _body(original) == release.body.strip():
            problems.append(Problem(release.file, release.body_line, "not translated yet: "
                                    f"the body is still {origin['file']}'s; translate it",
                                        code="G008"))
        elif content_hash(original) != origin["sha256"]:
            problems.append(Problem(release.file, line, f"stale translation: "
                                    f"{origin['file']} changed after this translation was made; "
                                    "update the translation, then its translated_from.sha256 "
                                    f"to {content_hash(original)}", code="G005"))
    return problems


# languages a statistical identifier tells apart poorly: one is not taken for the other
_CLOSE = [{"hr", "sr", "bs"}, {"da", "no", "nb", "nn"}, {"ms", "id"}, {"cs", "sk"},
          {"zh", "zh_hant"}]
_MARKUP = re.compile(r"\[\^?[^\]]*\]|\(\S*\)|https?://\S+|www\.\S+|\S+@\S+|[#*_>|`~]+"
                     r"|^\s*[-+]\s|\d+")


@functools.lru_cache(maxsize=1)
def _identifier():
    """py3langid's model (read-only; reading it takes a second or two, once)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_problems(loaded, skip: set[str]) -> list[Problem]:
    """Releases whose body is not written in the language they are labelled with
    (a translation left in its original's language, a French text named .en.md)."""
    problems = []
    for release in loaded.releases:
        if release.file in skip or not release.lang or not release.body:
            continue
        text = " ".join(_MARKUP.sub(" ", release.body[:4000]).split())
        if len(text.split()) < 40:
            continue  # too short to tell
        found, probability = _identifier().classify(text)
        labelled = release.lang.split("_")[0]
        if found == labelled or probability < 0.95 or any(
                {found, labelled} <= group for group in _CLOSE):
            continue
        from babel import Locale

        def name(code: str) -> str:
            try:
                return Locale.parse(code).get_display_name("en")
            except (ValueError, LookupError):
                return code

        leading = len(release.body) - len(release.body.lstrip("\n"))
        problems.append(Problem(
            release.file, release.body_line + leading,
            f"the body reads as {name(found)} ({found}), not {name(labelled)} as the file "
            f"says; translate it, or fix the file's language", code="G005"))
    return problems


def _body(path: Path) -> str | None:
    from ..load import split_front_matter

    split = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
    return split[1].strip() if split else None


def under_embargo(loaded, as_of: dt.datetime) -> list[Problem]:
    problems = []
    for release in loaded.releases:
        embargo = (release.meta or {}).get("embargo")
        if embargo and embargo > as_of:
            problems.append(Problem(
                release.file, release.located.line("embargo"),
                f"embargo: under embargo until {embargo.isoformat()}, later than "
                f"{as_of.isoformat()}; it must not be distributed yet", code="G006"))
    return problems


# --- visual regression -----------------------------------------------------------------


def compare_baseline(build_dir: Path, outputs: list[Path], baseline: Path, root: Path,
                     report: CheckReport, *, update: bool, dpi: int = 40,
                     tolerance: float = 0.002) -> list[Path]:
    """Compare every page with baseline PNGs; write diff images for the pages that moved."""
    from PIL import Image, ImageChops

    from ..pdf.pdfium import opened

    diffs = []
    diff_dir = root / "build" / "check-diff"
    for output in sorted(outputs):
        if output.suffix != ".pdf":
            continue
        relative = output.relative_to(build_dir).with_suffix("")
        with opened(str(output)) as document:
            images = [document[index].render(scale=dpi / 72).to_pil().convert("RGB")
                      for index in range(len(document))]
        for index, image in enumerate(images):
            name = f"{relative.as_posix().replace('/', '--')}-p{index + 1}.png"
            expected_path = baseline / name
            report.checked.append(("visual", name))
            if update:
                expected_path.parent.mkdir(parents=True, exist_ok=True)
                image.save(expected_path)
                continue
            if not expected_path.exists():
                report.add("visual", [Problem(display_path(expected_path, root), None,
                           "visual: no baseline picture for this page; run with "
                           "--update-baseline to record it", code="G007")])
                continue
            expected = Image.open(expected_path).convert("RGB")
            if expected.size != image.size:
                changed = 1.0
                difference = None
            else:
                difference = ImageChops.difference(expected, image)
                mask = difference.convert("L").point(lambda v: 255 if v > 32 else 0)
                changed = mask.histogram()[255] / (image.size[0] * image.size[1])
            if changed > tolerance:
                diff_dir.mkdir(parents=True, exist_ok=True)
                diff_path = diff_dir / name
                shown = difference or image
                Image.merge("RGB", [shown.convert("L").point(lambda v: 255 - v)] * 3).save(
                    diff_path)
                diffs.append(diff_path)
                report.add("visual", [Problem(
                    display_path(expected_path, root), None,
                    f"visual: page {index + 1} of {relative.as_posix()}.pdf changed "
                    f"({changed:.1%} of pixels); see {display_path(diff_path, root)}",
                        code="G007")])
    return diffs


# --- reports ---------------------------------------------------------------------------


def junit_xml(report: CheckReport) -> str:
    """The report as JUnit XML: one test case per check and file, failures inside."""
    from xml.etree.ElementTree import Element, SubElement, tostring

    cases: dict[tuple[str, str], list[Finding]] = {}
    for check_name, item in report.checked:
        cases.setdefault((check_name, item), [])
    for finding in report.findings:
        cases.setdefault((finding.check, finding.problem.file), []).append(finding)
    failures = sum(1 for found in cases.values()
                   if any(f.problem.severity == "error" for f in found))
    suites = Element("testsuites", name="publisher check", tests=str(len(cases)),
                     failures=str(failures), errors="0", time=f"{report.seconds:.3f}")
    suite = SubElement(suites, "testsuite", name="publisher check", tests=str(len(cases)),
                       failures=str(failures), errors="0", skipped="0",
                       time=f"{report.seconds:.3f}")
    for (check_name, item), found in sorted(cases.items()):
        case = SubElement(suite, "testcase", classname=f"publisher.{check_name}", name=item,
                          time="0")
        errors = [f for f in found if f.problem.severity == "error"]
        if errors:
            failure = SubElement(case, "failure", type=check_name,
                                 message=errors[0].problem.message[:200])
            failure.text = "\n".join(str(f.problem) for f in errors)
        warnings = [f for f in found if f.problem.severity == "warning"]
        if warnings:
            SubElement(case, "system-out").text = "\n".join(str(f.problem) for f in warnings)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(suites, encoding="unicode")


def _annotated_file(problem: Problem, root: Path) -> tuple[str | None, str]:
    """The project file an annotation can point at, and the message to show.

    A generated stress document is not a file: its problems point at the
    layout it was made with, when the project has that layout."""
    message = problem.message
    if problem.file.startswith("("):
        layout = "kit" if "kit" in problem.file else "release"
        message = f"{problem.file}: {message}"
        candidate = f"layouts/{layout}/{layout}.html"
        return (candidate if (root / candidate).is_file() else None), message
    if (root / problem.file).is_file():
        return problem.file, message
    return None, f"{problem.file}: {message}"


def github_annotations(report: CheckReport, root: Path | str = ".") -> list[str]:
    """GitHub Actions workflow commands: one per finding, then a summary notice."""

    def escape(value: str) -> str:
        return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(value: str) -> str:
        return escape(value).replace(",", "%2C").replace(":", "%3A")

    root = Path(root)
    lines = []
    for finding in report.findings:
        problem = finding.problem
        level = "error" if problem.severity == "error" else "warning"
        file, message = _annotated_file(problem, root)
        where = []
        if file:
            where.append(f"file={prop(file)}")
            if problem.line and not problem.file.startswith("("):
                where.append(f"line={problem.line}")
                if problem.col:
                    where.append(f"col={problem.col}")
        where.append(f"title={prop(f'publisher check {problem.code}: ' + finding.check)}")
        if finding.count > 1:
            message += f" (in {finding.count} documents)"
        lines.append(f"::{level} {','.join(where)}::{escape(message)}")
    lines.append(f"::notice title=publisher check::{escape(summary(report))}")
    return lines


def json_lines(report: CheckReport) -> list[str]:
    """One JSON object per finding (for other tools), then one for the summary."""
    import json

    lines = [json.dumps({"check": f.check, "code": f.problem.code, "file": f.problem.file,
                         "line": f.problem.line, "col": f.problem.col,
                         "severity": f.problem.severity, "message": f.problem.message,
                         "documents": f.count},
                        ensure_ascii=False) for f in report.findings]
    errors = len(report.errors)
    lines.append(json.dumps({"summary": summary(report), "errors": errors,
                             "warnings": len(report.findings) - errors, "ok": report.ok}))
    return lines


def summary(report: CheckReport) -> str:
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    checked = len({item for _check, item in report.checked})
    return (f"checked {checked} items in {report.seconds:.1f} s ({report.rendered} documents "
            f"rendered, {report.reused} from the cache): {errors} "
            f"error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
            + (" (--strict: warnings fail)" if report.strict and warnings else "")
            + (f"; {report.ignored} ignored by code" if report.ignored else ""))
