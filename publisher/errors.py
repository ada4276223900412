"""Problems reported to people.

Every failure a user can cause is a :class:`Problem`: a location (file, line,
column) and a sentence that says what is wrong and how to fix it.  Stages raise
:class:`PublisherError` subclasses carrying one or more problems; the build
collects them per source and carries on with the other sources.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing that is wrong, where it is, and how to fix it; ``code`` says which
    kind of problem it is (:mod:`publisher.codes`), for code and for people who
    silence one kind."""

    file: str
    line: int | None
    message: str
    col: int | None = None
    severity: str = "error"  # "error" or "warning"
    code: str = ""

    def __post_init__(self) -> None:
        from .codes import CODES

        if self.code not in CODES:
            raise ValueError(f"problem code {self.code!r} is not in publisher.codes")

    def __str__(self) -> str:
        where = printable(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message} [{self.code}]"


def printable(name: str) -> str:
    """``name`` (a file name may hold a line end or a control character) escaped,
    so that one message stays one line."""
    return "".join(c if c >= " " and c != "\x7f" else repr(c)[1:-1] for c in str(name))


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
        # as written first (a symbolic link inside the project is named as such),
        # then resolved (each only when needed: resolving costs system calls)
        for resolved in (False, True):
            candidate = path.resolve() if resolved else path.absolute()
            base = Path(root).resolve() if resolved else Path(root).absolute()
            try:
                return candidate.relative_to(base).as_posix()
            except ValueError:
                pass
    # the toolkit's own layouts and fonts, by their name in the toolkit
    for base in _TOOLKIT:
        try:
            return path.resolve().relative_to(base).as_posix()
        except ValueError:
            pass
    return str(path)


_PACKAGE = Path(__file__).resolve().parent
_TOOLKIT = [_PACKAGE / "_builtin", _PACKAGE.parent]


_OS_HINTS = {
    errno.ENOSPC: "free some disk space and build again",
    errno.EDQUOT: "free some disk space and build again",
    errno.EFBIG: "the system refused a file this large; check the disk's limits",
    errno.EACCES: "check that the build folder can be written",
    errno.EPERM: "check that the build folder can be written",
    errno.EROFS: "the disk is read-only; build onto another one",
    errno.ENOTDIR: "a file stands where a folder should be; move it away",
    errno.EEXIST: "a file stands where a folder should be; move it away",
}


def os_problem(exc: OSError, folder: str) -> Problem:
    """A system error while writing into ``folder`` (the build folder), said once
    for every output it stops, and plainly."""
    hint = _OS_HINTS.get(exc.errno or 0, "check the build folder and the disk")
    what = exc.strerror or str(exc)
    return Problem(folder, None, f"could not be written ({what}); {hint}", code="O001")
