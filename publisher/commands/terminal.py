"""The terminal's width as click chooses it, shared by the entry point (which
answers ``--help`` without click) and the command line."""

from __future__ import annotations

import os
import sys


def help_width() -> int:
    """Help text width as click would choose it, without importing shutil for it."""
    stream = sys.__stdout__
    try:
        columns = (int(os.environ.get("COLUMNS") or 0)
                   or (os.get_terminal_size(stream.fileno()).columns if stream else 80))
    except (AttributeError, ValueError, OSError):
        columns = 80
    return max(min(columns, 80) - 2, 50)
