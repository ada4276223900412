"""No more than two hyphenated lines in a row.

WeasyPrint hyphenates line by line and has no ``hyphenate-limit-lines``; after
a document is laid out, :func:`ladders` finds every word hyphenated at the end
of a third (or later) consecutive hyphenated line, and :func:`unhyphenated`
marks those words in the HTML so that the next layout keeps them whole.
"""

from __future__ import annotations

import re

from ..pdf.weasy import page_box

_TAG = re.compile(r"(<[^>]*>)")
_EDGE = re.compile(r"^\W+|\W+$")


def _line_text(line) -> str:
    from weasyprint.formatting_structure import boxes

    parts = []

    def walk(box):
        if isinstance(box, boxes.TextBox):
            parts.append(box.text)
        for child in getattr(box, "children", None) or []:
            walk(child)

    walk(line)
    return "".join(parts)


def _hyphen(line) -> str:
    return str(line.style["hyphenate_character"] or "\u2010")


def ladders(document, most: int = 2) -> list[str]:
    """Words hyphenated at the end of a line that follows ``most`` hyphenated lines."""
    from weasyprint.formatting_structure import boxes

    words: list[str] = []

    def visit(box):
        children = getattr(box, "children", None) or []
        run = 0
        for index, child in enumerate(children):
            if not isinstance(child, boxes.LineBox):
                run = 0
                visit(child)
                continue
            text = _line_text(child).rstrip()
            hyphen = _hyphen(child)
            if not text.endswith(hyphen) or text.endswith(f" {hyphen}"):
                run = 0
                continue
            run += 1
            following = children[index + 1] if index + 1 < len(children) else None
            if run > most and isinstance(following, boxes.LineBox):
                head = _EDGE.sub("", text[:-len(hyphen)].split()[-1])
                rest = _line_text(following).split()
                tail = _EDGE.sub("", rest[0]) if rest else ""
                if head and tail:
                    words.append(head + tail)
                    run = 0  # the next layout starts a new run from this line

    for page in document.pages:
        visit(page_box(page))
    return list(dict.fromkeys(words))


def unhyphenated(html: str, words: list[str]) -> str:
    """``html`` with ``words`` (in its text, not its tags) never hyphenated."""
    pattern = re.compile(r"(?<![\w\u00ad])(" + "|".join(
        re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w\u00ad])")
    pieces = _TAG.split(html)
    in_style = False
    for index, piece in enumerate(pieces):
        if index % 2:  # a tag
            lowered = piece.lower()
            in_style = lowered.startswith(("<style", "<script")) or (
                in_style and not lowered.startswith(("</style", "</script")))
            continue
        if not in_style:
            pieces[index] = pattern.sub(r'<span style="hyphens: manual">\1</span>', piece)
    return "".join(pieces)
