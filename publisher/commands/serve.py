"""``publisher serve``: the outputs in the browser, updated as the sources change.

One process: a :func:`~publisher.commands.watch.watch` thread rebuilds what
each save affects (the render state kept warm), and a Starlette application
served by uvicorn shows what the build made: an index of every output with its
status, and for each output its pages as images (rasterised with pypdfium2 at
the browser's pixel ratio, kept by the PDF's sha256) and its e-mail edition.
Each finished build is announced to the open pages by Server-Sent Events; a
page then fetches itself again and swaps its content in place, keeping its
scroll position.

Only the build's outputs, as listed in ``build/manifest.json``, and the
server's own assets are served: whatever the URL says, no other file is read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..defaults import DEFAULTS
from ..errors import Problem

log = logging.getLogger("publisher")

PAGES = Path(__file__).with_name("serve_pages")
KIND_FOLDERS = {"releases": "release", "kits": "kit", "newsletters": "newsletter"}
_WIDTHS = (160, 320, 480, 640, 800, 960, 1280, 1600, 1920, 2560)  # rasterised widths


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
    from ..bundle import kit_release_ids, release_index
    from ..load import load

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
    from .preview import page_png

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


# --- the web application ------------------------------------------------------------------


# what the server's own pages may load: their script, style and images, nothing else
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
# an e-mail edition shown as a mail client would: its inline styles and images, no script
MAIL_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
FILE_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def host_names(host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The ``Host`` values the server answers to when it listens on ``host``: that
    address, this machine's names when it is every address, and ``extra``.  Any
    other is refused, so that a web page elsewhere cannot read the outputs through
    a name that points here (DNS rebinding)."""
    import socket

    names = {host.lower().strip("[]"), *(name.lower() for name in extra)}
    if host in LOOPBACK or host.startswith("127."):
        names.update(LOOPBACK)
    if host in ("0.0.0.0", "::", ""):
        names.update(LOOPBACK)
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.add(name.lower())
            try:
                names.update(info[4][0] for info in socket.getaddrinfo(name, None))
            except OSError:
                pass
    return frozenset(names)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def _host_of(header: str) -> str:
    """The name in a Host header, without its port ("[::1]:8000" → "::1")."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: a request for another host is refused (403), and every
    answer says what a browser may do with it (Content-Security-Policy, nosniff)."""

    def __init__(self, app, hosts: frozenset[str]):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = _host_of(headers.get(b"host", b"").decode("latin-1"))
        if host not in self.hosts:
            body = b"This server answers only for the addresses it listens on.\n"
            await send({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()), *_SAFETY(PAGE_POLICY)]})
            await send({"type": "http.response.body", "body": body})
            return
        path = scope.get("path", "")
        policy = MAIL_POLICY if path.startswith("/email/") or (
            path.startswith("/file/") and path.endswith(".html")) else \
            FILE_POLICY if path.startswith("/file/") else PAGE_POLICY

        async def guarded(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []),
                                                 *_SAFETY(policy)])
            await send(message)

        await self.app(scope, receive, guarded)


