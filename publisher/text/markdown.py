"""CommonMark bodies to HTML, with the language's typography on text only.

markdown-it-py parses the body (CommonMark plus tables and footnotes, raw HTML
off).  Typography is applied to text tokens only, so code spans, code blocks,
link targets and autolinked addresses keep their exact characters.  Images must
have alt text and point at a file inside the project; links may only go to
the web (http, https), to an address (mailto, tel) or to an anchor of the
document.  A body is bounded (its length, its longest word, the words of a
table cell, its footnotes, its nesting), so that no source can hang a build:
past a limit it is refused with the limit's name.

Words a typesetter never hyphenates are marked for the layouts: addresses
(URLs, e-mail) and words that begin with a capital (names) in
``<span class="nh">``, phone numbers in ``<span class="nobr">``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from ..defaults import limits as merged_limits
from ..errors import Problem
from ..inputs.resources import link_problem
from .breaking import SCHEME, breaking, without_break_hints
from .rules import HAN_KANA
from .typography import PROTECTED, Typographer, passage_typographer

# what is never hyphenated: an address, or a word of 5 letters or more that starts
# with a capital; a phone number (8 digits or more) is not broken at all
_UNBROKEN = re.compile(
    r"(?P<address>" + PROTECTED.pattern + r")"
    # a separator class without digits: each repetition takes one digit, so a long
    # run of digits glued to a letter fails in linear time (no backtracking)
    r"|(?P<phone>(?<![\w+])\+?\d(?:[\u00a0\u202f .\-()/]*\d){7,}(?!\w))"
    r"|(?P<name>(?<!\w)[^\W\d_](?:[\w\u00ad]|-(?=\w))*)")


# a link's address as the body's source writes it: [text](address), <address>, or bare
_ADDRESS = re.compile(r"(?<=\]\()<?[^\s<>()]+>?|<[A-Za-z][\w+.-]*:[^\s<>]+>|"
                      + PROTECTED.pattern)
@dataclass
class BodyResult:
    html: str
    problems: list[Problem] = field(default_factory=list)
    first_paragraph: str = ""


def parser(allow_html: bool = False, nesting: int = 20) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False,
                                   "maxNesting": nesting})
    md.enable("table")
    # every link and image is checked below (with a message) rather than
    # silently left as text by markdown-it
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # markdown-it's hook
    md.use(footnote_plugin)
    # a passage in another language: [Verdienstkreuz am Bande]{lang=de}; no other
    # attribute, and only on such spans
    md.use(attrs_plugin, after=("span_close",), spans=True, allowed=["lang"])
    return md


_PARSERS: dict[int, MarkdownIt] = {}


def _parser(nesting: int) -> MarkdownIt:
    if nesting not in _PARSERS:
        _PARSERS[nesting] = parser(nesting=nesting)
    return _PARSERS[nesting]


def _limit_problem(shown: str, line: int, what: str, name: str, most: int) -> Problem:
    return Problem(shown, line, f"{what}, more than the {most} allowed; shorten it or raise "
                                f"'limits: {{{name}: …}}' in site.yaml", code="B001")


def render_body(
    body: str,
    typographer: Typographer,
    *,
    source: Path,
    shown: str,
    first_line: int,
    resolve_resource,
    doc_id: str | None = None,
    limits: dict | None = None,
) -> BodyResult:
    """Render ``body`` (which starts at ``first_line`` of ``source``) to HTML.

    ``resolve_resource(path, line)`` turns an image reference into a URL or
    returns a :class:`Problem`.
    """
    limits = merged_limits(limits)
    most = int(limits["body_chars"])
    text_line = first_line + len(body[:len(body) - len(body.lstrip())].split("\n")) - 1
    if len(body) > most:
        return BodyResult("", [_limit_problem(shown, text_line, f"the body is {len(body)} "
                                              "characters long", "body_chars", most)])
    md = _parser(int(limits["nesting"]))
    # footnote ids carry the document's id, so that releases gathered in one kit
    # or newsletter never share an anchor
    env: dict = {"docId": doc_id} if doc_id else {}
    tokens = md.parse(body, env)
    lines = body.splitlines()
    problems = _bounds(tokens, env, limits, shown, first_line, text_line)
    if problems:
        return BodyResult("", problems)
    first_paragraph = ""
    # the title is the page's h1; the body's highest headings are h2 (whether its
    # author wrote them # or ##), the others follow without a gap
    levels = sorted({int(t.tag[1]) for t in tokens if t.type == "heading_open"})
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            level = min(levels.index(int(token.tag[1])) + 2, 6)
            token.tag = f"h{level}"
            if index + 2 < len(tokens):
                tokens[index + 2].tag = token.tag
        if token.type != "inline" or not token.children:
            continue
        _typeset_inline(token.children, typographer,
                        mark=not (index and tokens[index - 1].type == "heading_open"))
        if index and tokens[index - 1].type in ("td_open", "th_open"):
            token.children[:] = _cell_words(token.children)
        if index and tokens[index - 1].type == "paragraph_open" and unjustifiable(
                "".join(c.content for c in token.children if c.type == "text")):
            tokens[index - 1].attrJoin("class", "ragged")
        problems += _passages(token.children, shown, _line_of("{lang", lines, token.map,
                                                                first_line), typographer.lang)
        for child in token.children:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                reason = link_problem(href)
                if reason:
                    problems.append(Problem(shown, _line_of(href, lines, token.map, first_line),
                                            reason, code="B002"))
            if child.type == "image":
                line = _line_of(str(child.attrGet("src") or ""), lines, token.map, first_line)
                alt = "".join(c.content for c in child.children or [])
                if not alt.strip():
                    problems.append(Problem(
                        shown, line, f"image '{child.attrGet('src')}' has no alt text; "
                                     "describe it: ![what the image shows](file)", code="B003"))
                result = resolve_resource(child.attrGet("src") or "", line)
                if isinstance(result, Problem):
                    problems.append(result)
                else:
                    child.attrSet("src", result)
        if not first_paragraph and index > 0 and tokens[index - 1].type == "paragraph_open":
            first_paragraph = without_break_hints("".join(
                c.content for c in token.children if c.type in ("text", "code_inline")))
    html = md.renderer.render(tokens, md.options, env)
    return BodyResult(html, problems, first_paragraph)


def _bounds(tokens, env: dict, limits: dict, shown: str, first_line: int,
            text_line: int) -> list[Problem]:
    """The limits a body's tokens go past: words, table cells, footnotes."""
    problems: list[Problem] = []
    word_most, cell_most = int(limits["word_chars"]), int(limits["cell_words"])
    url_most = int(limits["url_chars"])
    in_cell = False
    for token in tokens:
        if token.type in ("td_open", "th_open"):
            in_cell = True
        elif token.type in ("td_close", "th_close"):
            in_cell = False
        if token.type != "inline":
            continue
        line = first_line + (token.map[0] if token.map else 0)
        # a link is not a word: its address is bounded by a limit of its own
        words = token.content.split()
        addresses = [address for word in words for address in _ADDRESS.findall(word)]
        longest = max((piece for word in words for piece in _ADDRESS.split(word)), key=len,
                      default="")
        if len(longest) > word_most:
            problems.append(_limit_problem(shown, line, f"a word of {len(longest)} characters "
                                           f"('{longest[:20]}…')", "word_chars", word_most))
        address = max(addresses, key=len, default="")
        if len(address) > url_most:
            problems.append(_limit_problem(shown, line, f"a link of {len(address)} characters "
                                           f"('{address[:30]}…')", "url_chars", url_most))
        words = len(token.content.split())
        if in_cell and words > cell_most:
            problems.append(_limit_problem(shown, line, f"a table cell of {words} words",
                                           "cell_words", cell_most))
        if len(problems) >= 5:
            break
    notes = len((env.get("footnotes") or {}).get("list") or {})
    if notes > int(limits["footnotes"]):
        problems.append(_limit_problem(shown, text_line, f"the body has {notes} footnotes",
                                       "footnotes", int(limits["footnotes"])))
    return problems


