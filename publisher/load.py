"""Stage 1 — load: read site.yaml, contacts.yaml and release sources.

:func:`load` returns a :class:`Project`.  Problems in site.yaml or
contacts.yaml concern every release and are raised as one
:class:`~publisher.errors.ConfigError`; a broken release only marks that
release as failed (its ``problems``), so the others still build.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .defaults import DEFAULTS, place
from .errors import ConfigError, Problem, display_path, has_errors
from .inputs import schema
from .inputs.characters import NotText, control_problems, decode
from .inputs.resources import RefusedResource, ResourcePolicy
from .inputs.settings import (
    ContactEntry,
    KitSettings,
    Site,
    contact_entry,
    kit_settings,
    site_settings,
)
from .inputs.yamlfile import Located, YamlSyntaxError, parse_yaml

LANG_SUFFIX = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,4})?)$")


@dataclass
class Release:
    """One language version of one release, as read from its source file."""

    path: Path
    file: str  # path shown to people
    id: str  # file name without language and .md
    stem: str  # file name without .md (output name)
    lang: str | None = None
    meta: dict = field(default_factory=dict)
    text: str = ""  # the whole source, as read
    body: str = ""
    body_line: int = 1  # line of the source where the body starts
    located: Located | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def front(self) -> Located:
        """The front matter as read, for a release whose front matter could be read."""
        assert self.located is not None, f"{self.file} has no front matter read"
        return self.located


@dataclass
class Kit:
    """A press kit definition, sources/kits/<slug>.yaml."""

    path: Path
    file: str
    slug: str
    meta: KitSettings = field(default_factory=KitSettings)
    located: Located | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def front(self) -> Located:
        """The kit's file as read, for a kit that could be read."""
        assert self.located is not None, f"{self.file} could not be read"
        return self.located


@dataclass
class Project:
    root: Path
    site: Site
    site_located: Located | None
    contacts: dict[str, ContactEntry]
    contacts_located: Located | None
    releases: list[Release]
    kits: list[Kit] = field(default_factory=list)
    # answers to questions about the whole project (bundle's release index,
    # months, issue numbers), asked once: a new project starts without them
    derived: dict = field(init=False, compare=False, repr=False, default_factory=dict)

    def path(self, key: str) -> Path:
        return self.root / place(key)

    def with_sources(self, releases: list[Release], kits: list[Kit]) -> Project:
        """A new project: this one plus ``releases`` and ``kits`` (this one is unchanged)."""
        return dataclasses.replace(self, releases=[*self.releases, *releases],
                                   kits=[*self.kits, *kits])


def load(root: Path | str, paths: list[Path | str] | None = None) -> Project:
    """Read the project at ``root``; only the release files in ``paths`` if given."""
    root = Path(root).resolve()
    problems: list[Problem] = []
    values, site_loc = _load_mapping(root / str(DEFAULTS["site_file"]), root,
                                     schema.SITE_FIELDS, "site", problems,
                                     ResourcePolicy([root]), required=True)
    site = site_settings(values)
    # the project's own limits apply to everything read after site.yaml
    policy = ResourcePolicy([root], limits=dict(site.limits))
    contacts, contacts_loc = _load_contacts(root, problems, policy)
    if problems:
        raise ConfigError(problems)
    files = _release_files(root, paths)
    releases = [load_release(path, root, policy) for path in files]
    _share_embargoes(releases, root, policy, partial=paths is not None)
    _check_contact_refs(releases, contacts)
    kits_dir = root / str(DEFAULTS["kits_dir"])
    kits = [load_kit(path, root, policy) for path in sorted(kits_dir.glob("*.yaml"))]
    return Project(root, site, site_loc, contacts, contacts_loc, releases, kits)


def load_kit(path: Path, root: Path, policy: ResourcePolicy) -> Kit:
    """Read one kit definition; problems are recorded, never raised."""
    kit = Kit(path=path, file=display_path(path, root),
              slug=unicodedata.normalize("NFC", path.stem))
    kit.located = _read_yaml(path, kit.file, kit.problems, policy)
    if kit.located is None:
        return kit
    values, problems = schema.validate(kit.located.data, kit.located, schema.KIT_FIELDS, "kit")
    kit.meta = kit_settings(values)
    kit.problems.extend(problems)
    return kit


