"""What ``publisher check`` found, and the forms it is told in: text, JUnit XML,
GitHub workflow annotations, JSON lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem

CHECKS = ("sources", "layouts", "glyphs", "overflow", "typesetting", "catalogs",
          "page-limit", "accessibility", "translations", "embargo", "visual")


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
