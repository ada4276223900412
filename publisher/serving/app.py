"""The web application of ``publisher serve`` (Starlette): the index, an output's
pages, its e-mail edition, the files, the event stream; and its guard, which
answers only for the server's own addresses and says what a browser may do
with each answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

from ..defaults import DEFAULTS
from .state import KIND_FOLDERS, WIDTHS, Output, Pictures, State, pdf_facts

PAGES = Path(__file__).with_name("pages")


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
    if is_loopback(host):
        names.update(LOOPBACK)
    if host in ("0.0.0.0", "::", ""):
        names.update(LOOPBACK)
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.add(name.lower())
            try:
                names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
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
                (b"content-length", str(len(body)).encode()), *_safety_headers(PAGE_POLICY)]})
            await send({"type": "http.response.body", "body": body})
            return
        path = scope.get("path", "")
        policy = MAIL_POLICY if path.startswith("/email/") or (
            path.startswith("/file/") and path.endswith(".html")) else \
            FILE_POLICY if path.startswith("/file/") else PAGE_POLICY

        async def guarded(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []),
                                                 *_safety_headers(policy)])
            await send(message)

        await self.app(scope, receive, guarded)


def _safety_headers(policy: str) -> list[tuple[bytes, bytes]]:
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
        width = next((w for w in WIDTHS if w >= wanted), WIDTHS[-1])
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
