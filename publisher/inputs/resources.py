"""The project is the boundary: which files and URLs a build may read.

Every file the toolkit reads (sources, images, fonts, layouts, catalogs,
attachments, kit covers) is resolved with symbolic links followed and must lie
inside the project or the toolkit's own layouts and fonts, be a regular file
(no FIFO, device or folder) and stay under its size limit.  The check comes
before the file is opened, hashed or stat'ed for anything else.  WeasyPrint
reads the same way through :func:`make_fetcher`, plus ``data:`` URIs and
``https://`` URLs on the hosts ``site.yaml`` lists under ``allowed_hosts``.
Everything else is refused, and the refusal says which resource and why.
"""

from __future__ import annotations

import hashlib
import os
import stat
import urllib.parse
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..defaults import limits as merged_limits

# Renders see the project's files under publisher://project/… (and the toolkit's
# under publisher://toolkit-layouts/…, publisher://toolkit-fonts/…) rather than
# under their absolute paths: WeasyPrint names images after their URL, so a PDF
# would otherwise depend on the folder the project sits in.  Relative references
# resolve against such URLs as they do against file: ones.
SCHEME = "publisher"
for _list in (urllib.parse.uses_relative, urllib.parse.uses_netloc):
    if SCHEME not in _list:
        _list.append(SCHEME)


