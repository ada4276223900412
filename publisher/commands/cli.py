"""The command line: each command parses its arguments and calls the library.

Exit status: 0 when everything built, 1 when any source failed, 2 for usage
errors.  Problems are printed as ``file:line: message``; a traceback only
with ``--debug``.  The library is loaded when a command runs (:func:`library`),
so that ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from typing import TYPE_CHECKING

import click

from ..defaults import DEFAULTS, PROFILES
from .terminal import help_width

if TYPE_CHECKING:  # pathlib and datetime are imported when a command runs, not for --help
    import datetime as dt
    from pathlib import Path


def library(name: str):
    """The library function ``module:function``, loaded when a command needs it."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(f"publisher.{module}"), function)


class _Path(click.Path):
    """A click path option that gives a :class:`pathlib.Path`."""

    def convert(self, value, param, ctx):
        from pathlib import Path

        return Path(super().convert(value, param, ctx))


def _here(project: Path | None) -> Path:
    """The project folder: the one given, or the current one; a usage error (exit 2)
    when it holds no project."""
    from pathlib import Path

    folder = project or Path(".")
    if not (folder / str(DEFAULTS["site_file"])).is_file():
        shown = "this folder" if project is None else f"'{folder}'"
        raise click.UsageError(
            f"{shown} is not a publisher project (it has no {DEFAULTS['site_file']}); run "
            "the command in a project folder, give --project DIR, or start one from the "
            "sample project")
    return folder


def _languages(codes) -> list[str]:
    """Language codes as Babel knows them; a usage error for any it does not."""
    if not codes:
        return []
    from babel import Locale, UnknownLocaleError

    known = []
    for code in codes:
        try:
            known.append(str(Locale.parse(code.replace("-", "_"))))
        except (UnknownLocaleError, ValueError):
            raise click.BadParameter(f"unknown language '{code}'; use a code such as fr, en, "
                                     "ru or pt_BR", param_hint="--lang") from None
    return known


def _parse_as_of(value: str | None) -> dt.datetime | None:
    """``--as-of``: a moment with its offset or time zone (never read as UTC unsaid)."""
    if value is None:
        return None
    from publisher.inputs.moments import BadMoment, read_moment

    try:
        return read_moment(value)
    except BadMoment as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None


class _Context:
    def __init__(self, debug: bool):
        self.debug = debug


_PROFILE = click.option("--profile", type=click.Choice(sorted(PROFILES)), default=None,
                        help="screen: tagged, accessible PDF (default); print: PDF/X-4 with "
                             "bleed and crop marks, written under build/print/.")
_AS_OF = click.option("--as-of", "as_of", default=None, metavar="DATETIME",
                      help="Reference time for embargoes (default: now).")
_JOBS = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="Render on this many processes (default: one per core).")
_PROJECT = click.option("--project", type=_Path(file_okay=False),
                        default=None, help="Project directory (default: the current one).")
_STRICT = click.option("--strict", is_flag=True, help="Treat warnings as failures.")
_LANGS = click.option("--lang", "langs", multiple=True,
                      help="Only the outputs in this language (repeatable; default: all).")


def _build_options(command):
    """The options every building command shares: project, time, profile, jobs, strict."""
    for option in reversed((_PROJECT, _AS_OF, _PROFILE, _JOBS, _STRICT)):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"],
                               "terminal_width": help_width()})
