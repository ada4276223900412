"""A content-addressed cache of rendered outputs and parts.

An entry's key is the sha256 of everything that can change its bytes (see
:mod:`publisher.pipeline` for what goes in each kind of key), always named
relative to the project or the toolkit, so that a project moved to another
folder keeps its cache.  An unchanged output is neither re-rendered nor
rewritten.  Entries are written atomically, the index last, so a build killed
half-way leaves a cache that the next build can trust.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .write import write


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


class Cache:
    def __init__(self, folder: Path):
        self.dir = folder

    def get(self, key: str) -> dict | None:
        """The entry of ``key``, if its files are all there as they were written
        (same size and modification time; a file that differs in either is
        hashed).  Read the files with :meth:`data`, which checks their hash."""
        meta = self.dir / f"{key}.json"
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
            files = entry["files"]
            for item in files:
                blob = self.dir / f"{key}.{item['suffix']}"
                stat = blob.stat()
                if (stat.st_size, stat.st_mtime_ns) != (item.get("size"), item.get("mtime")) \
                        and hashlib.sha256(blob.read_bytes()).hexdigest() != item["sha256"]:
                    return None  # incomplete or damaged: render again
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return entry

    def data(self, key: str, entry: dict, suffix: str) -> bytes | None:
        """The bytes of an entry's file, or None if they are not what was written."""
        try:
            [item] = [item for item in entry["files"] if item["suffix"] == suffix]
            data = self.blob(key, suffix).read_bytes()
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return data if hashlib.sha256(data).hexdigest() == item["sha256"] else None

    def blob(self, key: str, suffix: str) -> Path:
        return self.dir / f"{key}.{suffix}"

    def put(self, key: str, files: dict[str, bytes], meta: dict) -> None:
        entry = dict(meta, files=[])
        for suffix, data in files.items():
            sha = write(self.blob(key, suffix), data)
            stat = self.blob(key, suffix).stat()
            entry["files"].append({"suffix": suffix, "sha256": sha, "size": stat.st_size,
                                   "mtime": stat.st_mtime_ns})
        # the index is written last: an entry without it does not exist
        write(self.dir / f"{key}.json", json.dumps(entry, sort_keys=True).encode())

    def clear(self) -> int:
        count = len(list(self.dir.glob("*.json"))) if self.dir.exists() else 0
        shutil.rmtree(self.dir, ignore_errors=True)
        return count

    # small things kept between builds

    def remembered(self, name: str, default: int) -> int:
        """A number the last build remembered (a kit's count of front pages)."""
        entry = self.get(key_of("hint", name))
        return default if entry is None else int(entry.get("value", default))

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
