"""Each language's typography, on text only."""

from __future__ import annotations

import pytest

from publisher.text.typography import NBSP, NNBSP, typographer


def test_french_spaces_before_high_punctuation_and_inside_guillemets():
    result = typographer("fr").text('Il a dit : "Bonjour ! Ça va ?" Oui ; enfin.')
    assert result == (f"Il a dit{NBSP}: «{NNBSP}Bonjour{NNBSP}! Ça va{NNBSP}?{NNBSP}» "
                      f"Oui{NNBSP}; enfin.")


def test_french_existing_guillemets_get_narrow_spaces():
    assert typographer("fr").text("« oui »") == f"«{NNBSP}oui{NNBSP}»"


def test_colon_in_times_is_left_alone():
    assert typographer("fr").text("à 10:30") == "à 10:30"


def test_canadian_french_has_no_space_before_exclamation():
    assert typographer("fr_CA").text("Oui !") == "Oui !"


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "\u201cyes\u201d"),
    ("de", "\u201eyes\u201c"),
    ("ru", "\u00abyes\u00bb"),
    ("es", "\u00abyes\u00bb"),
])
def test_quotes_follow_the_language(lang, expected):
    assert typographer(lang).text('"yes"') == expected


def test_nested_quotes_use_the_inner_pair():
    assert typographer("ru").text('"a "b" c"') == "\u00aba \u201eb\u201c c\u00bb"


def test_apostrophes_and_dashes():
    assert typographer("en").text("it's 1990--2000 --- done...") == \
        "it\u2019s 1990\u20132000 \u2014 done\u2026"


def test_urls_and_addresses_are_untouched():
    text = "see https://example.org/a--b?x=1&y=\"2\" or press@example.org; ok"
    result = typographer("fr").text(text)
    assert "https://example.org/a--b?x=1&y=\"2\"" in result
    assert f"press@example.org{NNBSP};" in result


def test_context_carries_across_segments():
    # '**CNES**!' arrives as 'CNES' then '!': the space still goes before '!'
    assert typographer("fr").apply(["Le ", "CNES", "!"]) == ["Le ", "CNES", f"{NNBSP}!"]
    # a quote closed after bold text is a closing quote
    assert typographer("en").apply(['say "', "this", '"']) == ["say \u201c", "this", "\u201d"]
