"""File-name slugs from titles and names, in any script.

python-slugify transliterates (Cyrillic, Greek, Arabic, Chinese… to Latin
letters, through text-unidecode), so that a Russian or Japanese title gives a
readable file name rather than an empty one.
"""

from __future__ import annotations


def slugify(title: str, limit: int = 60, fallback: str = "release") -> str:
    from slugify import slugify as transliterated

    return transliterated(title, max_length=limit, word_boundary=True) or fallback
