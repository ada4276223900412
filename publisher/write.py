"""Stage 6 — write: outputs land atomically, and the manifest lists them.

Every file is written to a temporary file in the same folder, then renamed
over the target: a reader sees the old file or the new one, never half of
one, and a failed or killed build leaves the previous good PDF untouched.
(No fsync: this protects against a build that fails or is killed, not
against the machine losing power.)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

TEMPORARY = ".*.publisher-tmp"  # the glob of write()'s temporary files


def write(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically; return its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".publisher-tmp",
                                         dir=path.parent)
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


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


class Manifest:
    """``build/manifest.json``: every output with its sources, sha256 and pages.

    It is rewritten (atomically) after each output, and read back at the start
    of a build keeping only the entries whose file is there with that sha256,
    so that after any interruption it still tells the truth.

    ``stamps``, when given (a file in the cache), keeps each output's size and
    modification time as written beside its sha256: a file whose size and
    time are unchanged is not read again to check it.  The stamps stay out of
    the manifest, which is the same bytes on every machine.
    """

    def __init__(self, build_dir: Path, stamps: Path | None = None):
        self.build_dir = build_dir
        self.path = build_dir / "manifest.json"
        self.stamps_path = stamps
        self.outputs: dict[str, dict] = {}
        self.stamps: dict[str, list] = {}  # name → [size, mtime_ns, sha256]
        self._texts: dict[str, tuple[dict, str]] = {}  # name → (entry, its JSON)
        try:
            listed = json.loads(self.path.read_text(encoding="utf-8"))["outputs"]
            entries = {o["path"]: o for o in listed}
        except (OSError, ValueError, KeyError, TypeError):
            entries = {}
        kept = self._read_stamps()
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            stamp = _stamp(build_dir / name)
            if stamp is None:
                continue
            known = kept.get(name)
            if known == [*stamp, entry.get("sha256")] or \
                    _sha256(build_dir / name) == entry.get("sha256"):
                self.outputs[name] = entry
                self.stamps[name] = [*stamp, entry.get("sha256")]

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
        # what json.dumps(indent=2) writes, each entry serialised once while it is
        # unchanged (the manifest is rewritten after every output of a build)
        entries = [self._text(name) for name in sorted(self.outputs)]
        body = ",\n".join(entries).join(("[\n", "\n  ]")) if entries else "[]"
        write(self.path, f'{{\n  "outputs": {body}\n}}\n'.encode())
        if self.stamps_path is not None:
            with _quiet():  # without them, the next build reads the outputs to check them
                write(self.stamps_path, json.dumps(self.stamps, sort_keys=True).encode())

    def _text(self, name: str) -> str:
        entry = self.outputs[name]
        kept = self._texts.get(name)
        if kept is None or kept[0] is not entry:
            text = json.dumps(entry, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            kept = self._texts[name] = (entry, "    " + text)
        return kept[1]


def _stamp(path: Path) -> list | None:
    try:
        facts = path.stat()
    except OSError:
        return None
    return [facts.st_size, facts.st_mtime_ns]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
