"""Which characters a source may hold, and where the first bad one is.

Every file the toolkit reads as text goes through :func:`decode`: UTF-8, with
a leading byte-order mark accepted, and any byte sequence that is not UTF-8
reported at the line and column of its first bad byte.  :func:`control_problems`
finds characters that have no place in a press release (C0 and C1 control
characters other than tab and line ends, NUL, the non-characters U+FFFE and
U+FFFF) and the direction overrides and embeddings (:data:`OVERRIDES`), which
print text in another order than it is written; :data:`BIDI_CONTROLS` are
refused in titles and metadata, where even the marks could make a title read
differently from what it says.
"""

from __future__ import annotations

import re

from ..errors import Problem

BOM = "\ufeff"

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# embeddings and overrides reorder what follows them: refused everywhere (the marks
# and isolates that mixed right-to-left text uses are refused in titles only)
OVERRIDES = re.compile("[\u202a-\u202e]")


class NotText(Exception):
    """Bytes that are not UTF-8 text; :attr:`problem` says where."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def decode(data: bytes, shown: str) -> str:
    """``data`` as text; a byte-order mark is dropped."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise NotText(Problem(
            shown, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} {exc.reason}); "
                         "save the file as UTF-8", col=col, code="T001")) from None
    return text[1:] if text.startswith(BOM) else text


def position(text: str, index: int, first_line: int = 1) -> tuple[int, int]:
    """The line (counted from ``first_line``) and 1-based column of ``text[index]``."""
    line = text.count("\n", 0, index) + first_line
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def control_problems(text: str, shown: str, first_line: int = 1) -> list[Problem]:
    """One problem for the first control character of ``text``, naming how many more,
    and one for the first direction override or embedding."""
    problems = []
    found = list(CONTROL.finditer(text))
    if found:
        first = found[0]
        line, col = position(text, first.start(), first_line)
        more = f" (and {len(found) - 1} more in the file)" if len(found) > 1 else ""
        problems.append(Problem(shown, line, f"control character {codepoint(first.group())}"
                                             f"{more} has no place in a release; remove it",
                                col=col, code="T002"))
    override = OVERRIDES.search(text)
    if override:
        line, col = position(text, override.start(), first_line)
        problems.append(Problem(shown, line, f"the invisible direction override "
                                             f"{codepoint(override.group())} would print the "
                                             "text after it in another order than it is "
                                             "written; remove it (the direction of Arabic or "
                                             "Hebrew text comes from the language)", col=col,
                                code="T003"))
    return problems


def bidi_message(value: str) -> str | None:
    """Why ``value`` may not be a title or a metadata value, or None."""
    match = BIDI_CONTROLS.search(value)
    if match is None:
        return None
    return (f"holds the invisible direction control {codepoint(match.group())}, which can "
            "make it read differently from what it says; remove it (the direction of "
            "Arabic or Hebrew text comes from the language)")
