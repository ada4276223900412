"""Digests of what an action reads: the names the plan gives its actions and
the cache its entries.

Files are named relative to the project or the toolkit, so that a project
moved or cloned elsewhere keeps its cache:

- a layout's fingerprint: its files, the language's catalogs, the fonts, the
  logo, the site settings and the profile;
- a release's inputs: its source, body images, the contacts it names, and
  whether an embargo is in force;
- a localised release: those, the site, the contacts file, the fonts and the
  profile's image sizes.

The plan keys a kit or newsletter by the fingerprint and the inputs of every
release it holds, the kit file, its cover and attachments, the issue number
(:mod:`publisher.plan`); the actions key a part of one by its composed HTML
(with the project's and the toolkit's locations replaced by names), the
content of every local file that HTML refers to, the fingerprint, the profile
and the date (:mod:`publisher.actions`).  Every key also holds the versions,
and the code, of publisher and WeasyPrint (:func:`publisher.cache.key_of`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Protocol

from .cache import key_of
from .compose import Layouts
from .inputs.catalogs import catalog_files
from .inputs.profiles import Profile
from .inputs.resources import Files, file_of
from .load import Project, Release

_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


class Read(Protocol):
    """What the digests are of (a :class:`~publisher.workspace.Workspace`)."""

    project: Project
    root: Path
    options: Any
    settings: Any
    as_of: dt.datetime
    files: Files
    layouts: Layouts
    layout_dirs: list[Path]
    font_dirs: tuple[Path, ...]
    fontset: tuple[tuple[Path, str], ...]
    logo_url: str | None

    def layout_of(self, release: Release) -> str: ...

    def profile(self, name: str | None = None) -> Profile: ...


class Keys:
    """The digests of one workspace, each computed once."""

    def __init__(self, workspace: Read):
        self._ws = workspace
        self._fingerprints: dict[tuple, str] = {}
        self._inputs: dict[tuple, list] = {}

    def fingerprint(self, layout: str, lang: str, settings: Profile) -> str:
        """Layout files, the language's catalogs, the fonts, the logo and the site."""
        ws = self._ws
        key = (layout, lang, settings.key())
        if key not in self._fingerprints:
            files = ws.layouts.files(layout)
            files += catalog_files(ws.layout_dirs, lang)
            files += catalog_files(ws.layout_dirs, str(ws.settings["fallback_lang"]))
            files += [path for path, _sha in ws.fontset]
            if ws.logo_url:
                files.append(file_of(ws.logo_url))
            bases = [*ws.layout_dirs, *ws.font_dirs, ws.root]
            self._fingerprints[key] = (ws.files.tree(files, bases)
                                       + ws.files.hash(ws.project.path("site_file"))
                                       + settings.key())
        return self._fingerprints[key]

    def release_inputs(self, release: Release, settings: Profile | None = None) -> list:
        """What a release's bytes depend on, besides the layout and the site (once
        per workspace: a release is in its own output and in its bundles')."""
        asked = (id(release), settings.key() if settings is not None else None)
        if asked not in self._inputs:
            self._inputs[asked] = self._release_inputs(release, settings)
        return self._inputs[asked]

    def _release_inputs(self, release: Release, settings: Profile | None) -> list:
        ws = self._ws
        files = [release.path, *body_images(release)]
        contacts = [ws.project.contacts[ref].content()
                    for ref in release.meta.get("contacts") or []
                    if isinstance(ref, str) and ref in ws.project.contacts]
        embargo = release.meta.get("embargo")
        # the embargo in force, which may come from another language version's source
        inputs: list = [ws.files.tree(files, [ws.root]), release.file, contacts,
                        embargo.isoformat() if embargo and embargo > ws.as_of else None]
        if settings is not None:  # in a bundle: its pages, laid out in its own layout
            inputs.append(self.fingerprint(ws.layout_of(release), release.lang or "",
                                           settings))
        return inputs

    def localised(self, release: Release) -> str:
        """Everything a localised release is made from: its inputs, the site, the
        contacts file, the fonts, the profile's image sizes, and the project's
        folder (its image URLs name it)."""
        ws = self._ws
        site = ws.files.hash(ws.project.path("site_file"))
        contacts = ws.files.hash(ws.project.path("contacts_file"))
        return key_of(ws.options.key_salt, "localised", str(ws.root),
                      self.release_inputs(release), site, contacts,
                      [sha for _path, sha in ws.fontset], ws.profile().key())

    def render(self) -> str:
        """The content that WeasyPrint's font state depends on: fonts and layouts."""
        ws = self._ws
        files = [path for path, _sha in ws.fontset]
        files += [p for folder in ws.layout_dirs for p in folder.rglob("*") if p.is_file()]
        return ws.files.tree(files, [*ws.layout_dirs, *ws.font_dirs, ws.root])


def body_images(release: Release) -> list[Path]:
    """Local files a release's body refers to as images."""
    found = []
    for ref in _IMAGE.findall(release.body or ""):
        if "://" not in ref and not ref.startswith("data:"):
            found.append(release.path.parent / ref)
    return found