def _line_of(needle: str, lines: list[str], block_map, first_line: int) -> int:
    start, end = block_map if block_map else (0, len(lines))
    for offset in range(start, min(end, len(lines))):
        if needle and needle in lines[offset]:
            return first_line + offset
    return first_line + start


def _typeset_inline(children, typographer: Typographer, mark: bool = True) -> None:
    """Apply typography to the text tokens of one inline run; with ``mark``, mark
    the words that must not be hyphenated (headings are never hyphenated). A
    passage in another language (``[…]{lang=de}``) gets that language's quotes and
    spaces; the run around it reads it as one word."""
    texts: list = []  # text tokens, None for a line break, (typographer, tokens) a passage
    passage: list | None = None  # the open passage's tokens
    in_autolink = 0
    for child in children:
        if child.type == "link_open" and child.markup == "autolink":
            in_autolink += 1
        elif child.type == "link_close" and in_autolink:
            in_autolink -= 1
        elif child.type == "span_open" and child.attrs.get("lang"):
            passage = []
            texts.append((passage_typographer(str(child.attrs["lang"]), typographer), passage))
        elif child.type == "span_close":
            passage = None
        elif child.type == "text" and not in_autolink:
            (passage if passage is not None else texts).append(child)
        elif child.type in ("softbreak", "hardbreak"):
            texts.append(None)
        elif child.type == "image":
            _typeset_inline(child.children or [], typographer, mark=False)
    # softbreaks split runs only as a space would: keep them in the sequence
    segments = [" " if t is None else "x" if isinstance(t, tuple) else t.content
                for t in texts]
    out = typographer.apply(segments, breaks=mark)
    for token, value in zip(texts, out, strict=True):
        if isinstance(token, tuple):
            own, tokens = token
            for inner, typeset in zip(tokens, own.apply([t.content for t in tokens],
                                                        breaks=mark), strict=True):
                inner.content = typeset
        elif token is not None:
            token.content = value
    if mark:
        children[:] = _marked(children, rtl=typographer.rtl)


