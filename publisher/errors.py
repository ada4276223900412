"""Problems reported to people.

Every failure a user can cause is a :class:`Problem`: a location (file, line,
column) and a sentence that says what is wrong and how to fix it.  Stages raise
:class:`PublisherError` subclasses carrying one or more problems; the build
collects them per source and carries on with the other sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing that is wrong, where it is, and how to fix it."""

    file: str
    line: int | None
    message: str
    col: int | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


def has_errors(problems) -> bool:
    """True when any of ``problems`` is an error (warnings do not stop an output)."""
    return any(p.severity == "error" for p in problems)


class PublisherError(Exception):
    """Base class of every error publisher reports to its users."""

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(PublisherError):
    """site.yaml or contacts.yaml is wrong."""


class SourceError(PublisherError):
    """A release source is wrong (front matter, body, references)."""


class LayoutError(PublisherError):
    """A layout template, stylesheet or catalog is wrong."""


class RenderError(PublisherError):
    """WeasyPrint could not make the PDF."""


class UsageError(PublisherError):
    """The command line was wrong (exit status 2)."""


def display_path(path: Path | str, root: Path | None = None) -> str:
    """Path shown to users: relative to the project when inside it."""
    path = Path(path)
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
