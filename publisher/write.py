"""Stage 6 — write: outputs land atomically, and the manifest lists them.

Every file is written to a temporary file in the same folder, then renamed
over the target: a reader sees the old file or the new one, never half of
one, and a failed or killed build leaves the previous good PDF untouched.
(No fsync: this protects against a build that fails or is killed, not
against the machine losing power.)
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from .errors import display_path

TEMPORARY = ".*.publisher-tmp"  # the glob of write()'s temporary files
# the name of an output in build/ (and so in the manifest)
OUTPUT_PATH = re.compile(r"(?:print/)?(?:releases|kits|newsletters)/[^/\\]+")


class RefusedWrite(Exception):
    """A file the command may not write, with the reason as a sentence."""


class WritePolicy:
    """Where a command may write: a few folders of the project, resolved.

    Like the policy for reads (:class:`~publisher.inputs.resources.ResourcePolicy`),
    a path is resolved with its symbolic links followed before it is written: a
    name with ``..``, a link out of the folder, or a folder replaced by a link
    elsewhere is refused with a sentence, whoever wrote the name (a cache entry,
    a manifest, a command-line option).
    """

    def __init__(self, folders, root: Path | None = None):
        # the folders as the project names them: their links are not followed (a
        # build/ that is a link elsewhere is elsewhere), the project's own path is
        self.root = Path(root).resolve() if root is not None else None
        given = Path(os.path.abspath(root)) if root is not None else None
        self.folders: list[Path] = []
        for folder in folders:
            folder = Path(os.path.abspath(folder))
            if self.root is not None and given is not None and folder.is_relative_to(given):
                folder = self.root / folder.relative_to(given)
            else:  # a folder the caller chose outside the project (a scratch build)
                folder = folder.resolve()
            self.folders.append(folder)

    def folder(self, path: Path) -> Path:
        """``path`` resolved, if files may be written (and removed) in it."""
        resolved = self._inside(path)
        if resolved.exists() and not resolved.is_dir():
            raise RefusedWrite(f"'{self._shown(path)}' is not a folder; move it away")
        return resolved

    def _inside(self, path: Path) -> Path:
        resolved = Path(path).resolve()
        if not any(resolved == folder or resolved.is_relative_to(folder)
                   for folder in self.folders):
            raise RefusedWrite(f"'{self._shown(path)}' is outside "
                               f"{' and '.join(map(self._shown, self.folders))}, where "
                               "this command writes; nothing was written there")
        return resolved

    def check(self, path: Path) -> Path:
        """``path`` resolved, if it may be written; else :class:`RefusedWrite`."""
        resolved = self._inside(path)
        try:
            facts = os.lstat(resolved)
        except FileNotFoundError:
            return resolved
        if not stat.S_ISREG(facts.st_mode):
            raise RefusedWrite(f"'{self._shown(path)}' is not a regular file (a folder, a "
                               "device or a pipe stands there); move it away")
        return resolved

    def write(self, path: Path, data: bytes) -> str:
        """:func:`write` after :meth:`check`; the sha256 of ``data``."""
        return write(self.check(path), data)

    def _shown(self, path) -> str:
        return display_path(path, self.root) or "."


def write(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically; return its sha256.  (Callers check
    ``path`` with a :class:`WritePolicy` first.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.",
                                         suffix=".publisher-tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with _quiet():
            os.unlink(temporary)
        raise
    return hashlib.sha256(data).hexdigest()


def sweep(folder: Path, *, older_than: float = 600.0) -> int:
    """Remove the temporary files that writes killed half-way left in ``folder``:
    those of a process that has ended (another build running in the same project
    keeps its own).  Returns how many went."""
    import time

    removed = 0
    if not folder.is_dir():
        return removed
    for leftover in folder.rglob(TEMPORARY):
        pid = _writer(leftover.name)
        if pid is not None:
            if _running(pid):
                continue
        else:  # a name without its writer: only when it is old
            try:
                if time.time() - leftover.lstat().st_mtime < older_than:
                    continue
            except OSError:
                continue
        with _quiet():
            leftover.unlink()
            removed += 1
    return removed


def _writer(name: str) -> int | None:
    """The process id in a temporary file's name (``.NAME.PID.RANDOM.publisher-tmp``)."""
    parts = name.removesuffix(".publisher-tmp").rsplit(".", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], (OSError, RefusedWrite))


