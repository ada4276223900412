"""A small SMTP server on 127.0.0.1 that keeps the raw bytes it is given and can
misbehave on purpose: trickle its greeting, never end it, refuse with 421, hang
after DATA, drop the connection after some messages, offer SMTPUTF8 or not.

It speaks just enough SMTP for ``publisher send`` (EHLO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT, no TLS), one thread per connection, and is stopped by the
fixture that starts it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Behaviour:
    greeting: str = "normal"  # normal, trickle, endless, 421
    smtputf8: bool = True
    hang_after_data: bool = False  # never answer the end of a message
    drop_after: int | None = None  # close the connection after this many messages
    refuse_reconnect: bool = False  # once dropped, no one is let in again


@dataclass
class Received:
    mail_from: bytes
    rcpt_to: list[bytes]
    data: bytes  # as sent, dot-stuffing removed, without the final "."


@dataclass
class Server:
    port: int
    behaviour: Behaviour
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    dropped: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)

    def addresses(self) -> list[str]:
        with self.lock:
            return [to.decode() for message in self.received for to in message.rcpt_to]


class _Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:  # noqa: C901 (one conversation, read top to bottom)
        server: Server = self.server.state  # type: ignore[attr-defined]
        how = server.behaviour
        with server.lock:
            server.connections += 1
            if server.dropped and how.refuse_reconnect:
                self.say("554 5.3.2 no more today")
                return
        if how.greeting == "trickle":
            for byte in b"220 slow.test ESMTP\r\n":
                if server.stopping.wait(0.5):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return
        if how.greeting == "endless":
            while not server.stopping.is_set():
                try:
                    self.say("220-still greeting you")
                except OSError:
                    return
            return
        if how.greeting == "421":
            self.say("421 4.3.2 mail.test is too busy, come back later")
            return
        self.say("220 mail.test ESMTP")
        messages = 0
        mail_from, rcpt_to = b"", []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                extensions = ["8BITMIME"] + (["SMTPUTF8"] if how.smtputf8 else [])
                self.say("250-mail.test")
                for extension in extensions[:-1]:
                    self.say(f"250-{extension}")
                self.say(f"250 {extensions[-1]}")
            elif verb == b"MAIL":
                mail_from, rcpt_to = line.rstrip(b"\r\n"), []
                self.say("250 OK")
            elif verb == b"RCPT":
                address = line.split(b":", 1)[1].strip().split(b" ")[0].strip(b"<>")
                rcpt_to.append(address)
                self.say("250 OK")
            elif verb == b"DATA":
                self.say("354 go ahead")
                data = self._data()
                if how.hang_after_data:
                    server.stopping.wait(60)
                    return
                with server.lock:
                    server.received.append(Received(mail_from, rcpt_to, data))
                messages += 1
                self.say("250 accepted")
                if how.drop_after is not None and messages >= how.drop_after:
                    with server.lock:
                        server.dropped = True
                    return
            elif verb in (b"RSET", b"NOOP"):
                self.say("250 OK")
            elif verb == b"QUIT":
                self.say("221 bye")
                return
            else:
                self.say("502 not here")

    def _data(self) -> bytes:
        lines = []
        while True:
            line = self.rfile.readline(1_000_000)
            if not line or line == b".\r\n":
                break
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)


class _Threaded(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(behaviour: Behaviour | None = None):
    """A running server and the function that stops it."""
    listener = _Threaded(("127.0.0.1", 0), _Handler)
    state = Server(listener.server_address[1], behaviour or Behaviour())
    listener.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()

    def stop() -> None:
        state.stopping.set()
        listener.shutdown()
        listener.server_close()
        thread.join(5)

    return state, stop


def wait_closed(port: int, seconds: float = 5.0) -> None:
    """Until nothing listens on ``port`` any more."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
