"""Each language's typography, applied to running text.

The rules come from one table, :mod:`publisher.text.rules`: quotes as CLDR
records them (« » in French and Russian, “ ” in English, „ “ in German…),
the words that must not end a line, the dash a spaced hyphen becomes, a
compound's hyphen repeated on the next line, Korean's breaks between words
only.  French adds its spaces: a narrow no-break space before ; ! ? and
inside « », a no-break space before :.  URLs, e-mail
addresses and code are never touched: callers pass only text, and text that
looks like an address is left as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .rules import rules_of

NBSP = "\u00a0"
NNBSP = "\u202f"

PROTECTED = re.compile(
    r"(?:(?:https?|ftp|mailto|tel|file|data):\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
)
# what a quote that opens follows: a space, an opening bracket or quote, a dash,
# and a colon written without its space ('said:"We…'), which a closing quote
# never follows unless it ends the run ('"Read this:"', decided by what comes after)
_OPENING_CONTEXT = set(" \t\n\u00a0\u202f([{\u2014\u2013-/«„“‘‚:") | {""}
_WORDISH = re.compile(r"[\w\u00bb\u201d\u2019)\].…%°\u20ac$£]")


SHY, WJ = "\u00ad", "\u2060"
_COMPOUND_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")  # between letters
_SPACED_HYPHEN = re.compile(r"(?<=\S) - (?=\S)")
_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_INSIDE_KOREAN_WORD = re.compile(f"(?<=[{_HANGUL}])(?=\\w)|(?<=\\w)(?=[{_HANGUL}])")


class Typographer:
    """Typography of one language; :meth:`apply` works on a list of segments."""

    def __init__(self, lang: str, keep: tuple[str, ...] = ()):
        from babel import Locale

        self.keep = tuple(keep)
        # addresses, and the words the site keeps as written (brands: "Yahoo!")
        self.protected = PROTECTED if not keep else re.compile(
            "|".join([PROTECTED.pattern] + [re.escape(word) for word in
                                             sorted(keep, key=len, reverse=True)]))
        locale = Locale.parse(lang)
        self.lang = str(locale)
        self.rules = rules = rules_of(locale.language, self.lang)
        self.quotes, self.inner_quotes = rules.quotes[:2], rules.quotes[2:]
        # the space after a word that must not end a line becomes a no-break space
        self.no_break_after = re.compile(
            r"(?<![\w\u2011\u00ad-])(" + "|".join(sorted(rules.no_break_after)) + r") (?=\S)"
        ) if rules.no_break_after else None
        self.french = locale.language == "fr"
        self.rtl = locale.character_order == "right-to-left"
        # Canadian French keeps no space before ; ! ?
        self.french_thin = self.french and locale.territory != "CA"

    def apply(self, segments: list[str], before: str = "", breaks: bool = False) -> list[str]:
        """Typeset consecutive text segments that read as one run of text.

        ``before`` is the character that precedes the first segment, so that a
        quote or a '!' right after bold text is still handled correctly.  With
        ``breaks`` (running text that a PDF lays out, not a title that also goes
        into metadata and e-mail subjects), the language's line-breaking rules
        are written in as invisible characters: a soft hyphen before a
        compound's hyphen that the next line repeats, word joiners inside a
        Korean word.
        """
        out = []
        state = {"double": 0, "single": 0}
        prev = before[-1:] if before else ""
        for index, segment in enumerate(segments):
            follow = next((s[0] for s in segments[index + 1:] if s), "")
            out.append(self._segment(segment, prev, state, follow, breaks))
            if segment:
                prev = segment[-1]
        return out

    def text(self, value: str) -> str:
        return self.apply([value])[0]

    def _segment(self, segment: str, prev: str, state: dict, follow: str,
                 breaks: bool = False) -> str:
        pieces = []
        position = 0
        for match in self.protected.finditer(segment):
            pieces.append((segment[position:match.start()], True))
            pieces.append((match.group(), False))
            position = match.end()
        pieces.append((segment[position:], True))
        result = []
        for index, (piece, typeset) in enumerate(pieces):
            if typeset and piece:
                after = next((p[0] for p, _ in pieces[index + 1:] if p), follow)
                piece = self._typeset(piece, prev, state, after)
                if breaks:
                    piece = self._breaks(piece)
            result.append(piece)
            if piece:
                prev = piece[-1]
        return "".join(result)

    def _typeset(self, s: str, prev: str, state: dict, follow: str) -> str:
        s = re.sub(r"(?<!-)---(?!-)", "\u2014", s)
        s = re.sub(r"(?<!-)--(?!-)", "\u2013", s)
        s = s.replace("...", "\u2026")
        chars: list[str] = []
        for index, char in enumerate(s):
            before = chars[-1] if chars else prev
            after = s[index + 1] if index + 1 < len(s) else follow
            if char == '"':
                opening = before in _OPENING_CONTEXT and after not in ("", " ")
                if opening:
                    depth = state["double"]
                    chars.append(self.quotes[0] if depth % 2 == 0 else self.inner_quotes[0])
                    state["double"] += 1
                else:
                    state["double"] = max(0, state["double"] - 1)
                    depth = state["double"]
                    chars.append(self.quotes[1] if depth % 2 == 0 else self.inner_quotes[1])
            elif char == "'":
                if before in _OPENING_CONTEXT and after.isalnum() and not before.isalnum():
                    state["single"] += 1
                    chars.append(self.inner_quotes[0])
                elif state["single"] and not after.isalnum():
                    state["single"] -= 1
                    chars.append(self.inner_quotes[1])
                else:
                    chars.append("\u2019")
            else:
                chars.append(char)
        s = "".join(chars)
        if self.rules.dash:  # " - " is a dash, which never starts a line
            s = _SPACED_HYPHEN.sub(NBSP + self.rules.dash + " ", s)
        if self.no_break_after is not None:
            s = self.no_break_after.sub(r"\1" + NBSP, s)
        if self.french:
            s = self._french_spaces(s, prev)
        return s

    def _breaks(self, s: str) -> str:
        if self.rules.repeat_hyphen:  # auto-gerir: "auto-" / "-gerir", never "auto-" / "gerir"
            s = _COMPOUND_HYPHEN.sub(SHY + "-" + WJ, s)
        if self.rules.keep_words:
            s = _INSIDE_KOREAN_WORD.sub(WJ, s)
        return s

    def _french_spaces(self, s: str, prev: str) -> str:
        lead = "a" if prev and _WORDISH.match(prev) else " "
        s = lead + s
        if self.french_thin:
            s = re.sub(r"(?<=[\w»\u201d\u2019)\]…%])[ \u00a0\u202f]?([;!?])", NNBSP + r"\1", s)
        s = re.sub(r"(?<=[\w»\u201d\u2019)\]…%])[ \u00a0\u202f]?:(?!\d)", NBSP + ":", s)
        s = re.sub(r"«[ \u00a0\u202f]*", "«" + NNBSP, s)
        s = re.sub(r"[ \u00a0\u202f]*»", NNBSP + "»", s)
        return s[1:]


@lru_cache(maxsize=64)
def typographer(lang: str, keep: tuple[str, ...] = ()) -> Typographer:
    """The typographer of ``lang``; ``keep``: words it leaves as written."""
    return Typographer(lang, tuple(keep))


def passage_typographer(code: str, document: Typographer) -> Typographer:
    """The typographer of a passage marked ``{lang=code}`` inside a document set by
    ``document``: the passage's own quotes and spaces, the site's kept words; the
    document's when ``code`` names no language (the passage check reports it)."""
    from babel import UnknownLocaleError

    try:
        passage = typographer(code.replace("-", "_"), document.keep)
    except (UnknownLocaleError, ValueError):
        return document
    return document if passage.lang == document.lang else passage
