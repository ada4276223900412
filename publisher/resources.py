"""Which files and URLs a build may read.

WeasyPrint reads only files inside the project (and the toolkit's built-in
layouts and fonts), ``data:`` URIs, and ``https://`` URLs on hosts that
``site.yaml`` lists under ``allowed_hosts``.  Everything else is refused, and
the refusal is reported to the user with the resource it concerns.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname


class RefusedResource(Exception):
    """A resource outside what the build may read."""


class ResourcePolicy:
    def __init__(self, roots: list[Path], allowed_hosts: list[str] | None = None):
        self.roots = [Path(r).resolve() for r in roots]
        self.allowed_hosts = {h.lower() for h in (allowed_hosts or [])}

    def inside(self, path: Path) -> bool:
        path = Path(path).resolve()
        return any(path == root or root in path.parents for root in self.roots)

    def check_url(self, url: str) -> str:
        """Return the URL if it may be read, else raise :class:`RefusedResource`."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return url
        if scheme == "file":
            if not self.inside(file_of(url)):
                raise RefusedResource(
                    f"'{url}' is outside the project; only files inside the project may be "
                    "used: copy it into sources/ and refer to it by a relative path")
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

    def resolve_reference(self, ref: str, base_dir: Path) -> str:
        """Resolve a reference written in a source (relative path or URL) to a URL."""
        parts = urlsplit(ref)
        if parts.scheme and len(parts.scheme) > 1:
            return self.check_url(ref)
        path = (base_dir / url2pathname(unquote(parts.path))).resolve()
        url = path.as_uri()
        self.check_url(url)
        if not path.is_file():
            raise RefusedResource(f"'{ref}' does not exist (looked for {path.name} in "
                                  "the source's folder); check the file name")
        return url


def make_fetcher(policy: ResourcePolicy, refused: list[str]):
    """A WeasyPrint URL fetcher that applies ``policy`` and records refusals."""
    from weasyprint import URLFetcher

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            try:
                policy.check_url(url)
            except RefusedResource as exc:
                refused.append(str(exc))
                raise
            return super().fetch(url, headers)

    return ProjectFetcher(timeout=10, allow_redirects=False)


def file_of(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    return Path(url2pathname(unquote(urlsplit(url).path)))