class RefusedResource(Exception):
    """A resource outside what the build may read."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing  # the file does not exist (rather than being refused)


# where a link in a published document may lead
LINK_SCHEMES = ("http", "https", "mailto", "tel")


def link_problem(href: str) -> str | None:
    """Why ``href`` may not be a link target of a published document, or None.

    Links go to the web, to an address or to an anchor of the document: a
    ``javascript:``, ``data:`` or ``file:`` target could run or read something
    on the reader's machine, and a relative one would be resolved against the
    build machine's folders.
    """
    import html

    target = html.unescape(href)
    # what browsers ignore in a scheme (tabs, line ends, leading spaces)
    cleaned = "".join(c for c in target if c > " ").strip()
    if not cleaned:
        return "a link without a target; give it one, e.g. [text](https://example.org)"
    if cleaned.startswith("#"):
        return None
    shown = target if len(target) <= 60 else target[:57] + "…"
    scheme = urlsplit(cleaned).scheme.lower()
    if scheme in LINK_SCHEMES:
        return None
    if scheme and len(scheme) > 1:
        return (f"the link '{shown}' uses the '{scheme}:' scheme; links may go to http, "
                "https, mailto or tel addresses, or to an #anchor")
    return (f"the link '{shown}' is relative: it would lead to the build machine's files; "
            "link to its published https:// address, or attach the file to a kit "
            "(attachments:)")


def _mb(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


class ResourcePolicy:
    def __init__(self, roots: list[Path], allowed_hosts: list[str] | None = None,
                 limits: dict[str, float] | None = None, names: dict[str, Path] | None = None):
        self.roots = [Path(r).resolve() for r in roots]
        self.allowed_hosts = {h.lower() for h in (allowed_hosts or [])}
        self.limits = merged_limits(limits)
        # the folders a render sees under publisher://<name>/, the deepest first
        named = {name: Path(folder).resolve() for name, folder in (names or {}).items()}
        self._names = sorted(((name, folder.as_uri().rstrip("/") + "/")
                              for name, folder in named.items()),
                             key=lambda item: -len(item[1]))
        self._resolved: dict[str, Path] = {}

    def resolve(self, path: Path | str) -> Path:
        """``path`` with its links followed, once per path for this policy's life
        (one load or one build: what they read is what the folders held then)."""
        key = str(path)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = Path(path).resolve()
            self._resolved.setdefault(str(found), found)
        return found

    def virtual(self, text: str) -> str:
        """``text`` with the named folders' ``file:`` URLs as ``publisher://<name>/`` ones."""
        for name, prefix in self._names:
            text = text.replace(prefix, f"{SCHEME}://{name}/")
        return text

    def shown(self, text: str) -> str:
        """``text`` with ``publisher://`` and ``file:`` URLs of the named folders written
        as people know them: project files by their path in the project."""
        for name, prefix in self._names:
            readable = ("" if name == "project" or name.startswith("extra-") else
                        "(cache) " if name == "cache" else
                        f"(toolkit) {name.removeprefix('toolkit-')}/")
            text = text.replace(f"{SCHEME}://{name}/", readable).replace(prefix, readable)
        return text

    def real(self, url: str) -> str:
        """The ``file:`` URL behind a ``publisher://<name>/`` one (others unchanged)."""
        if url.startswith(f"{SCHEME}://"):
            name, _, rest = url[len(SCHEME) + 3:].partition("/")
            for known, prefix in self._names:
                if known == name:
                    return prefix + rest
        return url

    def inside(self, path: Path) -> bool:
        return self._inside(self.resolve(path))

    def _inside(self, resolved: Path) -> bool:
        text = str(resolved)
        return any(text == root or text.startswith(root.rstrip(os.sep) + os.sep)
                   for root in map(str, self.roots))

    def check_path(self, path: Path, kind: str = "file", shown: str | None = None) -> Path:
        """The resolved ``path`` if it may be read, else :class:`RefusedResource`.

        Resolving follows symbolic links; nothing is opened.  Messages name the
        file as ``shown`` (what the source wrote), else as ``path``.
        """
        resolved = self.resolve(path)
        name = shown or str(path)
        if not self._inside(resolved):
            raise RefusedResource(
                f"'{name}' is outside the project; only files inside the project may be "
                "used: copy it into sources/ and refer to it by a relative path")
        try:
            info = os.stat(resolved)
        except FileNotFoundError:
            raise RefusedResource(f"'{name}' does not exist (looked for {Path(path).name}); "
                                  "check the file name", missing=True) from None
        except OSError as exc:
            raise RefusedResource(f"'{name}' cannot be read ({exc.strerror})") from None
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise RefusedResource(f"'{name}' is {what}; refer to a file")
        limit = self.size_limit(kind)
        if info.st_size > limit:
            key = f"{kind}_mb" if f"{kind}_mb" in self.limits else "file_mb"
            raise RefusedResource(
                f"'{name}' is {_mb(info.st_size)}, more than the {_mb(limit)} allowed for "
                f"a {kind}; make it smaller or raise 'limits: {{{key}: …}}' in site.yaml")
        return resolved

    def read_bytes(self, path: Path, kind: str = "file", shown: str | None = None) -> bytes:
        """The bytes of ``path``, after :meth:`check_path`."""
        resolved = self.check_path(path, kind, shown)
        with open(resolved, "rb") as handle:
            # no more than the file holds (a read of the whole limit would reserve it)
            size = os.fstat(handle.fileno()).st_size
            return handle.read(min(size, self.size_limit(kind)) + 1)

    def size_limit(self, kind: str) -> int:
        """The most bytes a file of ``kind`` may have."""
        return int(float(self.limits.get(f"{kind}_mb", self.limits["file_mb"])) * 1_000_000)

    def check_url(self, url: str, kind: str = "file") -> str:
        """Return the URL if it may be read, else raise :class:`RefusedResource`."""
        url = self.real(url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return url
        if scheme == "file":
            self.check_path(file_of(url), kind, url)
            return url
        if scheme in ("http", "https"):
            host = (parts.hostname or "").lower()
            if scheme == "https" and host in self.allowed_hosts:
                return url
            raise RefusedResource(
                f"'{url}' is a network resource; copy the file into sources/ and refer to it "
                "by a relative path, or list its host under 'allowed_hosts' in site.yaml "
                "(https only)")
        raise RefusedResource(f"'{url}' uses the '{scheme}:' scheme, which layouts may not load")

    def resolve_reference(self, ref: str, base_dir: Path, kind: str = "file") -> str:
        """A reference written in a source (relative path or URL) as a URL that may be read."""
        parts = urlsplit(ref)
        if parts.scheme and len(parts.scheme) > 1:
            return self.check_url(ref, kind)
        path = base_dir / _path_of(unquote(parts.path))
        return self.check_path(path, kind, ref).as_uri()


class Files:
    """File contents hashed once per build, each path checked by the policy first.

    A build owns one: what it hashed cannot answer for a file edited before the
    next build.  A refused or missing file hashes to a word saying so, and the
    stage that reads it reports why.
    """

    def __init__(self, policy: ResourcePolicy):
        self.policy = policy
        self._hashes: dict[Path, str] = {}
        self._checked: dict[tuple[str, str], str] = {}  # (path as given, kind) → hash
        self._trees: dict[tuple, str] = {}

    def hash(self, path: Path, kind: str = "file") -> str:
        asked = (str(path), kind)
        if asked not in self._checked:
            self._checked[asked] = self._hash(path, kind)
        return self._checked[asked]

    def _hash(self, path: Path, kind: str) -> str:
        try:
            resolved = self.policy.check_path(path, kind)
        except RefusedResource:
            return "refused"
        if resolved not in self._hashes:
            digest = hashlib.sha256()
            with open(resolved, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            self._hashes[resolved] = digest.hexdigest()
        return self._hashes[resolved]

    def tree(self, paths, bases=()) -> str:
        """One hash for many files: their names relative to the first of ``bases``
        that holds them (so a moved project keeps its cache) and their contents."""
        asked = (tuple(str(p) for p in paths), tuple(str(b) for b in bases))
        if asked not in self._trees:
            digest = hashlib.sha256()
            bases = [str(self.policy.resolve(b)).rstrip(os.sep) + os.sep for b in bases]
            for path in sorted(map(self.policy.resolve, paths)):
                text, name = str(path), path.name
                for base in bases:
                    if text.startswith(base):
                        name = Path(text[len(base):]).as_posix()
                        break
                digest.update(f"{name}\0{self.hash(path)}\n".encode())
            self._trees[asked] = digest.hexdigest()
        return self._trees[asked]


def make_fetcher(policy: ResourcePolicy, refused: list[tuple[str, str]]):
    """A WeasyPrint URL fetcher that applies ``policy`` and records refusals as
    (URL, why)."""
    from weasyprint import URLFetcher

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            try:
                real = policy.check_url(url, "image")
            except RefusedResource as exc:
                refused.append((url, str(exc)))
                raise
            return super().fetch(real, headers)

    return ProjectFetcher(timeout=10, allow_redirects=False)


def _path_of(path: str) -> str:
    """A URL's (already unquoted) path as a file system path: the same string on
    POSIX; urllib.request, which knows Windows drives, is imported only there."""
    if os.name != "nt":
        return path
    from urllib.request import url2pathname

    return url2pathname(path)


def file_of(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    return Path(_path_of(unquote(urlsplit(url).path)))
