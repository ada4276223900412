"""publisher: Markdown press releases to localised, accessible PDFs.

The pipeline, one module per stage: :mod:`~publisher.load` →
:mod:`~publisher.localise` → :mod:`~publisher.compose` →
:mod:`~publisher.render` → :mod:`~publisher.write`, tied together by
:func:`publisher.build.build`.
"""

__version__ = "0.1.0"


def build(*args, **kwargs):
    """Build a project; see :func:`publisher.build.build`."""
    from .build import build as _build

    return _build(*args, **kwargs)