@click.version_option(package_name="publisher")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Markdown press releases to localised, accessible PDFs."""
    import logging

    ctx.obj = _Context(debug)
    logging.basicConfig(format="%(message)s",
                        level=logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


@main.command()
@click.argument("paths", nargs=-1, type=_Path())
@_build_options
@_LANGS
@click.option("--keep-orphans", is_flag=True,
              help="Keep outputs whose sources are gone (they still leave the manifest).")
@click.option("--dry-run", is_flag=True,
              help="Only say what would be rendered; render and write nothing.")
@click.pass_obj
def build(obj: _Context, paths, keep_orphans, langs, dry_run, **options) -> None:
    """Build every release, kit and newsletter (or only the given sources) into build/."""
    if dry_run:
        _dry_run(obj, list(paths) or None, _languages(langs) or None, **options)
        return
    _run(obj, library("pipeline:build"), list(paths) or None, keep_orphans=keep_orphans,
         langs=_languages(langs) or None, **options)


def _dry_run(obj: _Context, paths, langs, *, project, as_of, strict, profile, jobs) -> None:
    from publisher.errors import printable

    with _guard(obj.debug):
        result = library("pipeline:build")(_here(project), paths, as_of=_parse_as_of(as_of),
                                           profile=profile, jobs=jobs, langs=langs,
                                           dry_run=True)
    for name in result.planned:
        click.echo(f"would render  {printable(name)}")
    for problem in result.problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(result.planned)} to render, {result.reused} up to date, "
               f"{len(result.failed)} failed (a dry run: nothing was rendered or written)")
    if not result.ok or (strict and result.warnings):
        sys.exit(1)


@main.command()
@_PROJECT
@_AS_OF
@_PROFILE
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=DEFAULTS["watch_jobs"],
              show_default=True,
              help="Render on this many processes (one keeps the render state warm).")
@_LANGS
@click.option("--interval", default=DEFAULTS["watch_interval"], show_default=True,
              type=click.FloatRange(min=0.05),
              help="Seconds between looks, where the file system sends no change events.")
@click.pass_obj
def watch(obj: _Context, project, as_of, profile, jobs, langs, interval) -> None:
    """Rebuild whenever a source, layout or font changes (Ctrl-C to stop)."""
    click.echo("watching sources/, layouts/ and fonts/; Ctrl-C to stop")
    with _guard(obj.debug):
        try:
            library("watch:watch")(_here(project), interval=interval,
                                            as_of=_parse_as_of(as_of), profile=profile,
                                            jobs=jobs, langs=_languages(langs) or None,
                                            on_build=_rebuilt)
        except KeyboardInterrupt:
            click.echo("stopped")


def _rebuilt(result, seconds: float) -> None:
    """What a watching process says after each build."""
    from publisher.errors import printable

    for name in result.rendered_names:
        click.echo(f"  rebuilt {printable(name)}")
    for name in result.failed:
        click.echo(f"  FAILED  {printable(name)}", err=True)
    for problem in result.problems:
        click.echo(f"    {problem}", err=True)
    click.echo(f"{time.strftime('%H:%M:%S')} {result.rendered} rendered, "
               f"{result.reused} reused, {len(result.failed)} failed in {seconds:.2f} s")


@main.command()
@_PROJECT
@_AS_OF
@click.option("--host", default=DEFAULTS["serve_host"], show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", default=DEFAULTS["serve_port"], show_default=True,
              type=click.IntRange(min=0, max=65535), help="Port to listen on (0: any free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=DEFAULTS["watch_jobs"],
              show_default=True,
              help="Render on this many processes (one keeps the render state warm).")
@click.option("--public-ok", is_flag=True,
              help="Beyond this machine, show what is under embargo too.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (repeatable).")
@click.pass_obj
def serve(obj: _Context, project, as_of, host, port, open_browser, jobs, public_ok,
          allow_hosts) -> None:
    """Show every output in the browser, rebuilt and updated on every save
    (Ctrl-C to stop)."""
    def ready(url):
        click.echo(f"serving {url} ; watching sources/, layouts/ and fonts/; Ctrl-C to stop")

    with _guard(obj.debug):
        try:
            library("serving:serve")(_here(project), host=host, port=port,
                                            open_browser=open_browser,
                                            as_of=_parse_as_of(as_of), jobs=jobs,
                                            on_ready=ready, on_build=_rebuilt,
                                            public_ok=public_ok,
                                            allow_hosts=tuple(allow_hosts))
        except KeyboardInterrupt:  # Ctrl-C: the server has shut down and freed the port
            pass
    click.echo("stopped")


@main.command()
@_PROJECT
@click.option("--cache", "cache_only", is_flag=True,
              help="Only empty the render cache; keep the outputs.")
def clean(project, cache_only) -> None:
    """Remove the outputs, the manifest and the render cache from build/."""
    entries, files = library("pipeline:clean")(_here(project), cache_only=cache_only)
    click.echo(f"removed {entries} cached render{'s' if entries != 1 else ''}"
               + ("" if cache_only else f" and {files} output{'s' if files != 1 else ''}"))


@main.command()
@click.argument("slug")
@click.option("--lang", default=None, help="Only this language (default: all the kit's).")
@_build_options
@click.pass_obj
def kit(obj: _Context, slug, **options) -> None:
    """Build the press kit sources/kits/SLUG.yaml into build/kits/."""
    _run(obj, library("pipeline:build_kit"), slug, **options)


@main.command()
@click.argument("month", metavar="YYYY-MM")
@click.option("--lang", default=None, help="Only this language (default: all present).")
@_build_options
@click.pass_obj
def newsletter(obj: _Context, month, **options) -> None:
    """Build the newsletter of MONTH (PDF, e-mail HTML, text) into build/newsletters/."""
    _run(obj, library("pipeline:build_newsletter"), month, **options)


@main.command()
@click.argument("kind", type=click.Choice(["release", "kit", "newsletter"]))
@click.argument("name")
@click.option("--list", "list_name", default=None, metavar="LIST",
              help="Only the recipients on this list (default: everyone).")
@click.option("--dry-run", is_flag=True,
              help="Send nothing: write each message to build/outbox/ and say who gets what.")
@click.option("--public", is_flag=True,
              help="Refuse if anything in it is still under embargo at --as-of.")
@click.option("--resend", is_flag=True,
              help="Send a new version to those who had an earlier one.")
@_PROJECT
@_AS_OF
@_JOBS
@click.pass_obj
def send(obj: _Context, kind, name, list_name, dry_run, public, resend, project, as_of,
         jobs) -> None:
    """Send a release (its id), a kit (its slug) or a newsletter (YYYY-MM) to the
    recipients in sources/recipients.yaml, each once, in their language."""
    progress = _SendProgress(sys.stderr.isatty())
    with _guard(obj.debug):
        report = library("sending.send:send")(
            _here(project), kind, name, as_of=_parse_as_of(as_of), list_name=list_name,
            dry_run=dry_run, public=public, resend=resend, jobs=jobs,
            on_delivery=progress.delivery)
    progress.close()
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.mailing is None:  # the build failed: nothing to send
        sys.exit(1)
    summary = library("sending.send:summary")(report)
    if dry_run:
        for line in library("sending.send:plan_lines")(report):
            click.echo(line)
        click.echo(f"{summary}; the messages are in {_shown(report.outbox)}")
    else:
        for delivery in report.deliveries:
            if delivery.status in ("refused", "failed"):
                click.echo(f"FAILED {delivery.recipient.email}: {delivery.detail}", err=True)
        click.echo(summary, err=not report.ok)
    sys.exit(0 if report.ok else 1)


class _SendProgress:
    """One line per message sent; on a terminal, one line that counts."""

    def __init__(self, tty: bool):
        self.tty = tty
        self.shown = False

    def delivery(self, delivery, done: int, total: int) -> None:
        line = f"{delivery.status:<7} {delivery.recipient.email} ({delivery.edition.lang})"
        if self.tty:
            click.echo(f"\r\x1b[K[{done}/{total}] {line}"[:200], err=True, nl=False)
            self.shown = True
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


def _run(obj: _Context, action, *args, project, as_of, strict, **options) -> None:
    """Run a library build function with progress, print its summary, exit 0, 1 or 2."""
    reporter = _Reporter(sys.stdout.isatty())
    moment = _parse_as_of(as_of)
    with _guard(obj.debug):
        with reporter:
            result = action(_here(project), *args, as_of=moment,
                            on_output=reporter.output, on_plan=reporter.plan, **options)
    reporter.summary(result)
    if not result.ok or (strict and result.warnings):
        sys.exit(1)


@main.command(name="check")
@_PROJECT
@_AS_OF
@_PROFILE
@_STRICT
@click.option("--public", is_flag=True, help="Fail if anything is under embargo at --as-of.")
@click.option("--lang", "langs", multiple=True, help="Only these languages (repeatable).")
@click.option("--baseline", type=_Path(file_okay=False), default=None,
              help="Compare every page with the PNGs in this folder.")
@click.option("--update-baseline", is_flag=True, help="Rewrite the baseline pictures.")
@click.option("--junit", type=_Path(dir_okay=False), default=None,
              help="Also write the report as JUnit XML.")
@click.option("--format", "output_format", type=click.Choice(["text", "github", "json"]),
              default="text", show_default=True,
              help="github: workflow annotations; json: one object per line.")
@click.option("--ignore", "ignore", multiple=True, metavar="CODE",
              help="Do not report problems of this code (repeatable; see the README).")
@_JOBS
@click.pass_obj
def check_command(obj: _Context, project, as_of, profile, strict, public, langs, baseline,
                  update_baseline, junit, output_format, ignore, jobs) -> None:
    """Check sources and layouts before anything is sent (exit 1 on any failure)."""
    if update_baseline and baseline is None:
        raise click.UsageError("--update-baseline needs --baseline DIR")
    from publisher.errors import printable

    root = _here(project)
    langs = _languages(langs)
    tty = sys.stderr.isatty()
    if output_format == "text":
        click.echo("checking the sources, then every layout in every language…", err=True)

    said: set[str] = set()

    def progress(done: int, what: str) -> None:
        if output_format != "text":
            return
        if done == 0:
            click.echo(f"  {what}", err=True)
        elif tty:
            click.echo(f"\r\x1b[K  checked {done} · {what}"[:200], err=True, nl=False)
        elif what not in said:  # a log: one line per document (not per file it makes)
            said.add(what)
            click.echo(f"  checked {printable(what)}", err=True)

    with _guard(obj.debug):
        report = library("gate:check")(
            root, as_of=_parse_as_of(as_of), public=public, langs=langs or None,
            baseline=baseline, update_baseline=update_baseline, jobs=jobs, progress=progress,
            profile=profile, strict=strict, ignore=_codes(ignore))
    if tty and output_format == "text":
        click.echo("\r\x1b[K", err=True, nl=False)
    if junit:
        library("write:write")(junit, library("gate:junit_xml")(report).encode("utf-8"))
    if output_format == "github":
        for line in library("gate:github_annotations")(report, root):
            click.echo(line)
    elif output_format == "json":
        for line in library("gate:json_lines")(report):
            click.echo(line)
    else:
        _print_report(report, sys.stdout.isatty())
    sys.exit(0 if report.ok else 1)


def _codes(given) -> tuple[str, ...]:
    """``--ignore`` codes, each one the toolkit knows (a usage error otherwise)."""
    from publisher.codes import CODES

    codes = tuple(code.upper() for code in given)
    for code in codes:
        if code not in CODES:
            raise click.BadParameter(f"'{code}' is not the code of a problem; the README "
                                     "lists them", param_hint="--ignore")
    return codes


def _print_report(report, colour: bool) -> None:
    """Findings grouped by file, errors in red and warnings in yellow on a terminal."""
    from rich.console import Console

    console = Console(highlight=False, no_color=not colour, soft_wrap=True)
    by_file: dict[str, list] = {}
    for finding in report.findings:
        by_file.setdefault(finding.problem.file, []).append(finding)
    for file in sorted(by_file):
        console.print(f"[bold]{file}[/bold]", markup=True)
        for finding in sorted(by_file[file], key=lambda f: (f.problem.line or 0, f.check)):
            problem = finding.problem
            where = f"{problem.line}" if problem.line else "-"
            if problem.col:
                where += f":{problem.col}"
            style = "red" if problem.severity == "error" else "yellow"
            console.print(f"  {where:>7}  [{style}]{problem.severity:<7}[/{style}] "
                          f"[dim]{problem.code} {finding.check:<13}[/dim] ", end="", markup=True)
            count = f" (in {finding.count} documents)" if finding.count > 1 else ""
            console.print(problem.message + count, markup=False)
    console.print(library("gate:summary")(report))


@main.group()
def new() -> None:
    """Create a new source, ready to edit."""


@new.command("release")
@click.option("--lang", default=None, help="Language code (default: the site's).")
@click.option("--title", default=None, help="Headline of the release.")
@click.option("--translate", "original", type=_Path(dir_okay=False),
              default=None, help="Start the --lang version of this source instead.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Release date (default: today).")
@_PROJECT
@click.pass_obj
def new_release(obj: _Context, lang, title, original, date, project) -> None:
    """Write sources/releases/<year>/<date>-<slug>.<lang>.md."""
    if original is not None:
        if not lang:
            raise click.UsageError("--translate needs --lang")
        with _guard(obj.debug):
            path = library("scaffold:new_translation")(_here(project), source=original,
                                                           lang=lang)
        click.echo(f"created {path}")
        return
    if not title:
        raise click.UsageError("give --title (or --translate SOURCE --lang LANG)")

    import datetime as dt

    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise click.BadParameter(f"{date!r} is not a date; write YYYY-MM-DD",
                                 param_hint="--date") from None
    with _guard(obj.debug):
        path = library("scaffold:new_release")(_here(project), title=title, lang=lang, date=day)
    click.echo(f"created {path}")


@main.command()
@click.option("--lang", "langs", multiple=True,
              help="Also create a catalog for this language (repeatable).")
@_PROJECT
@click.pass_obj
def catalogs(obj: _Context, langs, project) -> None:
    """Extract layout strings and update every language's .po catalog."""
    root = _here(project).resolve()
    layouts = root / str(DEFAULTS["layouts_dir"])
    wanted = _languages(langs)  # a code Babel knows, never a path
    with _guard(obj.debug):
        languages = library("inputs.catalogs:languages")
        todo = library("inputs.catalogs:update")(
            layouts, sorted(set(languages([layouts])) | set(wanted)))
    for lang, missing in todo.items():
        state = f"{len(missing)} to translate" if missing else "complete"
        click.echo(f"layouts/locale/{lang}/LC_MESSAGES/messages.po: {state}")


