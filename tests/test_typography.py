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


@pytest.mark.parametrize(("lang", "expected"), [("en", "said:\u201cWe go.\u201d"),
                                                ("de", "said:\u201eWe go.\u201c")])
def test_a_quote_right_after_a_colon_opens(lang, expected):
    assert typographer(lang).text('said:"We go."') == expected
    assert typographer(lang).text('"Read this:" now').startswith(expected[5])


def test_each_language_s_rules_from_its_table():
    assert typographer("pl").text("Dom w lesie i z ogrodem") == \
        "Dom w\u00a0lesie i\u00a0z\u00a0ogrodem"
    assert typographer("cs").text("Dům v lese k sobě") == "Dům v\u00a0lese k\u00a0sobě"
    assert typographer("en").text("Dom w lesie") == "Dom w lesie"  # English allows it
    assert typographer("en").text("today - tomorrow") == "today\u00a0\u2013 tomorrow"
    assert typographer("pt").text("hoje - amanhã") == "hoje\u00a0\u2014 amanhã"
    assert typographer("ja").text("今日 - 明日") == "今日 - 明日"  # no rule: as written


def test_line_breaking_rules_are_written_only_into_running_text():
    pt, ko = typographer("pt"), typographer("ko")
    assert pt.text("auto-gerir") == "auto-gerir"  # a title, metadata, a subject line
    assert pt.apply(["auto-gerir em 2018-06"], breaks=True) == \
        ["auto\u00ad-\u2060gerir em 2018-06"]  # letters only: a date keeps its hyphens
    assert ko.apply(["위성 5G망"], breaks=True) == ["위\u2060성 5G\u2060망"]
    assert typographer("fr").apply(["franco-russe"], breaks=True) == ["franco-russe"]
