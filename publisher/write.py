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


def write_manifest(build_dir: Path, entries: dict[str, dict]) -> Path:
    """Merge ``entries`` (output path → {sources, sha256}) into build/manifest.json.

    Entries of earlier builds are kept while their file still exists, so
    building one release does not forget the others.
    """
    path = build_dir / "manifest.json"
    outputs: dict[str, dict] = {}
    if path.exists():
        try:
            outputs = {o["path"]: o for o in json.loads(path.read_text())["outputs"]}
        except (ValueError, KeyError, TypeError):
            outputs = {}
    for name, entry in entries.items():
        outputs[name] = {"path": name, **entry}
    outputs = {k: v for k, v in outputs.items() if (build_dir / k).exists()}
    manifest = {"outputs": [outputs[k] for k in sorted(outputs)]}
    write(path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
    return path
