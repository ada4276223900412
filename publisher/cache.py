"""A content-addressed store, and the cache of rendered outputs and parts on it.

:class:`Store` keeps objects by the sha256 of their bytes
(``objects/ab/abcdef….pdf``) and checks every object against its name when
it is read: an object that does not match (damaged, partial, or crafted in a
cache restored from elsewhere) is a miss, removed, and made again; under
``--debug`` the build says so.  :class:`Cache` maps an action's key, the
sha256 of everything that can change its bytes (see :mod:`publisher.pipeline`
for what goes in each kind of key), to the objects it made and a little
metadata (``actions/<key>.json``, written after its objects: an entry
without them does not exist).

What this checks is integrity, not authorship: an entry whose objects match
their digests is trusted to be what its key says.  Restore a cache only from
builds you trust (your own main branch, say), as you would any other build
artifact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .write import WritePolicy

log = logging.getLogger("publisher")

_SHA = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"[A-Za-z0-9_-]{1,16}(?:\.[A-Za-z0-9]{1,8})?")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def _code_hash() -> str:
    """The toolkit's own code: a change to it is a change to every output."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


TOOLKIT = (f"publisher {_version('publisher')} {_code_hash()} "
           f"weasyprint {_version('weasyprint')} pikepdf {_version('pikepdf')}")


def key_of(*parts) -> str:
    digest = hashlib.sha256(TOOLKIT.encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(part if isinstance(part, bytes) else
                      json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _extension(suffix: str) -> str:
    """The file extension of an object made for ``suffix`` ("0.pdf" → ".pdf")."""
    return "." + suffix.rsplit(".", 1)[-1] if suffix else ""


def _sha_of(entry: dict, suffix: str) -> str | None:
    """The digest of the one object an entry holds for ``suffix``."""
    try:
        [item] = [item for item in entry["files"] if item["suffix"] == suffix]
        return str(item["sha256"])
    except (ValueError, KeyError, TypeError):
        return None


class Store:
    """Objects named by the sha256 of their bytes, under ``folder/objects``."""

    def __init__(self, folder: Path, writes: WritePolicy | None = None):
        self.dir = folder / "objects"
        self.writes = writes or WritePolicy([folder], folder)

    def path(self, sha: str, extension: str = "") -> Path:
        return self.dir / sha[:2] / f"{sha}{extension}"

    def has(self, sha: str, extension: str = "") -> bool:
        return self.path(sha, extension).is_file()

    def put(self, data: bytes, extension: str = "") -> str:
        """Keep ``data``; return its sha256 (an object already there is not rewritten)."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha, extension)
        if not path.is_file():
            self.writes.write(path, data)
        return sha

    def read(self, sha: str, extension: str = "") -> bytes | None:
        """The bytes of object ``sha``, or None when it is missing or does not match."""
        path = self.path(sha, extension)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != sha:
            self._bad(path)
            return None
        return data

    def checked(self, sha: str, extension: str = "") -> Path | None:
        """The path of object ``sha`` once its bytes are checked (for a renderer that
        reads files itself), or None."""
        return self.path(sha, extension) if self.read(sha, extension) is not None else None

    def _bad(self, path: Path) -> None:
        log.debug("%s does not match its digest: not used, made again", path)
        try:
            path.unlink()
        except OSError:
            pass


class Cache:
    """Action results by key: which objects an action made, and its metadata."""

    def __init__(self, folder: Path, writes: WritePolicy | None = None):
        self.dir = folder
        self.writes = writes or WritePolicy([folder], folder)
        self.store = Store(folder, self.writes)

    def _entry_path(self, key: str) -> Path:
        return self.dir / "actions" / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The entry of ``key`` if it is well formed and its objects are there; read
        their bytes with :meth:`data`, which checks them."""
        try:
            entry = json.loads(self._entry_path(key).read_text(encoding="utf-8"))
            files = entry["files"]
            for item in files:
                if not (isinstance(item["suffix"], str) and _SUFFIX.fullmatch(item["suffix"])
                        and isinstance(item["sha256"], str) and _SHA.fullmatch(item["sha256"])):
                    return None
                if not self.store.has(item["sha256"], _extension(item["suffix"])):
                    return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return entry if isinstance(entry, dict) else None

    def data(self, key: str, entry: dict, suffix: str) -> bytes | None:
        """The bytes an entry holds for ``suffix``, or None if they are not what
        their digest says."""
        sha = _sha_of(entry, suffix)
        return self.store.read(sha, _extension(suffix)) if sha else None

    def path(self, entry: dict, suffix: str) -> Path | None:
        """The checked file an entry holds for ``suffix`` (for a renderer that reads
        files itself), or None."""
        sha = _sha_of(entry, suffix)
        return self.store.checked(sha, _extension(suffix)) if sha else None

    def put(self, key: str, files: dict[str, bytes], meta: dict) -> None:
        entry = dict(meta, files=[])
        for suffix, data in files.items():
            entry["files"].append({"suffix": suffix,
                                   "sha256": self.store.put(data, _extension(suffix))})
        # the entry is written last: without it, its objects answer for nothing
        self.writes.write(self._entry_path(key), json.dumps(entry, sort_keys=True).encode())

    def clear(self) -> int:
        actions = self.dir / "actions"
        count = len(list(actions.glob("*.json"))) if actions.is_dir() else 0
        shutil.rmtree(self.dir, ignore_errors=True)
        return count

    # small things kept between builds

    def remembered(self, name: str, default: int) -> int:
        """A number the last build remembered (a kit's count of front pages)."""
        entry = self.get(key_of("hint", name))
        value = default if entry is None else entry.get("value", default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def remember(self, name: str, value: int) -> None:
        key = key_of("hint", name)
        entry = self.get(key)
        if entry is None or entry.get("value") != value:
            self.put(key, {}, {"value": value})


class FontPrograms:
    """Merged font programs (see :func:`publisher.pdf.join.merge_fonts`) in the cache."""

    def __init__(self, cache: Cache):
        self.cache = cache

    def get(self, key: str) -> bytes | None:
        entry = self.cache.get(f"font-{key}")
        return None if entry is None else self.cache.data(f"font-{key}", entry, "font")

    def put(self, key: str, data: bytes) -> None:
        self.cache.put(f"font-{key}", {"font": data}, {})