def _release_files(root: Path, paths) -> list[Path]:
    releases_dir = root / str(DEFAULTS["releases_dir"])
    if paths is None:
        return sorted(releases_dir.rglob("*.md"))
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_absolute():
            path = (Path.cwd() / path) if (Path.cwd() / path).exists() else root / path
        if path.is_dir():
            files.extend(sorted(path.rglob("*.md")))
        else:
            files.append(path.resolve())
    return files


def _read_text(path: Path, shown: str, problems: list[Problem], policy: ResourcePolicy,
               kind: str = "settings") -> str | None:
    """The text of ``path``, or None with the reason in ``problems``.

    A file holding control characters is refused: they have no place in a
    release and YAML cannot read them.
    """
    try:
        text = decode(policy.read_bytes(path, kind, shown), shown)
    except RefusedResource as exc:
        problems.append(Problem(shown, None, str(exc), code="F001"))
    except NotText as exc:
        problems.append(exc.problem)
    except OSError as exc:
        problems.append(Problem(shown, None, f"cannot be read ({exc.strerror})", code="F002"))
    else:
        found = control_problems(text, shown)
        if not found:
            return text
        problems.extend(found)
    return None


def _read_yaml(path: Path, shown: str, problems: list[Problem],
               policy: ResourcePolicy) -> Located | None:
    """A YAML file parsed with its lines, or None (the reason added to ``problems``)."""
    text = _read_text(path, shown, problems, policy)
    if text is None:
        return None
    try:
        located = parse_yaml(text, shown, limits=policy.limits)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    problems.extend(located.problems)
    return located


def _load_mapping(path, root, fields, kind, problems, policy, required=False):
    shown = display_path(path, root)
    try:
        policy.check_path(path, "settings", shown)
    except RefusedResource as exc:
        if not exc.missing:
            problems.append(Problem(shown, None, str(exc), code="F001"))
            return {}, None
        if required:
            problems.append(Problem(shown, None, f"{kind} file not found; create it "
                                                 "(see the sample project)", code="F003"))
        return {f.name: f.default for f in fields}, None
    located = _read_yaml(path, shown, problems, policy)
    if located is None:
        return {}, None
    values, found = schema.validate(located.data, located, fields, kind)
    problems.extend(found)
    return values, located


def _load_contacts(root: Path, problems: list[Problem], policy: ResourcePolicy):
    path = root / str(DEFAULTS["contacts_file"])
    shown = display_path(path, root)
    located = _read_yaml(path, shown, problems, policy) if os.path.lexists(path) else None
    if located is None:
        return {}, None
    data = located.data or {}
    if not isinstance(data, dict):
        problems.append(located.problem((), "expected a mapping of contact id to contact",
            code="S004"))
        return {}, located
    contacts = {}
    for cid, entry in data.items():
        values, found = schema.validate(entry, located, schema.CONTACT_FIELDS, "contact", (cid,))
        problems.extend(found)
        contacts[str(cid)] = contact_entry(values, id=str(cid), file=shown,
                                           line=located.line(cid))
    return contacts, located


