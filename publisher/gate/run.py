"""``publisher check``: load every source, render every layout in every language
with the stress sources into a scratch folder, inspect each document, compare
with a baseline on request."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..codes import CHECK_OF, GATED
from ..errors import ConfigError, Problem, display_path
from ..load import load
from ..pipeline import Build, BuildOptions, default_jobs
from .inspect import (
    Inspector,
    catalog_problems,
    language_problems,
    stale_translations,
    under_embargo,
)
from .report import CheckReport
from .stress import with_stress_sources


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
    report.ignore |= frozenset(loaded.site.ignore)
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
    with tempfile.TemporaryDirectory(prefix="publisher-check-") as folder:
        scratch = Path(folder)
        outputs: list[Path] = []
        stressed = with_stress_sources(loaded, scratch, langs)
        # the build's cache, with entries of its own: they carry the inspections' findings
        options = BuildOptions(as_of=as_of, profile=profile, jobs=jobs,
                               build_dir=scratch / "build",
                               key_salt="check", inspect=Inspector(loaded),
                               extra_roots=(scratch / "stress",))

        from_cache: list[str] = []  # said after the plan's own line
        planning = True  # read by record() when it is called

        def record(output, name, problems):
            report.checked.append(("layouts", name))
            if progress and planning:
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
        planning = False
        made.execute(planned, jobs or default_jobs())
        for problem in made.result.problems:  # each once, with how many documents had it
            if problem.file.startswith("(") and problem.code == "K001":
                continue  # a stress kit holds the real releases: their errors are said
            report.add(_kind(problem), [gate(problem)], made.result.affected.get(problem, 1))
        report.rendered, report.reused = made.result.rendered, made.result.reused
        report.add("catalogs", catalog_problems(made.workspace.layout_dirs, root,
                                                  made.workspace.fontset))
        if baseline is not None:
            report.diff_images = compare_baseline(
                made.workspace.build_dir, outputs, Path(baseline), root, report,
                update=update_baseline)
    report.seconds = time.perf_counter() - started
    return report


def gate(problem: Problem) -> Problem:
    """A problem as the gate sees it: a CSS declaration WeasyPrint ignores or does
    not support, or placeholder text left in a source, is a warning for a build,
    an error for ``check``."""
    if problem.severity == "warning" and problem.code in GATED:
        return dataclasses.replace(problem, severity="error")
    return problem


def _kind(problem: Problem) -> str:
    return CHECK_OF.get(problem.code, "sources")


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