def _passages(children, shown: str, line: int, document_lang: str) -> list[Problem]:
    """Spans with a ``lang`` become passages the PDF tags with their language (see
    publisher.pdf.tagged); an unknown language is a problem at its line."""
    from babel import Locale, UnknownLocaleError
    from markdown_it.token import Token

    from ..pdf.tagged import LANG

    problems = []
    for index, child in enumerate(children):
        if child.type == "span_open":
            code = str(child.attrs.get("lang") or "")
            try:
                code = str(Locale.parse(code.replace("-", "_"))) if code else ""
            except (UnknownLocaleError, ValueError):
                problems.append(Problem(shown, line, f"unknown language '{code}' in "
                                        "{lang=…}; use a code such as de, en or pt_BR",
                                            code="B004"))
                code = ""
            close = next((i for i in range(index + 1, len(children))
                          if children[i].type == "span_close"), len(children))
            linked = any(c.type == "link_open" for c in children[index + 1:close])
            same = code.split("_")[0] == document_lang.split("_")[0]
            tag = "span" if linked or not code or same else "a"
            attributes = f' lang="{code.replace("_", "-")}"' if code else ""
            if tag == "a":
                attributes = f' class="passage" href="{LANG}{code}"' + attributes
            children[index] = Token("html_inline", "", 0, content=f"<{tag}{attributes}>")
            if close < len(children):
                children[close] = Token("html_inline", "", 0, content=f"</{tag}>")
    return problems


