"""Reading PDF objects (pikepdf) that may lack what is asked of them."""

from __future__ import annotations

from typing import Any


def entry(obj: Any, *keys: str, default: Any = None) -> Any:
    """``obj[keys[0]][keys[1]]…``, or ``default`` where a dictionary along the way
    is missing or lacks the key."""
    for key in keys:
        if obj is None:
            return default
        obj = obj.get(key)
    return default if obj is None else obj
