"""`publisher serve` started as a process on a free port of 127.0.0.1, for the
tests that talk to it over HTTP and through a browser."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, target: str, host: str | None = None, *,
        headers: dict | None = None) -> tuple[int, bytes]:
    """A request with the target sent exactly as written (no client-side cleaning),
    for ``host`` when given (else the address it goes to); with ``headers``, a dict
    that receives the answer's headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True,
                              skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        if headers is not None:
            headers.update({k.lower(): v for k, v in response.getheaders()})
        return response.status, response.read()
    finally:
        connection.close()


def start(root, port: int, *options: str, files: int | None = None):
    """`publisher serve` on ``port`` (with ``options``), returned once its first
    build is done; what it said before is in ``process.said``.  With ``files``, the
    process may hold at most that many open files (1024 is a common default)."""
    def limited():
        if files is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "serve", "--project", str(root), "--port",
         str(port), *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"), preexec_fn=limited)
    lines = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if " rendered, " in line:  # the first build is done
            process.said = "".join(lines)
            return process
    process.kill()
    raise AssertionError("".join(lines))


def stop(process) -> str:
    """Ctrl-C, as a person stops it; what it printed after the first build."""
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    return rest
