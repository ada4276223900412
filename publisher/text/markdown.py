"""CommonMark bodies to HTML, with the language's typography on text only.

markdown-it-py parses the body (CommonMark plus tables and footnotes, raw HTML
off).  Typography is applied to text tokens only, so code spans, code blocks,
link targets and autolinked addresses keep their exact characters.  Images must
have alt text and point at a file inside the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from ..errors import Problem
from .typography import Typographer


@dataclass
class BodyResult:
    html: str
    problems: list[Problem] = field(default_factory=list)
    first_paragraph: str = ""


def parser(allow_html: bool = False) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False})
    md.enable("table")
    # every image reference is checked against the project's resource policy
    # (with a message), rather than silently dropped by markdown-it
    md.validateLink = _valid_link
    md.use(footnote_plugin)
    return md


def _valid_link(url: str) -> bool:
    return not url.strip().lower().startswith(("javascript:", "vbscript:"))


_PARSER = None


def _parser() -> MarkdownIt:
    global _PARSER
    if _PARSER is None:
        _PARSER = parser()
    return _PARSER


def render_body(
    body: str,
    typographer: Typographer,
    *,
    source: Path,
    shown: str,
    first_line: int,
    resolve_resource,
    doc_id: str | None = None,
) -> BodyResult:
    """Render ``body`` (which starts at ``first_line`` of ``source``) to HTML.

    ``resolve_resource(path, line)`` turns an image reference into a URL or
    returns a :class:`Problem`.
    """
    md = _parser()
    # footnote ids carry the document's id, so that releases gathered in one kit
    # or newsletter never share an anchor
    env: dict = {"docId": doc_id} if doc_id else {}
    tokens = md.parse(body, env)
    problems: list[Problem] = []
    lines = body.splitlines()
    first_paragraph = ""
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            # the title is the page's h1; body headings start at h2
            level = min(int(token.tag[1]) + 1, 6)
            token.tag = f"h{level}"
            if index + 2 < len(tokens):
                tokens[index + 2].tag = token.tag
        if token.type != "inline" or not token.children:
            continue
        _typeset_inline(token.children, typographer)
        for child in token.children:
            if child.type == "image":
                line = _line_of(child.attrGet("src") or "", lines, token.map, first_line)
                alt = "".join(c.content for c in child.children or [])
                if not alt.strip():
                    problems.append(Problem(
                        shown, line, f"image '{child.attrGet('src')}' has no alt text; "
                                     "describe it: ![what the image shows](file)"))
                result = resolve_resource(child.attrGet("src") or "", line)
                if isinstance(result, Problem):
                    problems.append(result)
                else:
                    child.attrSet("src", result)
        if not first_paragraph and index > 0 and tokens[index - 1].type == "paragraph_open":
            first_paragraph = "".join(
                c.content for c in token.children if c.type in ("text", "code_inline"))
    html = md.renderer.render(tokens, md.options, env)
    return BodyResult(html, problems, first_paragraph)


def _line_of(needle: str, lines: list[str], block_map, first_line: int) -> int:
    start, end = block_map if block_map else (0, len(lines))
    for offset in range(start, min(end, len(lines))):
        if needle and needle in lines[offset]:
            return first_line + offset
    return first_line + start


def _typeset_inline(children, typographer: Typographer) -> None:
    """Apply typography to the text tokens of one inline run."""
    texts = []
    in_autolink = 0
    for child in children:
        if child.type == "link_open" and child.markup == "autolink":
            in_autolink += 1
        elif child.type == "link_close" and in_autolink:
            in_autolink -= 1
        elif child.type == "text" and not in_autolink:
            texts.append(child)
        elif child.type in ("softbreak", "hardbreak"):
            texts.append(None)
        elif child.type == "image":
            _typeset_inline(child.children or [], typographer)
    # softbreaks split runs only as a space would: keep them in the sequence
    segments = [t.content if t is not None else " " for t in texts]
    out = typographer.apply(segments)
    for token, value in zip(texts, out, strict=True):
        if token is not None:
            token.content = value
