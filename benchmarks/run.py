"""Measure publisher's build speed as ratios, in one run on one machine.

    python benchmarks/run.py            # full size: 200 releases x 2 languages
    python benchmarks/run.py --quick    # a size that finishes in under two minutes

Prints a table and writes build/bench.json with the keys overhead, speedup,
noop, one_edit, one_edit_vs_single, peak_mb, help_ratio, cold_vs_bare,
edit_release_vs_bare, edit_kit_vs_typst, plan_10k (and the scaling runs), and the
time from a save to the new page shown in ``publisher serve`` (serve_release_s,
serve_kit_s), which needs Chromium and chromium-driver (``make system-test``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402
from typst_twin import twin  # noqa: E402

PUBLISHER = [sys.executable, "-m", "publisher"]
TARGETS = {"overhead": ("<=", 1.10), "speedup": (">=", 0.9 * (os.cpu_count() or 1)),
           "noop": ("<=", 0.01), "one_edit": ("<=", 0.05), "one_edit_vs_single": ("<=", 3),
           "peak_mb": ("<=", 200), "help_ratio": ("<=", 3), "cold_vs_bare": ("<=", 1.3),
           "edit_release_vs_bare": ("<=", 1.3), "edit_kit_vs_typst": ("<=", 1.0),
           "plan_10k": ("<=", 10)}
AS_OF = ["--as-of", "2026-01-01T00:00:00Z"]


# as an installed toolkit runs: with its compiled bytecode (a machine that sets
# PYTHONDONTWRITEBYTECODE would otherwise compile every module at each start)
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "SOURCE_DATE_EPOCH": "0"}


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall time of a command in a fresh process, and its largest process's peak RSS (MB)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=ENV)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak


def cold_build(project: Path, jobs: int) -> tuple[float, float]:
    shutil.rmtree(project / "build", ignore_errors=True)
    return timed(PUBLISHER + ["build", "--project", str(project), "--jobs", str(jobs),
                              "--as-of", "2026-01-01T00:00:00Z"])


def overhead(work: Path, releases: int) -> float:
    """Toolkit time per release ÷ a bare WeasyPrint render of the same HTML, warm."""
    import weasyprint

    from publisher.actions import run
    from publisher.compose import compose, release_document
    from publisher.load import load
    from publisher.pipeline import Build, BuildOptions, ReleaseJob

    project = generate(work / "overhead", releases, ["en"])
    building = Build(load(project), BuildOptions(use_cache=False,
                                                 build_dir=work / "overhead-build"))
    made = building.workspace
    jobs = [job for job in building.plan(True) if isinstance(job, ReleaseJob)]
    run(made, jobs[0])  # warm up fonts, stylesheets and templates
    started = time.perf_counter()
    for job in jobs:
        building.folder.collect(job, run(made, job))  # made and written
    toolkit = (time.perf_counter() - started) / len(jobs)
    config = made.render_state().fonts.config
    composed = [compose(release_document(made.localise(job.release), made.page(made.profile()),
                                         "release"), made.layouts) for job in jobs]
    started = time.perf_counter()
    for item in composed:
        weasyprint.HTML(string=item.html, base_url=item.base_url).write_pdf(
            font_config=config, pdf_variant="pdf/ua-1")
    bare = (time.perf_counter() - started) / len(composed)
    return toolkit / bare


def bare_renders(project: Path) -> dict[str, float]:
    """Each release's final HTML rendered by WeasyPrint alone, warm: seconds by stem."""
    import weasyprint

    from publisher.compose import compose, release_document
    from publisher.load import load
    from publisher.pipeline import Build, BuildOptions

    made = Build(load(project), BuildOptions(use_cache=False,
                                             build_dir=project / "bare")).workspace
    config = made.render_state().fonts.config
    page = made.page(made.profile())
    documents = [(release.stem, compose(release_document(made.localise(i), page, "release"),
                                        made.layouts))
                 for i, release in enumerate(made.project.releases)]
    seconds = {}
    for number, (stem, item) in enumerate([documents[0], *documents]):  # the first: warm-up
        started = time.perf_counter()
        weasyprint.HTML(string=item.html, base_url=item.base_url).write_pdf(
            font_config=config, pdf_variant="pdf/ua-1")
        if number:
            seconds[stem] = time.perf_counter() - started
    return seconds


