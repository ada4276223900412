"""Where a web address in running text may break, and the invisible marks that
say so.

A long address breaks after ``/``, ``?``, ``&`` or ``=`` when more follows, never
inside its scheme and host's first part (``https://host``).  The PDF gets a
zero-width space at each such place (a word joiner after the scheme's slashes);
the e-mail edition and summaries drop them again, so that an address copied
from either comes whole.
"""

from __future__ import annotations

import re

# where a long address may break: after / ? & = when more follows, never in its
# scheme (https://) or right after it
_BREAK_AFTER = re.compile(r"(?<=[/?&=])(?=[^/?&=])")
SCHEME = re.compile(r"^[A-Za-z][\w+.-]*://[^/]*")


def breaking(address: str) -> list[str]:
    """``address`` cut where a line may break inside it (see :data:`_BREAK_AFTER`)."""
    start = SCHEME.match(address)
    keep = start.end() if start else 0
    pieces, last = [], 0
    for found in _BREAK_AFTER.finditer(address, keep + 1):
        pieces.append(address[last:found.start()])
        last = found.start()
    pieces.append(address[last:])
    return [piece for piece in pieces if piece]


# and a language's rules (publisher.text.typography): word joiners, soft hyphens
# (before a compound's hyphen, which a name's span may stand between)
_BREAK_HINTS = re.compile("(?<=[/?&=])\u200b|(?<=&amp;)\u200b|\u2060|\u00ad")


def without_break_hints(html: str) -> str:
    """``html`` without the invisible characters the body's text has in web addresses
    for the PDF's line breaker: an e-mail client breaks addresses itself, and a
    reader who copies one must get it whole."""
    return _BREAK_HINTS.sub("", html)