def split_front_matter(text: str):
    """Return (yaml_text, body, body_first_line) or None without front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    return None


def load_release(path: Path, root: Path, policy: ResourcePolicy | None = None) -> Release:
    """Read one release source; problems are recorded, never raised."""
    shown = display_path(path, root)
    name = path.name[:-3] if path.name.endswith(".md") else path.name
    # ids and output names composed (NFC), as kits and links write them, whatever
    # form the file system gives (macOS decomposes accents)
    name = unicodedata.normalize("NFC", name)
    match = LANG_SUFFIX.match(name)
    release = Release(path=path, file=shown, id=match["stem"] if match else name, stem=name)
    if path.suffix != ".md":
        release.problems.append(Problem(shown, None, "a release source must end in .md",
            code="R001"))
        return release
    policy = policy or ResourcePolicy([root])
    text = _read_text(path, shown, release.problems, policy, "source")
    if text is None:
        return release
    split = split_front_matter(text)
    if split is None:
        release.problems.append(Problem(
            shown, 1, "no front matter; start the file with a '---' line, the YAML keys "
                      "(title, date, …) and a closing '---' line", code="R002"))
        return release
    release.text = text
    yaml_text, release.body, release.body_line = split
    most = int(policy.limits["front_matter_chars"])
    if len(yaml_text) > most:
        release.problems.append(Problem(
            shown, 2, f"the front matter is {len(yaml_text)} characters long, more than the "
                      f"{most} allowed; shorten it or raise 'limits: {{front_matter_chars: …}}' "
                      "in site.yaml", code="R003"))
        return release
    try:
        located = parse_yaml(yaml_text, shown, line_offset=1, limits=policy.limits)
    except YamlSyntaxError as exc:
        release.problems.append(exc.problem)
        return release
    release.located = located
    release.problems.extend(located.problems)
    meta, problems = schema.validate(located.data, located, schema.FRONT_MATTER_FIELDS,
                                     "front matter")
    release.meta = meta
    release.problems.extend(problems)
    file_lang = match["lang"].replace("-", "_") if match else None
    if file_lang:
        try:
            file_lang = schema.language(file_lang, located, ())
        except schema.Invalid as exc:
            release.problems.append(Problem(shown, None, f"file name language: {exc.message}",
                code="R004"))
            file_lang = None
    lang = meta.get("lang")
    if lang and file_lang and lang != file_lang:
        release.problems.append(located.problem(
            ("lang",), f"'lang: {lang}' disagrees with the file name's '.{file_lang}.md'; "
                       "make them the same", code="R004"))
    release.lang = lang or file_lang
    # a 'lang' the schema refused has its own problem already
    given = isinstance(located.data, dict) and located.data.get("lang") is not None
    if not release.lang and not given:
        release.problems.append(located.problem(
            (), "no language: add 'lang: fr' to the front matter or name the file ….fr.md",
                code="R004"))
    return release


def _share_embargoes(releases: list[Release], root: Path, policy: ResourcePolicy,
                     partial: bool) -> None:
    """An embargo binds every language version of a release: a version that gives
    none (or an earlier one) is held until the latest, with a warning.  With only
    some sources loaded, the other versions on disk are read for their embargo."""
    import glob

    by_id: dict[tuple[Path, str], list[Release]] = {}
    for release in releases:
        by_id.setdefault((release.path.parent, release.id), []).append(release)
    for (folder, rid), versions in by_id.items():
        siblings = list(versions)
        if partial:
            loaded = {release.path for release in versions}
            siblings += [load_release(path, root, policy)
                         for path in sorted(folder.glob(f"{glob.escape(rid)}.*.md"))
                         if path not in loaded]
        dated = [r for r in siblings if isinstance(r.meta.get("embargo"), dt.datetime)]
        if not dated:
            continue
        binding = max(dated, key=lambda r: r.meta["embargo"])
        latest = binding.meta["embargo"]
        for release in versions:
            own = release.meta.get("embargo")
            if own == latest or release.located is None or has_errors(release.problems):
                continue
            what = "gives none" if own is None else f"gives an earlier one ({own.isoformat()})"
            release.meta["embargo"] = latest
            release.problems.append(release.located.problem(
                ("embargo",) if own is not None else (),
                f"the {binding.lang or 'other'} version ({binding.file}) is under embargo "
                f"until {latest.isoformat()} and this one {what}; it is held until then too "
                f"(write 'embargo: {latest.isoformat()}' here to say so)",
                severity="warning", code="R005"))


def _check_contact_refs(releases: list[Release], contacts: dict[str, dict]) -> None:
    for release in releases:
        for index, ref in enumerate(release.meta.get("contacts") or []):
            if isinstance(ref, str) and ref not in contacts:
                hint = schema.suggest(ref, contacts)
                where = "sources/contacts.yaml"
                fix = hint or (f"add it to {where}" if contacts else f"create {where}")
                release.problems.append(release.front.problem(
                    ("contacts", index), f"unknown contact id '{ref}'; {fix}", code="R006"))