class Watch:
    """A ``publisher watch`` (or ``serve``) process, and the time from a save to a
    rewritten file."""

    def __init__(self, project: Path, command: str = "watch", *options: str):
        self.process = subprocess.Popen(
            PUBLISHER + [command, "--project", str(project), *AS_OF, *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        self.said = self.until(" failed in ")

    def until(self, words: str, seconds: float = 300) -> str:
        """What the process printed up to ``words``."""
        deadline, pending = time.monotonic() + seconds, b""
        while time.monotonic() < deadline:
            if self.selector.select(timeout=1):
                pending += os.read(self.process.stdout.fileno(), 65536)
                if words.encode() in pending:
                    return pending.decode(errors="replace")
        raise RuntimeError(f"publisher did not say {words!r}: {pending[-400:]!r}")

    def save(self, source: Path, outputs: list[Path]) -> list[float]:
        """Append a sentence to ``source``; seconds until each of ``outputs`` is new."""
        before = {path: path.stat().st_ino for path in outputs}
        text = source.read_text(encoding="utf-8") + "\nOne more sentence, saved.\n"
        started = time.perf_counter()
        source.write_text(text, encoding="utf-8")
        seen: dict[Path, float] = {}
        while len(seen) < len(outputs) and time.perf_counter() - started < 120:
            for path in outputs:
                if path not in seen and path.exists() and path.stat().st_ino != before[path]:
                    seen[path] = time.perf_counter() - started
            time.sleep(0.002)
        self.until(" failed in ")  # the whole rebuild done before the next save
        return [seen.get(path, float("inf")) for path in outputs]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def edits(project: Path, times: int = 5) -> dict:
    """Save one release that is in kit-0, ``times`` times, in a warm watch."""
    spec = (project / "sources/kits/kit-0.yaml").read_text(encoding="utf-8")
    rid = spec.split("releases: [", 1)[1].split(",", 1)[0].strip()
    source = project / f"sources/releases/{rid}.en.md"
    outputs = [project / f"build/releases/{rid}.en.pdf", project / "build/kits/kit-0.en.pdf"]
    watch = Watch(project)
    try:
        runs = [watch.save(source, outputs) for _ in range(times)]
    finally:
        watch.stop()
    bare = bare_renders(project)[f"{rid}.en"]
    # the Typst twin of the same kit, compiled from scratch in a fresh process
    folder = project / "typst"
    folder.mkdir(exist_ok=True)
    source_typ = twin(project, "kit-0", folder / "kit-0.typ")
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); "
            "from typst_twin import compile_twin; from pathlib import Path; "
            f"compile_twin(Path({str(source_typ)!r}), Path({str(folder / 'kit-0.pdf')!r}))")
    typst = statistics.median(timed([sys.executable, "-c", code])[0] for _ in range(5))
    to_release = statistics.median(run[0] for run in runs)
    to_kit = statistics.median(run[1] for run in runs)
    return {**served_edits(project, bare), "edit_release_s": to_release,
            "edit_kit_s": to_kit, "bare_release_s": bare,
            "typst_kit_s": typst, "edit_release_vs_bare": to_release / bare,
            "edit_kit_vs_typst": to_kit / typst}