def _SAFETY(policy: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer")]


def application(state: State, hosts: frozenset[str] = frozenset(LOOPBACK),
                withhold: bool = False):
    """The Starlette application that shows ``state``, to requests for ``hosts``;
    with ``withhold``, nothing under embargo is shown or served."""
    from urllib.parse import quote

    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response, StreamingResponse
    from starlette.routing import Route

    from ..mail import browsable

    templates = Environment(loader=FileSystemLoader(str(PAGES)),
                            autoescape=select_autoescape(default=True, default_for_string=True))
    templates.filters["url"] = lambda path: quote(str(path), safe="/")
    assets = {name: (PAGES / name).read_bytes() for name in ("serve.css", "serve.js")}
    types = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}
    pictures = Pictures()
    build_dir = (state.root / str(DEFAULTS["build_dir"])).resolve()
    no_store = {"Cache-Control": "no-store"}

    def file_of(relative: str) -> Path | None:
        """The built file ``relative`` names, if it is an output of the build (and
        may be shown)."""
        with state.lock:
            output = state.outputs.get(relative)
        if output is None:
            return None
        if withhold and status(output, dt.datetime.now(dt.timezone.utc))[0] == "embargo":
            return None
        path = (build_dir / relative).resolve()
        if not path.is_relative_to(build_dir) or not path.is_file():
            return None
        return path

    def common() -> dict:
        with state.lock:
            return {"version": state.version, "building": state.building,
                    "errors": [p for p in state.problems if p.severity == "error"],
                    "warnings": [p for p in state.problems if p.severity == "warning"],
                    "finished": state.finished, "seconds": state.seconds,
                    "project": state.root.name}

    def status(output: Output, now: dt.datetime) -> tuple[str, str]:
        with state.lock:
            lifts = state.embargoes.get(output.group if output.folder == "releases" else
                                        f"kit:{output.group}" if output.folder == "kits"
                                        else "")
            # what failed is named by its source: a release's file, a kit's definition
            stems = {Path(name).name.rsplit(".", 1)[0] for name in state.failed}
            failed = output.stem in stems or (output.folder != "releases"
                                              and output.group in stems)
        if failed:
            return "failed", "the last build failed; these are the last good pages"
        if lifts and lifts > now:
            note = f"under embargo until {lifts.isoformat()}"
            if withhold:
                note += "; not shown on this network (serve --public-ok shows it)"
            return "embargo", note
        return "built", ""

    def groups() -> list[dict]:
        now = dt.datetime.now(dt.timezone.utc)
        with state.lock:
            outputs = list(state.outputs.values())
        paths = {o.path for o in outputs}
        shown = []
        for folder, kind in KIND_FOLDERS.items():
            by_group: dict[str, list] = {}
            for output in outputs:
                if output.folder == folder and output.suffix == "pdf":
                    by_group.setdefault(output.group, []).append(output)
            items = []
            for group, pdfs in sorted(by_group.items(), reverse=folder != "kits"):
                versions = []
                for pdf in sorted(pdfs, key=lambda o: o.lang):
                    state_name, note = status(pdf, now)
                    if withhold and state_name == "embargo":
                        continue  # not even its name, on a network
                    versions.append({"output": pdf, "status": state_name, "note": note,
                                     "eml": f"{folder}/{pdf.stem}.eml" in paths})
                if versions:
                    items.append({"group": group, "versions": versions})
            shown.append({"kind": kind, "folder": folder, "items": items})
        return shown

    async def index(request):
        with state.lock:
            values = dict(common(), groups=groups())
        page = templates.get_template("index.html").render(**values)
        return HTMLResponse(page, headers=no_store)

    async def output_page(request):
        relative = request.path_params["path"]
        path = file_of(relative)
        if path is None or not relative.endswith(".pdf"):
            return _missing(templates, common())
        with state.lock:
            output = state.outputs[relative]
            eml = f"{output.folder}/{output.stem}.eml"
            has_eml = eml in state.outputs
            siblings = sorted((o for o in state.outputs.values()
                               if o.folder == output.folder and o.group == output.group
                               and o.suffix == "pdf"), key=lambda o: o.lang)
            # read together: a build ending while the PDF is read below changes neither
            state_name, note = status(output, dt.datetime.now(dt.timezone.utc))
            values = common()
        title, sizes = await asyncio.to_thread(pdf_facts, path)
        page = templates.get_template("output.html").render(
            output=output, title=title or output.stem, sizes=sizes, status=state_name,
            note=note, eml=eml if has_eml else None, siblings=siblings,
            kind=KIND_FOLDERS[output.folder], watched=f"{output.folder}/{output.group}.",
            **values)
        return HTMLResponse(page, headers=no_store)

    async def picture(request):
        sha, page = request.path_params["sha"], request.path_params["page"]
        if not page.isdigit() or len(page) > 5:  # a page number, not a 5000-digit one
            return Response("not found", status_code=404)
        page = int(page)
        try:
            wanted = int(request.query_params.get("w", "800"))
        except ValueError:
            wanted = 800
        width = next((w for w in _WIDTHS if w >= wanted), _WIDTHS[-1])
        output = state.by_sha(sha)
        path = file_of(output.path) if output else None
        if path is None:
            return Response("not found", status_code=404)
        data = await asyncio.to_thread(pictures.get, path, sha, page, width)
        if data is None:
            return Response("not found", status_code=404)
        return Response(data, media_type="image/png",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    async def download(request):
        relative = request.path_params["path"]
        path = file_of(relative)
        if path is None:
            return Response("not found", status_code=404)
        media = {"pdf": "application/pdf", "eml": "message/rfc822",
                 "html": "text/html; charset=utf-8", "txt": "text/plain; charset=utf-8"}
        kind = media.get(relative.rsplit(".", 1)[-1], "application/octet-stream")
        headers = dict(no_store)
        if kind in ("application/pdf", "message/rfc822"):
            headers["Content-Disposition"] = _attachment(path.name)
        return Response(path.read_bytes(), media_type=kind, headers=headers)

    async def email(request):
        relative = request.path_params["path"]
        path = file_of(relative)
        if path is None or not relative.endswith(".eml"):
            return Response("not found", status_code=404)
        return HTMLResponse(browsable(path.read_bytes()), headers=no_store)

    async def asset(request):
        name = request.path_params["name"]
        if name not in assets:
            return Response("not found", status_code=404)
        return Response(assets[name], media_type=types[name.rsplit(".", 1)[-1]])

    async def events(request):
        async def stream():
            # woken by the build thread at each new version (State.changed), and
            # every second to see whether the page has gone
            woken = asyncio.Event()
            listener = (asyncio.get_running_loop(), woken)
            with state.lock:
                state.listeners.add(listener)
            seen, quiet = -1, 0
            try:
                while not state.stopping:
                    woken.clear()
                    with state.lock:
                        version = state.version
                        outputs = state.news(seen) if version != seen else None
                    if version != seen:
                        seen, quiet = version, 0
                        news = {"version": version, "outputs": outputs}
                        yield f"data: {json.dumps(news)}\n\n"
                    elif quiet >= 15:
                        quiet = 0
                        yield ": still here\n\n"
                    if await request.is_disconnected():
                        break
                    try:
                        await asyncio.wait_for(woken.wait(), timeout=1)
                    except asyncio.TimeoutError:
                        quiet += 1
            finally:
                with state.lock:
                    state.listeners.discard(listener)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    async def not_found(request, exc):
        return _missing(templates, common())

    routes = [
        Route("/", index),
        Route("/output/{path:path}", output_page),
        Route("/page/{sha:str}/{page:str}.png", picture),
        Route("/file/{path:path}", download),
        Route("/email/{path:path}", email),
        Route("/assets/{name:str}", asset),
        Route("/events", events),
    ]
    return Guard(Starlette(routes=routes, exception_handlers={404: not_found}), hosts)


def _attachment(name: str) -> str:
    """A Content-Disposition for ``name`` (RFC 6266: an ASCII fallback, then UTF-8)."""
    from urllib.parse import quote

    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name)
    return f'attachment; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'


