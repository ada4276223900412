"""Each language's typographic rules, as data: one row per language.

What a typesetter of the language expects, and the typographer
(:mod:`publisher.text.typography`) applies to running text:

- ``quotes``: outer open, outer close, inner open, inner close (as CLDR
  records them);
- ``no_break_after``: words that must not end a line (Polish, Czech and
  Slovak one-letter words); the space after them becomes a no-break space;
- ``dash``: what a hyphen with a space on each side (" - ") becomes; the
  space before it becomes a no-break space, so a line never starts with it;
- ``repeat_hyphen``: a hyphenated compound that breaks at its hyphen repeats
  it at the start of the next line ("auto-" / "-gerir"), as Portuguese,
  Polish, Czech, Slovak and Croatian do;
- ``keep_words``: lines break only between words, never between the
  syllables of one (Korean, where CSS would say ``word-break: keep-all``).

A language not in the table takes English's quotes and none of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

EN_DASH, EM_DASH = "\u2013", "\u2014"
# Chinese characters and Japanese kana: lines break between any two of them, and
# justification has no spaces to stretch (a character class's ranges)
HAN_KANA = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"


@dataclass(frozen=True)
class Rules:
    quotes: tuple[str, str, str, str] = ("\u201c", "\u201d", "\u2018", "\u2019")
    no_break_after: frozenset[str] = frozenset()
    dash: str = ""  # "": a spaced hyphen stays as written
    repeat_hyphen: bool = False
    keep_words: bool = False


_GUILLEMETS = ("\u00ab", "\u00bb", "\u201c", "\u201d")
_LOW_HIGH = ("\u201e", "\u201c", "\u201a", "\u2018")


def _words(letters: str) -> frozenset[str]:
    return frozenset(letters.split()) | frozenset(letters.upper().split())


RULES: dict[str, Rules] = {
    "en": Rules(dash=EN_DASH),
    "fr": Rules(_GUILLEMETS, dash=EN_DASH),
    "de": Rules(_LOW_HIGH, dash=EN_DASH),
    "es": Rules(_GUILLEMETS, dash=EM_DASH),
    "it": Rules(_GUILLEMETS, dash=EN_DASH),
    "ru": Rules(("\u00ab", "\u00bb", "\u201e", "\u201c"), dash=EM_DASH),
    "uk": Rules(("\u00ab", "\u00bb", "\u201e", "\u201c"), dash=EM_DASH),
    "pl": Rules(("\u201e", "\u201d", "\u00ab", "\u00bb"), _words("a i o u w z"),
                EN_DASH, repeat_hyphen=True),
    "cs": Rules(_LOW_HIGH, _words("a i k o s u v z"), EN_DASH, repeat_hyphen=True),
    "sk": Rules(_LOW_HIGH, _words("a i k o s u v z"), EN_DASH, repeat_hyphen=True),
    "hr": Rules(("\u201e", "\u201c", "\u2018", "\u2019"), dash=EN_DASH, repeat_hyphen=True),
    "pt": Rules(dash=EM_DASH, repeat_hyphen=True),
    "nl": Rules(("\u2018", "\u2019", "\u201c", "\u201d"), dash=EN_DASH),
    "el": Rules(_GUILLEMETS, dash=EN_DASH),
    "ko": Rules(keep_words=True),
}
# where a country writes its language otherwise
RULES_BY_LOCALE: dict[str, Rules] = {
    "pt_PT": Rules(_GUILLEMETS, dash=EM_DASH, repeat_hyphen=True),
    "de_CH": Rules(("\u00ab", "\u00bb", "\u2039", "\u203a"), dash=EN_DASH),
}


def rules_of(language: str, locale: str) -> Rules:
    """The rules of ``locale`` (``pt_PT``), else of its ``language`` (``pt``)."""
    return RULES_BY_LOCALE.get(locale) or RULES.get(language) or Rules()
