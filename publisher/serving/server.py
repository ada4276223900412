"""The ``publisher serve`` process: a watch thread that rebuilds, and uvicorn
serving the application, each connection bounded."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..defaults import DEFAULTS
from ..errors import Problem
from .app import application, host_names, is_loopback
from .state import State, _manifest

log = logging.getLogger("publisher")


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

    from ..watch import watch

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
