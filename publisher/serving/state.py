"""What ``publisher serve`` shows, shared by the build thread and the web pages:
the last build's outputs, their status, the open pages' event streams, and
page images rasterised with pypdfium2, kept by the PDF's sha256."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..defaults import DEFAULTS
from ..errors import Problem

KIND_FOLDERS = {"releases": "release", "kits": "kit", "newsletters": "newsletter"}


WIDTHS = (160, 320, 480, 640, 800, 960, 1280, 1600, 1920, 2560)  # rasterised widths


@dataclass
class Output:
    """One file of the build, as the pages show it."""

    path: str  # relative to build/, as in the manifest
    sha256: str
    pages: int | None

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def suffix(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def lang(self) -> str:
        return self.stem.rsplit(".", 1)[-1] if "." in self.stem else ""

    @property
    def group(self) -> str:
        """The release id, kit slug or month: what the languages are versions of."""
        return self.stem.rsplit(".", 1)[0] if "." in self.stem else self.stem


@dataclass
class State:
    """What the last build made, shared by the build thread and the web pages."""

    root: Path
    version: int = 0  # one more after each build
    building: bool = True
    outputs: dict[str, Output] = field(default_factory=dict)  # by path
    problems: list[Problem] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    embargoes: dict[str, dt.datetime] = field(default_factory=dict)  # release id → lifts
    seconds: float = 0.0
    finished: str = ""
    stopping: bool = False
    # re-entrant: a page takes it once around everything it shows, so that its
    # status and its problems come from the same build
    lock: threading.RLock = field(default_factory=threading.RLock)
    # the open pages' event streams: (their loop, the event that wakes them)
    listeners: set = field(default_factory=set)
    # the latest versions and the output each one changed (None: anything)
    recent: deque = field(default_factory=lambda: deque(maxlen=2000))

    def changed(self, output: str | None = None) -> None:
        """One more version (the lock held): every open page is woken at once."""
        self.version += 1
        self.recent.append((self.version, output))
        for listener in list(self.listeners):
            loop, event = listener
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop has closed (the server stopped)
                self.listeners.discard(listener)

    def news(self, seen: int) -> list[str] | None:
        """The outputs changed since version ``seen``; None when it may be anything
        (the lock held)."""
        if not self.recent or self.recent[0][0] > seen + 1:
            return None
        changed = [output for version, output in self.recent if version > seen]
        return None if None in changed else list(dict.fromkeys(changed))

    def built(self, result, seconds: float) -> None:
        outputs = _manifest(self.root)
        embargoes = _embargoes(self.root)
        build_dir = self.root / str(DEFAULTS["build_dir"])
        with self.lock:
            previous = dict(self.outputs)
        # an output whose new render failed is out of the manifest, but its last
        # good file is still there (outputs are replaced only when made): shown
        for path, output in previous.items():
            if path not in outputs and (build_dir / path).is_file():
                outputs[path] = output
        with self.lock:
            self.outputs = outputs
            self.problems = list(result.problems)
            self.failed = list(result.failed)
            self.embargoes = embargoes
            self.seconds = seconds
            self.finished = time.strftime("%H:%M:%S")
            self.building = False
            self.changed()

    def planned(self, documents: int, reused: int) -> None:
        """A build starts rendering: the pages say so at once."""
        if documents:
            with self.lock:
                self.building = True
                self.changed()

    def wrote(self, output, name: str, problems) -> None:
        """One output written: shown now, before the kits and newsletters that
        follow it in the same build."""
        if output is None:
            return
        build_dir = self.root / str(DEFAULTS["build_dir"])
        try:
            relative = Path(output.path).relative_to(build_dir).as_posix()
        except ValueError:
            return
        shown = Output(relative, output.sha256, output.pages)
        if shown.folder not in KIND_FOLDERS:
            return
        with self.lock:
            if self.outputs.get(relative) == shown:  # reused from the cache: nothing new
                return
            self.outputs[relative] = shown
            self.changed(relative)

    def by_sha(self, sha: str) -> Output | None:
        with self.lock:
            return next((o for o in self.outputs.values() if o.sha256 == sha), None)


def _manifest(root: Path) -> dict[str, Output]:
    path = root / str(DEFAULTS["build_dir"]) / "manifest.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    found = {}
    for entry in entries:
        try:
            output = Output(str(entry["path"]), str(entry["sha256"]), entry.get("pages"))
        except (KeyError, TypeError):
            continue
        if output.folder in KIND_FOLDERS and "/" in output.path:
            found[output.path] = output
    return dict(sorted(found.items()))


def _embargoes(root: Path) -> dict[str, dt.datetime]:
    """When each release (by id) and each kit (by slug: its latest release's) may be
    published; none for what is public."""
    from ..load import load
    from ..selection import kit_release_ids, release_index

    try:
        project = load(root)
    except Exception:  # a project that cannot be read: the build says why
        return {}
    found: dict[str, dt.datetime] = {}
    for release in project.releases:
        moment = release.meta.get("embargo")
        if isinstance(moment, dt.datetime):
            found[release.id] = max(moment, found.get(release.id, moment))
    index = release_index(project)
    for kit in project.kits:
        if kit.problems:
            continue
        moments = [found[rid] for rid in kit_release_ids(kit, index)[0] if rid in found]
        if moments:
            found[f"kit:{kit.slug}"] = max(moments)
    return found


class Pictures:
    """Page images by (sha256, page, width), the most recent few hundred kept."""

    def __init__(self, limit: int = 400):
        self.limit = limit
        self.kept: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, path: Path, sha: str, page: int, width: int) -> bytes | None:
        key = (sha, page, width)
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return self.kept[key]
        data = _rasterise(path, page, width)
        if data is None:
            return None
        with self.lock:
            self.kept[key] = data
            while len(self.kept) > self.limit:
                self.kept.popitem(last=False)
        return data


def _rasterise(path: Path, page: int, width: int) -> bytes | None:
    import pypdfium2

    from ..pdf.pdfium import opened
    from ..pdf.preview import page_png

    try:
        with opened(str(path)) as document:
            if not 1 <= page <= len(document):
                return None
            return page_png(document, page, width, small=False)
    except (pypdfium2.PdfiumError, OSError):
        return None


def pdf_facts(path: Path) -> tuple[str, list[tuple[int, int]]]:
    """A PDF's title and each page's size in points (for the images' aspect ratio)."""
    import pypdfium2

    from ..pdf.pdfium import opened

    try:
        with opened(str(path)) as document:
            sizes = [tuple(round(v) for v in document.get_page_size(i))
                     for i in range(len(document))]
            return (document.get_metadata_dict().get("Title") or "").strip(), sizes
    except (pypdfium2.PdfiumError, OSError):
        return "", []