class Manifest:
    """``build/manifest.json``: every output with its sources, sha256 and pages.

    It is rewritten (atomically) after each output, and read back at the start
    of a build keeping only the entries whose file is there with that sha256,
    so that after any interruption it still tells the truth.

    ``stamps``, when given (a file in the cache), keeps each output's size,
    modification and change times and inode as written beside its sha256: a
    file whose stamp is unchanged is not read again to check it (an edit that
    keeps the size and sets the modification time back still changes the
    change time).  The stamps stay out of the manifest, which is the same
    bytes on every machine.  Only regular files named as outputs are listed.
    """

    def __init__(self, build_dir: Path, stamps: Path | None = None,
                 writes: WritePolicy | None = None):
        self.build_dir = build_dir
        self.path = build_dir / "manifest.json"
        self.stamps_path = stamps
        self.writes = writes or WritePolicy([build_dir, *([stamps.parent] if stamps else [])],
                                            build_dir.parent)
        self.outputs: dict[str, dict] = {}
        self.stamps: dict[str, list] = {}  # name → [size, mtime_ns, sha256]
        self._texts: dict[str, tuple[dict, str]] = {}  # name → (entry, its JSON)
        try:
            listed = json.loads(self.path.read_text(encoding="utf-8"))["outputs"]
            entries = {o["path"]: o for o in listed}
        except (OSError, ValueError, KeyError, TypeError):
            entries = {}
        kept = self._read_stamps()
        inside = _Inside(build_dir)
        for name, entry in entries.items():
            # only outputs as builds name them, regular files inside build/: a
            # manifest edited to name a device, a pipe or a file elsewhere is not read
            if not (isinstance(entry, dict) and isinstance(name, str)
                    and OUTPUT_PATH.fullmatch(name) and inside(name)):
                continue
            stamp = _stamp(build_dir / name)
            if stamp is None:
                continue
            known = kept.get(name)
            if known == [*stamp, entry.get("sha256")] or \
                    _sha256(build_dir / name) == entry.get("sha256"):
                self.outputs[name] = entry
                self.stamps[name] = [*stamp, entry.get("sha256")]
        self.stale = len(self.outputs) != len(entries)  # the file lists what is not there

    def tidy(self) -> None:
        """Write the manifest again if the file lists what it should not."""
        if self.stale:
            self.flush()

    def _read_stamps(self) -> dict[str, list]:
        if self.stamps_path is None:
            return {}
        try:
            kept = json.loads(self.stamps_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return kept if isinstance(kept, dict) else {}

    def record(self, name: str, entry: dict) -> None:
        entry = {"path": name, **entry}
        stamp = _stamp(self.build_dir / name)
        stamped = [*stamp, entry.get("sha256")] if stamp else None
        if self.outputs.get(name) != entry or self.stamps.get(name) != stamped:
            self.outputs[name] = entry
            if stamped:
                self.stamps[name] = stamped
            else:
                self.stamps.pop(name, None)
            self.flush()

    def forget(self, prefixes) -> None:
        """Drop the entries whose name starts with one of ``prefixes``."""
        prefixes = tuple(prefixes)
        gone = [name for name in self.outputs if prefixes and name.startswith(prefixes)]
        for name in gone:
            del self.outputs[name]
            self.stamps.pop(name, None)
            self._texts.pop(name, None)
        if gone:
            self.flush()

    def flush(self) -> None:
        self.stale = False
        # what json.dumps(indent=2) writes, each entry serialised once while it is
        # unchanged (the manifest is rewritten after every output of a build)
        entries = [self._text(name) for name in sorted(self.outputs)]
        body = ",\n".join(entries).join(("[\n", "\n  ]")) if entries else "[]"
        try:
            self.writes.write(self.path, f'{{\n  "outputs": {body}\n}}\n'.encode())
        except RefusedWrite as exc:
            raise OSError(errno.EPERM, str(exc)) from None
        if self.stamps_path is not None:
            with _quiet():  # without them, the next build reads the outputs to check them
                self.writes.write(self.stamps_path,
                                  json.dumps(self.stamps, sort_keys=True).encode())

    def _text(self, name: str) -> str:
        entry = self.outputs[name]
        kept = self._texts.get(name)
        if kept is None or kept[0] is not entry:
            text = json.dumps(entry, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            kept = self._texts[name] = (entry, "    " + text)
        return kept[1]


class _Inside:
    """Whether an output's folder, links followed, is inside the build folder
    (each folder resolved once)."""

    def __init__(self, build_dir: Path):
        self.build_dir = build_dir.resolve()
        self.folders: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        folder = name.rpartition("/")[0]
        if folder not in self.folders:
            resolved = (self.build_dir / folder).resolve()
            self.folders[folder] = resolved.is_relative_to(self.build_dir)
        return self.folders[folder]


def _stamp(path: Path) -> list | None:
    """What tells a file changed without reading it: its size, its modification
    time and its change time (which no program can set back), on a regular file
    that is no link; None for anything else."""
    try:
        facts = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(facts.st_mode):
        return None
    return [facts.st_size, facts.st_mtime_ns, facts.st_ctime_ns, facts.st_ino]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