@main.command()
@click.argument("pdf", type=_Path(dir_okay=False))
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1),
              help="Page number, from 1.")
@click.option("--width", default=900, show_default=True, type=click.IntRange(16, 10_000),
              help="Width of the image in pixels.")
@click.option("--output", type=_Path(dir_okay=False), required=True,
              help="PNG file to write.")
@click.option("--project", type=_Path(file_okay=False), default=None,
              help="Read a relative PDF path from this project's folder (e.g. "
                   "build/releases/NAME.pdf).")
@click.pass_obj
def preview(obj: _Context, pdf, page, width, output, project) -> None:
    """Rasterise one page of a PDF to PNG (for READMEs, e-mails, reviews)."""
    if project is not None and not pdf.is_absolute():
        pdf = _here(project) / pdf
    if not pdf.is_file():
        raise click.BadParameter(f"no file '{pdf}'; give a PDF that publisher built, such "
                                 "as build/releases/NAME.pdf", param_hint="PDF")
    with _guard(obj.debug):
        library("pdf.preview:preview")(pdf, output, page=page, width=width)
    click.echo(f"wrote {output}")


class _guard:
    """Turn PublisherError into file:line messages and exit 1 (2 for usage)."""

    def __init__(self, debug: bool):
        self.debug = debug

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        errors = importlib.import_module("publisher.errors")
        if exc is None or not isinstance(exc, Exception) or self.debug:
            return False
        if isinstance(exc, click.ClickException):  # click says it (usage errors: exit 2)
            return False
        if isinstance(exc, errors.PublisherError):
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(2 if isinstance(exc, errors.UsageError) else 1)
        if isinstance(exc, importlib.import_module("publisher.write").RefusedWrite):
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        click.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for details)",
                   err=True)
        sys.exit(1)