def _missing(templates, values: dict):
    from starlette.responses import HTMLResponse

    page = templates.get_template("missing.html").render(**values)
    return HTMLResponse(page, status_code=404, headers={"Cache-Control": "no-store"})


# --- the connections -----------------------------------------------------------------------

REQUEST_SECONDS = float(DEFAULTS["serve_request_seconds"])
IDLE_CONNECTIONS = int(DEFAULTS["serve_idle_connections"])


def guarded_protocol():
    """uvicorn's HTTP/1.1 protocol, bounded: a connection must send a whole request
    within :data:`REQUEST_SECONDS`, and no more than :data:`IDLE_CONNECTIONS` wait
    without one (a thousand half-sent requests cannot hold the server's files)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Guarded(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()
            idle = sorted((other for other in self.connections
                           if isinstance(other, Guarded) and other is not self
                           and not other._busy()), key=lambda other: other._since)
            for other in idle[:max(0, len(idle) + 1 - IDLE_CONNECTIONS)]:
                other.transport.close()

        def _arm(self) -> None:
            self._since = self.loop.time()
            self._timer = self.loop.call_later(REQUEST_SECONDS, self._too_slow)

        def _busy(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _too_slow(self) -> None:
            if not self._busy() and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self):
            super().handle_events()
            if self._busy():
                self._timer.cancel()

        def on_response_complete(self):
            super().on_response_complete()
            self._timer.cancel()
            self._arm()

        def connection_lost(self, exc):
            self._timer.cancel()
            super().connection_lost(exc)

    return Guarded


# --- the process -----------------------------------------------------------------------------


def serve(project: Path | str = ".", *, host: str = str(DEFAULTS["serve_host"]),
          port: int = int(DEFAULTS["serve_port"]), open_browser: bool = False, as_of=None,
          jobs: int = int(DEFAULTS["watch_jobs"]), on_ready=None, on_build=None,
          public_ok: bool = False,
          allow_hosts: tuple[str, ...] = ()) -> None:
    """Build, serve the outputs on ``host``:``port`` and rebuild on every change,
    until interrupted (Ctrl-C).

    Beyond this machine (``host`` not a loopback address) a warning is logged
    and, unless ``public_ok``, nothing under embargo is shown.  Requests must
    name one of the server's own addresses (or ``allow_hosts``) in ``Host``.
    """
    import socket

    import uvicorn

    from .watch import watch

    root = Path(project).resolve()
    state = State(root)
    state.outputs = _manifest(root)  # the last build's outputs, shown while building
    stop = threading.Event()

    def built(result, seconds):
        state.built(result, seconds)
        if on_build:
            on_build(result, seconds)

    def rebuild():
        try:
            watch(root, as_of=as_of, jobs=jobs, on_build=built, cancel=stop,
                  on_plan=state.planned, on_output=state.wrote)
        except Exception as exc:  # the watch ended (a folder removed): said on the page
            with state.lock:
                state.problems = [Problem(str(root.name), None, f"the watch stopped: {exc}",
                    code="O003")]
                state.changed()

    # the port first, so that a port in use is said at once and nothing is built
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        from ..errors import UsageError

        raise UsageError(Problem(f"{host}:{port}", None, f"cannot listen there ({exc.strerror});"
                                 " give another --port, or stop what uses it",
                                     code="U002")) from None
    withhold = not is_loopback(host) and not public_ok
    if not is_loopback(host):
        log.warning("warning: serving on %s, beyond this machine: anyone who can reach it "
                    "sees the outputs%s", host,
                    " (--public-ok: those under embargo too)" if public_ok else
                    "; those under embargo are not shown (--public-ok shows them)")
    app = application(state, host_names(host, allow_hosts), withhold=withhold)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", http=guarded_protocol(),
                            timeout_graceful_shutdown=1, access_log=False, backlog=256)
    server = uvicorn.Server(config)
    builder = threading.Thread(target=rebuild, name="publisher-build", daemon=True)
    builder.start()
    url = f"http://{'[' + host + ']' if ':' in host else host}:{sock.getsockname()[1]}/"
    if on_ready:
        on_ready(url)
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        with state.lock:
            state.stopping = True
            state.changed()  # the open event streams end now
        stop.set()
        builder.join(10)
        sock.close()