SHOWN = """
    // the next time the page has swapped in pages of a new PDF, decoded, and
    // painted them: window.shown, in the page's clock
    const first = () => document.querySelector(".page img");
    window.before = first().getAttribute("src").split("/")[2];
    window.shown = null;
    if (!window.listening) {
      window.listening = true;
      document.addEventListener("publisher:updated", () => {
        const image = first();
        if (window.shown === null && image.getAttribute("src").split("/")[2] !== window.before
            && image.complete && image.naturalWidth > 0) {
          requestAnimationFrame(() => requestAnimationFrame(() => {
            window.shown = performance.now(); }));
        }
      });
    }
    return performance.now();
"""


def served_edits(project: Path, bare: float, times: int = 10) -> dict:
    """In ``publisher serve`` with the release's page (then its kit's) open in
    Chromium: a save → the new page image displayed, median of ``times``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    spec = (project / "sources/kits/kit-0.yaml").read_text(encoding="utf-8")
    rid = spec.split("releases: [", 1)[1].split(",", 1)[0].strip()
    source = project / f"sources/releases/{rid}.en.md"
    server = Watch(project, "serve", "--port", "0")
    url = server.said.split("serving ", 1)[1].split()[0]
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(
        executable_path=shutil.which("chromedriver") or "chromedriver"))
    found = {}
    try:
        for name, output in (("release", f"releases/{rid}.en.pdf"),
                             ("kit", "kits/kit-0.en.pdf")):
            driver.get(f"{url}output/{output}")
            driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                        "document.querySelector('.page img').decode()"
                                        ".then(done, done);")
            seconds = []
            for _ in range(times):
                text = source.read_text(encoding="utf-8") + "\nOne more sentence, saved.\n"
                saved = driver.execute_script(SHOWN)
                source.write_text(text, encoding="utf-8")
                deadline = time.monotonic() + 120
                shown = None
                while shown is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                    shown = driver.execute_script("return window.shown;")
                if shown is None:
                    raise RuntimeError(f"{output}: no new page shown 120 s after a save; "
                                       f"the page says: {driver.page_source[:2000]}")
                seconds.append((shown - saved) / 1000)
                server.until(" failed in ")  # the whole rebuild done before the next save
            found[f"serve_{name}_s"] = statistics.median(seconds)
    finally:
        driver.quit()
        server.stop()
    found["serve_release_vs_bare"] = found["serve_release_s"] / bare
    return found


def plans(work: Path, sizes: list[int]) -> list[dict]:
    """``publisher build --dry-run`` on N releases x 2 languages, 12 months (24 newsletters)."""
    rows = []
    for n in sizes:
        project = generate(work / f"plan-{n}", n, ["en", "fr"], months=12)
        seconds, _ = timed(PUBLISHER + ["build", "--project", str(project), "--dry-run",
                                        *AS_OF])
        rows.append({"releases": n, "seconds": seconds, "per_release": seconds / n})
        shutil.rmtree(project)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    size = 20 if arguments.quick else 200
    sizes = [10, 20] if arguments.quick else [25, 50, 100, 200]
    cores = os.cpu_count() or 1
    results: dict = {"releases": size, "languages": 2, "cores": cores}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        results["overhead"] = overhead(work, 10 if arguments.quick else 30)
        project = generate(work / "project", size, ["en", "fr"])
        serial, _ = cold_build(project, 1)
        parallel, peak = cold_build(project, cores)
        results["cold_serial_s"], results["cold_parallel_s"] = serial, parallel
        results["speedup"] = serial / parallel
        results["peak_mb"] = peak
        noop, _ = timed(PUBLISHER + ["build", "--project", str(project),
                                     "--as-of", "2026-01-01T00:00:00Z"])
        results["noop"] = noop / parallel
        source = sorted((project / "sources/releases").glob("*.en.md"))[size // 2]
        source.write_text(source.read_text() + "\nOne more sentence.\n")
        edit, _ = timed(PUBLISHER + ["build", "--project", str(project),
                                     "--as-of", "2026-01-01T00:00:00Z"])
        results["one_edit"] = edit / parallel
        results["one_edit_s"] = edit
        # what joining kits and newsletters from parts costs in file size
        newsletters = list((project / "build/newsletters").glob("*.pdf"))
        results["newsletter_pdf_kb"] = sum(p.stat().st_size for p in newsletters) / max(
            1, len(newsletters)) / 1024
        single = generate(work / "single", 1, ["en"], kits=0)
        alone, _ = timed(PUBLISHER + ["build", "--project", str(single), "--jobs", "1",
                                      "--as-of", "2026-01-01T00:00:00Z"])
        results["single_release_s"] = alone
        results["one_edit_vs_single"] = edit / alone
        # start-up times are a few tens of milliseconds: the fastest of 15 runs of
        # each, so that another process waking up does not decide the ratio
        bare = min(timed([sys.executable, "-c", "pass"])[0] for _ in range(15))
        help_time = min(timed(PUBLISHER + ["--help"])[0] for _ in range(15))
        results["help_ratio"] = help_time / bare
        # the cold build on one process ÷ WeasyPrint alone on each release's HTML
        bare = bare_renders(project)
        results["bare_sum_s"] = sum(bare.values())
        results["cold_vs_bare"] = serial / results["bare_sum_s"]
        results.update(edits(project))
        results["plans"] = plans(work, [100, 500, 1000] if arguments.quick
                                 else [1000, 5000, 10000])
        results["plan_10k"] = results["plans"][-1]["seconds"]
        per = [row["per_release"] for row in results["plans"]]
        results["plan_spread"] = max(per) / min(per) - 1
        results["scaling"] = []
        for n in sizes:
            grown = generate(work / f"scale-{n}", n, ["en", "fr"])
            seconds, _ = cold_build(grown, cores)
            results["scaling"].append({"releases": n, "seconds": seconds,
                                       "per_release": seconds / (2 * n)})
    print_table(results)
    out = ROOT / "build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def print_table(results: dict) -> None:
    print(f"{results['releases']} releases x 2 languages + 4 kits + newsletters, "
          f"{results['cores']} cores")
    print(f"{'ratio':<20}{'value':>10}  {'target':<10}{'met':>5}")
    for key, (sense, target) in TARGETS.items():
        value = results[key]
        met = value <= target if sense == "<=" else value >= target
        print(f"{key:<20}{value:>10.3f}  {sense} {target:<7g}{'yes' if met else 'NO':>5}")
    print(f"cold build {results['cold_serial_s']:.1f} s on 1 process, "
          f"{results['cold_parallel_s']:.1f} s on {results['cores']}; one edit "
          f"{results['one_edit_s']:.2f} s; newsletter PDF {results['newsletter_pdf_kb']:.0f} KB "
          "on average")
    print(f"edit a release in a warm watch: {results['edit_release_s']:.2f} s to its PDF "
          f"(WeasyPrint alone: {results['bare_release_s']:.2f} s), "
          f"{results['edit_kit_s']:.2f} s to its kit (Typst twin from scratch: "
          f"{results['typst_kit_s']:.2f} s)")
    print(f"in publisher serve, a save to the new page shown in Chromium: "
          f"{results['serve_release_s']:.2f} s for the release, "
          f"{results['serve_kit_s']:.2f} s for its kit (median of 10)")
    print(f"\n{'releases':>10}{'dry run s':>12}{'ms per release':>16}  "
          f"(spread {100 * results['plan_spread']:.0f} %)")
    for row in results["plans"]:
        print(f"{row['releases']:>10}{row['seconds']:>12.2f}{1000 * row['per_release']:>16.2f}")
    print(f"\n{'releases':>10}{'cold build s':>14}{'s per document':>16}")
    for row in results["scaling"]:
        bar = "#" * max(1, round(row["per_release"] * 40))
        print(f"{row['releases']:>10}{row['seconds']:>14.2f}{row['per_release']:>16.3f}  {bar}")


if __name__ == "__main__":
    main()