class _Reporter:
    """Progress on a terminal (rich), one line per output otherwise."""

    def __init__(self, tty: bool):
        self.tty = tty
        self.progress = None
        self.total = 0
        self.reported = False  # whether any output was reported (with its problems)
        self.finished: set[str] | None = None  # what was rendered, once planning is done

    def plan(self, to_render: int, reused: int) -> None:
        self.total, self.finished = to_render, set()
        if self.progress:
            self.progress.update(self.task, description=f"rendering 0/{to_render}")

    def __enter__(self):
        if self.tty:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                     transient=True)
            self.progress.start()
            self.task = self.progress.add_task("building…", total=None)
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()
        return False

    def output(self, output, source, problems) -> None:
        self.reported = True
        from publisher.errors import printable

        if output is None:
            line = f"FAILED {printable(source)}"
        else:
            pages = f"  ({output.pages} p.)" if output.pages else ""
            line = f"built  {_shown(output.path)}{pages}"
        if self.progress:
            from rich.markup import escape

            self.progress.console.print(line, markup=False, highlight=False)
            if self.finished is not None:
                self.finished.add(source)
                self.progress.update(self.task, description=escape(
                    f"rendering {len(self.finished)}/{self.total} · done: {printable(source)}"))
        else:
            click.echo(line)
        for problem in problems:
            click.echo(f"  {problem}", err=True)

    def summary(self, result) -> None:
        if not self.reported:  # site.yaml or contacts.yaml: no output was even tried
            for problem in result.problems:
                click.echo(str(problem), err=True)
        for note in result.notes:
            click.echo(f"note: {note}")
        built, failed = len(result.outputs), len(result.failed)
        warnings = len(result.warnings)
        message = f"{built} built, {failed} failed"
        if warnings:
            message += f", {warnings} warning{'s' if warnings != 1 else ''}"
        message += (f" ({result.rendered} document{'s' if result.rendered != 1 else ''} "
                    f"rendered, {result.reused} reused from the cache")
        if result.parts:
            message += (f"; kits and newsletters joined from {result.parts} parts, "
                        f"{len(result.parts_rendered)} of them rendered")
        click.echo(message + ")", err=not result.ok)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(_cwd()))
    except ValueError:
        return str(path)


@functools.cache
def _cwd() -> Path:
    """The working folder, resolved once (commands do not change it)."""
    from pathlib import Path

    return Path.cwd().resolve()
