"""``publisher new release``: a correctly named source, ready to edit."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from .defaults import DEFAULTS
from .errors import Problem, UsageError
from .inputs.schema import Invalid, language
from .load import LANG_SUFFIX, load, split_front_matter
from .text.slugs import slugify
from .write import RefusedWrite, WritePolicy


def new_release(project: Path, *, title: str, lang: str | None, date: dt.date) -> Path:
    """Write ``sources/releases/<year>/<date>-<slug>.<lang>.md`` and return its path."""
    import yaml

    root = Path(project).resolve()
    loaded = load(root, paths=[])  # site.yaml and contacts.yaml only
    site = loaded.site
    try:
        lang = language(lang or site.default_lang or DEFAULTS["default_lang"], None, ())
    except Invalid as exc:
        raise UsageError(Problem("--lang", None, exc.message, code="U001")) from None
    folder = root / str(DEFAULTS["releases_dir"]) / f"{date:%Y}"
    path = folder / f"{date.isoformat()}-{slugify(title)}.{lang}.md"
    if path.exists():
        raise UsageError(Problem(str(path.relative_to(root)), None,
                                 "already exists; choose another title or edit that file",
                                     code="U002"))
    front = {"title": title, "date": date.isoformat()}
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    text += "dateline: \n"
    contacts = list(loaded.contacts)
    text += f"contacts: [{', '.join(contacts)}]\n" if contacts else "contacts: []\n"
    text += "tags: []\n---\n\n" + placeholder_body(root, lang)
    _writes(root).write(path, text.encode("utf-8"))
    return path.relative_to(root)


def _writes(root: Path) -> WritePolicy:
    """New sources go under sources/releases/ and nowhere else."""
    return WritePolicy([root / str(DEFAULTS["releases_dir"])], root)


def placeholder_body(root: Path, lang: str) -> str:
    """The body of a new release: placeholders in its language (``layouts/release/new.txt``,
    translated by the catalogs), marked ``[[…]]`` for ``publisher check`` to flag."""
    from .compose import Layouts
    from .inputs.layouts import font_dirs, layout_dirs
    from .inputs.resources import ResourcePolicy

    dirs = layout_dirs(root)
    layouts = Layouts(dirs, ResourcePolicy([root, *dirs, *font_dirs(root)]), root=root)
    text, _path, _missing = layouts.render("release/new.txt", lang, {})
    return text.strip() + "\n"


def new_translation(project: Path, *, source: Path, lang: str) -> Path:
    """Copy ``source`` as its ``lang`` version, recording the original's hash.

    The copy keeps the original's text, to be translated; ``publisher check``
    reports it as stale as soon as the original changes.
    """
    root = Path(project).resolve()
    source = Path(source) if Path(source).is_absolute() else (Path.cwd() / source)
    if not source.is_file():
        raise UsageError(Problem(str(source), None, "no such release source", code="U001"))
    try:  # a release of this project: its translation is written beside it
        _writes(root).check(source)
    except RefusedWrite:
        raise UsageError(Problem(str(source), None, "is not a release of this project; give "
                                 f"a source under {DEFAULTS['releases_dir']}/ (the "
                                 "translation is written beside it)", code="U002")) from None
    source = source.resolve()
    try:
        lang = language(lang, None, ())
    except Invalid as exc:
        raise UsageError(Problem("--lang", None, exc.message, code="U001")) from None
    name = source.name[:-3]
    match = LANG_SUFFIX.match(name)
    stem = match["stem"] if match else name
    target = source.parent / f"{stem}.{lang}.md"
    if target.exists():
        raise UsageError(Problem(str(target.relative_to(root)), None,
                                 "already exists; edit that file", code="U002"))
    text = source.read_text(encoding="utf-8")
    split = split_front_matter(text)
    if split is None:
        raise UsageError(Problem(str(source.relative_to(root)), 1, "no front matter", code="R002"))
    front, body, _line = split
    front = "".join(line for line in front.splitlines(keepends=True)
                    if not line.startswith(("lang:", "translated_from:", "  file:",
                                            "  sha256:")))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    front += (f"translated_from:\n  file: {source.name}\n  sha256: {digest}\n")
    _writes(root).write(target, f"---\n{front}---\n{body}".encode())
    return target.relative_to(root)
