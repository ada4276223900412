"""A content-addressed cache of rendered outputs.

An output's key is the sha256 of everything that can change its bytes: its
sources, the contacts and site settings, the files of the layouts it uses,
the catalogs of its language, the fonts, referenced images and attachments,
the profile, whether an embargo is in force at the reference time, and the
versions of publisher and WeasyPrint.  An unchanged output is neither
re-rendered nor rewritten.  Entries are written atomically, so a build killed
half-way leaves a cache that the next build can trust.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .write import write

CACHE_DIR = ".cache"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def _code_hash() -> str:
    """The toolkit's own code: a change to it is a change to every output."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


TOOLKIT = (f"publisher {_version('publisher')} {_code_hash()} "
           f"weasyprint {_version('weasyprint')}")


@lru_cache(maxsize=4096)
def _file_hash(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes ('missing' when there is none), memoised per process."""
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return _file_hash(str(path), stat.st_mtime_ns, stat.st_size)


def tree_hash(paths, bases=()) -> str:
    """One hash for many files: their names (relative to the first of ``bases``
    that holds them, so that a moved project keeps its cache) and contents."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        name = path.name
        for base in bases:
            if base in path.parents:
                name = path.relative_to(base).as_posix()
                break
        digest.update(f"{name}\0{file_hash(path)}\n".encode())
    return digest.hexdigest()


_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_LAYOUT_REF = re.compile(r"""["'](?:\.\./)?([A-Za-z0-9_-]+)/[^"'/]+\.(?:html|css|txt)["']""")


def body_images(release) -> list[Path]:
    """Local files a release's body refers to as images."""
    found = []
    for ref in _IMAGE.findall(release.body or ""):
        if "://" not in ref and not ref.startswith("data:"):
            found.append((release.path.parent / ref).resolve())
    return found


def layout_files(layout_dirs: list[Path], layout: str) -> list[Path]:
    """The files a layout uses: its folder and every folder its files refer to."""
    names, todo = set(), [layout]
    while todo:
        name = todo.pop()
        if name in names:
            continue
        names.add(name)
        for folder in layout_dirs:
            for path in (folder / name).glob("*") if (folder / name).is_dir() else []:
                if path.suffix in (".html", ".css", ".txt"):
                    todo.extend(_LAYOUT_REF.findall(path.read_text(encoding="utf-8",
                                                                   errors="replace")))
    return sorted(path for folder in layout_dirs for name in names
                  if (folder / name).is_dir() for path in (folder / name).rglob("*")
                  if path.is_file())


class Cache:
    def __init__(self, build_dir: Path):
        self.dir = build_dir / CACHE_DIR

    def get(self, key: str) -> dict | None:
        meta = self.dir / f"{key}.json"
        try:
            entry = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        for item in entry["files"]:
            blob = self.dir / f"{key}.{item['suffix']}"
            if file_hash(blob) != item["sha256"]:
                return None  # incomplete or damaged: render again
        return entry

    def blob(self, key: str, suffix: str) -> Path:
        return self.dir / f"{key}.{suffix}"

    def put(self, key: str, files: dict[str, bytes], meta: dict) -> None:
        entry = dict(meta, files=[])
        for suffix, data in files.items():
            sha = write(self.blob(key, suffix), data)
            entry["files"].append({"suffix": suffix, "sha256": sha})
        # the index is written last: an entry without it does not exist
        write(self.dir / f"{key}.json", json.dumps(entry, sort_keys=True).encode())

    def clear(self) -> int:
        count = len(list(self.dir.glob("*.json"))) if self.dir.exists() else 0
        shutil.rmtree(self.dir, ignore_errors=True)
        return count


def key_of(*parts) -> str:
    digest = hashlib.sha256(TOOLKIT.encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(part if isinstance(part, bytes) else
                      json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()
