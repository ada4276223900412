"""A project folder as data: every file a build may read, named by its digest in the store.

With an isolated build (``BuildOptions(isolated=True)``) the planning process
puts the project's sources, layouts and fonts in the content-addressed store
once per content and gives its workers a :class:`Tree` — relative paths and
digests — instead of the loaded project.  A worker makes the folder again
from the store (each object checked against its digest), once per tree and
process, in a temporary folder removed when the process ends, and loads the
project from there: it needs the package and the store, not the project's
folder.  The outputs are the same bytes, since a render names project files
by their virtual address, never by the folder they are in.
"""

from __future__ import annotations

import hashlib
import multiprocessing.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cache import Store
from .defaults import place
from .errors import Problem, PublisherError
from .load import Project, load

FOLDERS = ("sources_dir", "layouts_dir", "fonts_dir")  # what a build reads of a project


@dataclass(frozen=True)
class Tree:
    files: tuple[tuple[str, str], ...]  # (path relative to the project, sha256), sorted
    releases: tuple[str, ...]  # the release files loaded, in order
    partial: bool  # only those (a build of given files), not every release of the project

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr((self.files, self.releases, self.partial)).encode()
                              ).hexdigest()


def snapshot(project: Project, store: Store, partial: bool) -> Tree:
    """The project's files put in ``store``; only regular files inside the project
    (a link that leads out of it is left out, as a build refuses to read it)."""
    root = project.root.resolve()
    files = []
    for key in FOLDERS:
        folder = root / place(key)
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            resolved = path.resolve()
            if not resolved.is_file() or not resolved.is_relative_to(root):
                continue
            files.append((path.relative_to(root).as_posix(), store.put(resolved.read_bytes())))
    return Tree(tuple(files), tuple(r.file for r in project.releases), partial)


def loaded(tree: Tree, store: Store) -> Project:
    """The project of ``tree``, made again from ``store`` and loaded: the same
    releases in the same order, or :class:`PublisherError`."""
    root = _made(tree, store)
    project = load(root, [root / name for name in tree.releases] if tree.partial else None)
    if tuple(r.file for r in project.releases) != tree.releases:
        raise PublisherError(Problem("sources/releases", None, "the releases read again from "
                                     "the store are not those planned; build again",
                                     code="O004"))
    return project


_folders: dict[str, Path] = {}  # the trees made in this process, by digest


def _made(tree: Tree, store: Store) -> Path:
    digest = tree.digest
    if digest in _folders:
        return _folders[digest]
    folder = Path(tempfile.mkdtemp(prefix="publisher-tree-")) / "project"
    multiprocessing.util.Finalize(None, shutil.rmtree, args=(folder.parent,),
                                  kwargs={"ignore_errors": True}, exitpriority=10)
    for name, sha in tree.files:
        data = store.read(sha)
        if data is None:
            raise PublisherError(Problem(name, None, "is missing from the store or does not "
                                         "match its digest; build again", code="O004"))
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    _folders[digest] = folder
    return folder
