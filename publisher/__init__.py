"""publisher: Markdown press releases to localised, accessible PDFs.

The pipeline, one module per stage: :mod:`~publisher.load` →
:mod:`~publisher.localise` → :mod:`~publisher.compose` →
:mod:`~publisher.render` → :mod:`~publisher.bundle` → :mod:`~publisher.write`,
tied together by :mod:`publisher.pipeline`.  The public entries are
:func:`build`, :func:`build_kit`, :func:`build_newsletter`, :func:`check` and
:func:`clean`, loaded on first use so that ``import publisher`` stays light.
"""

import importlib

__version__ = "0.1.0"

_ENTRIES = {"build": "pipeline", "build_kit": "pipeline", "build_newsletter": "pipeline",
            "clean": "pipeline", "BuildOptions": "pipeline", "BuildResult": "pipeline",
            "check": "gate"}

__all__ = sorted(_ENTRIES)


def __getattr__(name: str):
    if name in _ENTRIES:
        return getattr(importlib.import_module(f"publisher.{_ENTRIES[name]}"), name)
    raise AttributeError(f"module 'publisher' has no attribute {name!r}")
