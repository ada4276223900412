"""The one table of defaults, shared by the Python API and the command line.

CLI options default to "not given" (``None``); :func:`resolve` fills what is
missing from the project's ``site.yaml`` and then from :data:`DEFAULTS`, so the
project's settings always win over the toolkit's.
"""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # where things are, relative to the project directory
    "sources_dir": "sources",
    "releases_dir": "sources/releases",
    "kits_dir": "sources/kits",
    "layouts_dir": "layouts",
    "fonts_dir": "fonts",
    "build_dir": "build",
    "site_file": "sources/site.yaml",
    "contacts_file": "sources/contacts.yaml",
    # content defaults
    "layout": "release",
    "default_lang": "en",
    "page_size": "A4",
    "country": None,  # region used to read national phone numbers
    # rendering
    "profile": "screen",  # screen: tagged PDF/UA-1; print: PDF/X-4 under build/print/
    "fallback_lang": "en",  # layout strings missing from a catalog fall back to it
}


def resolve(given: dict[str, object], site: dict[str, object] | None = None) -> dict[str, object]:
    """Options in force: ``given`` (not None) beats ``site`` beats DEFAULTS."""
    options = dict(DEFAULTS)
    for source in (site or {}, given):
        options.update({k: v for k, v in source.items() if v is not None and k in DEFAULTS})
    return options