def _marked(children, rtl: bool = False) -> list:
    """``children`` with the words that must not be hyphenated or broken in spans;
    in right-to-left text, addresses, numbers and Latin names also keep their own
    order (isolated: WeasyPrint has no ``unicode-bidi``)."""
    from markdown_it.token import Token

    out = []
    in_link = 0  # a link is never hyphenated (the layouts say so) and keeps its tags whole
    autolink = False  # inside <https://…>: its text is the address
    for child in children:
        # a link (and a passage in another language, which becomes one) keeps its tags
        in_link += (child.type in ("link_open", "span_open")) - (
            child.type in ("link_close", "span_close"))
        if child.type in ("link_open", "link_close"):
            autolink = child.type == "link_open" and child.markup == "autolink"
        if autolink and child.type == "text" and child.content:
            out += _broken(child.content)
            continue
        if child.type != "text" or not child.content or in_link:
            out.append(child)
            continue
        position = 0
        for match in _UNBROKEN.finditer(child.content):
            kind = match.lastgroup
            word = match.group()
            if kind == "name" and not (word[0].isupper() and len(word) >= 5):
                continue
            if match.start() > position:
                out.append(_text(child.content[position:match.start()]))
            css = "nobr" if kind == "phone" else "nh"
            inside = _broken(word) if kind == "address" else [_text(word)]
            if rtl and (kind != "name" or word.isascii()):
                inside = [_text("\u2066"), *inside, _text("\u2069")]
            out += [Token("html_inline", "", 0, content=f'<span class="{css}">'), *inside,
                    Token("html_inline", "", 0, content="</span>")]
            position = match.end()
        if position == 0:
            out.append(child)
        elif position < len(child.content):
            out.append(_text(child.content[position:]))
    return out


# a web address, a path, or a run of Chinese or Japanese: text without spaces
_SPACELESS = re.compile(r"\S*[/@.]\S*[/@.]\S{20,}|[" + HAN_KANA + "]{12,}")


def unjustifiable(text: str) -> bool:
    """Whether a paragraph holds a long run without spaces, which justification
    would stretch the few spaces of its line around (WeasyPrint stretches only
    spaces): such a paragraph is set ragged."""
    return bool(_SPACELESS.search(text.replace("\u200b", "").replace("\u2060", "")))


_LONG_WORD = 30  # letters: about a third of a table's measure
_LONG_PARTS = re.compile(r"(?<=[_/])")


def _cell_words(children) -> list:
    """A table cell's words as a column's width is reckoned from them: a word is
    never broken inside (the column takes its longest word), except a word
    longer than about a third of the table, which may break after its hyphens,
    underscores and slashes and, if a part of it is still that long, anywhere."""
    from markdown_it.token import Token

    out = []
    for child in children:
        if child.type != "text" or len(child.content) <= _LONG_WORD or all(
                len(word) <= _LONG_WORD for word in child.content.split()):
            out.append(child)
            continue
        for piece in re.split(r"(\s+)", child.content):
            if len(piece) <= _LONG_WORD or piece.isspace():
                out.append(_text(piece))
                continue
            parts = _LONG_PARTS.split(piece)
            joined = _text("\u200b".join(parts))
            if all(len(part) <= _LONG_WORD for part in re.split(r"[-_/]", piece)):
                out.append(joined)
            else:
                out += [Token("html_inline", "", 0, content='<span class="long">'), joined,
                        Token("html_inline", "", 0, content="</span>")]
    return out


def _broken(address: str) -> list:
    """An address as one text token that breaks only where :func:`breaking` says: a
    zero-width space there (in the same run of text, so that the line breaker sees it;
    ``<wbr>`` would be a box of its own), a word joiner after the scheme's slashes
    (a line never ends with ``https://``).  Neither is drawn, nor copied from the PDF."""
    pieces = breaking(address)
    start = SCHEME.match(pieces[0]) if pieces else None
    if start:
        head = start.group()
        cut = head.index("://") + 3
        pieces[0] = head[:cut].replace("/", "/\u2060") + pieces[0][cut:]
    return [_text("\u200b".join(pieces))]


def _text(content: str):
    from markdown_it.token import Token

    token = Token("text", "", 0)
    token.content = content
    return token
