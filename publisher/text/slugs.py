"""File-name slugs from titles and names."""

from __future__ import annotations

import re
import unicodedata


def slugify(title: str, limit: int = 60, fallback: str = "release") -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:limit].rstrip("-") or fallback
