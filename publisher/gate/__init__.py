"""``publisher check``: the gate a team puts in CI before anything is sent.

It loads every source against the schema, then renders every layout
(release, kit, newsletter PDF and e-mail) in every language present in the
sources or in a catalog, with the real sources plus a built-in stress release,
into a temporary folder: the project's ``build/`` is left alone.  Each
rendered document is inspected for what a reader would notice: overflowing
boxes, lost tags, fonts not embedded, too many pages.  Catalogs are compared
with the strings the templates use, translations with their originals, and,
on request, pages with a baseline of pictures.

:mod:`.run` runs it, :mod:`.stress` makes the stress sources, :mod:`.inspect`
looks, :mod:`.report` tells what it found.
"""

from __future__ import annotations

from .inspect import pdfua_findings
from .report import CheckReport, Finding, github_annotations, json_lines, junit_xml, summary
from .run import check

__all__ = ["CheckReport", "Finding", "check", "github_annotations", "json_lines", "junit_xml",
           "pdfua_findings", "summary"]
