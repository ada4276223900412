"""One connection to a mail server, with every wait bounded.

:class:`Smtp` wraps :mod:`smtplib` with three bounds a hostile or broken
server cannot stretch: a socket timeout on every read and write
(``smtp.timeout_seconds``), a deadline for the whole greeting, TLS and login
(``smtp.connect_seconds``) and one for each message (``smtp.message_seconds``).
A deadline is kept by a timer that shuts the socket down when it passes, so a
server that trickles its greeting a byte at a time, or answers with a reply
that never ends, is stopped as surely as one that says nothing.  A reply is at
most :data:`REPLY_LINES` lines.

What goes wrong is one of three exceptions: :class:`Temporary` (4xx, or the
connection dropped: try again later), :class:`Refused` (5xx for this message)
and :class:`ServerTrouble` (the server cannot be used any more: too slow, gone,
or refusing the sender), each holding a sentence for people.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading

from ..inputs.settings import SmtpSettings

REPLY_LINES = 100  # lines of one server reply (a greeting, an EHLO answer…)


class Temporary(Exception):
    """The server said "not now" (4xx), or the connection dropped."""


class Refused(Exception):
    """The server will not take this message (5xx)."""


class ServerTrouble(Exception):
    """The server cannot be used for the rest of the batch; ``maybe_sent`` when it
    stopped answering after it was given a message."""

    def __init__(self, message: str, maybe_sent: bool = False):
        super().__init__(message)
        self.maybe_sent = maybe_sent


class _Slow(smtplib.SMTPServerDisconnected):
    """A read or a write took longer than the socket timeout."""


class _Bounded:
    """What both client classes add to smtplib: a reply of bounded length, and a
    socket timeout told apart from a dropped connection."""

    sock: socket.socket | None
    file: object

    def getreply(self):
        if self.file is None:
            self.file = self.sock.makefile("rb")
        texts: list[bytes] = []
        while True:
            try:
                line = self.file.readline(smtplib._MAXLINE + 1)
            except TimeoutError:
                self.close()
                raise _Slow("the server did not answer in time") from None
            except OSError as exc:
                self.close()
                raise smtplib.SMTPServerDisconnected(f"the connection broke ({exc})") from None
            if not line:
                self.close()
                raise smtplib.SMTPServerDisconnected("the server closed the connection")
            if len(line) > smtplib._MAXLINE:
                self.close()
                raise smtplib.SMTPResponseException(500, "a reply line too long")
            texts.append(line[4:].strip(b" \t\r\n"))
            code = line[:3]
            if not code.isdigit():
                return -1, b"\n".join(texts)
            if line[3:4] != b"-":
                return int(code), b"\n".join(texts)
            if len(texts) >= REPLY_LINES:
                self.close()
                raise smtplib.SMTPServerDisconnected(f"a reply of more than {REPLY_LINES} "
                                                     "lines, which never ended")


class _Client(_Bounded, smtplib.SMTP):
    pass


class _ClientTLS(_Bounded, smtplib.SMTP_SSL):
    pass


class _Deadline:
    """Shuts ``client``'s socket down if the work it guards is not done by then."""

    def __init__(self, client, seconds: float):
        self.client = client
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self.client, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # closed meanwhile
                pass

    def __enter__(self) -> _Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()


def said(text) -> str:
    """A server's reply as one line of text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


class Smtp:
    """One connection to the server in site.yaml's ``smtp``, opened by :meth:`open`
    and again by :meth:`send` after a drop."""

    def __init__(self, settings: SmtpSettings, password: str | None):
        self.settings = settings
        self.password = password
        self.client: smtplib.SMTP | None = None

    @property
    def security(self) -> str:
        return self.settings.security

    @property
    def port(self) -> int:
        return self.settings.port_in_use

    @property
    def host(self) -> str:
        return f"{self.settings.host}:{self.port}"

    def offers(self, extension: str) -> bool:
        return self.client is not None and bool(self.client.has_extn(extension))

    def open(self) -> None:
        """Connect, greet, start TLS and log in, within ``smtp.connect_seconds``;
        :class:`ServerTrouble` when that cannot be done."""
        context = ssl.create_default_context()  # the system's CAs, or SSL_CERT_FILE
        client: smtplib.SMTP = (_ClientTLS(timeout=self.settings.timeout_seconds, context=context)
                                if self.security == "tls" else
                                _Client(timeout=self.settings.timeout_seconds))
        deadline = _Deadline(client, self.settings.connect_seconds)
        try:
            with deadline:
                self._greet(client, context)
        except BaseException as exc:
            client.close()
            if deadline.fired:
                raise ServerTrouble(
                    f"the server took more than {self.settings.connect_seconds:g} s to greet "
                    "and let this machine in (smtp.connect_seconds); try again later or ask "
                    "for another server") from None
            if isinstance(exc, Exception):
                raise ServerTrouble(self._reason(exc)) from None
            raise
        self.client = client

    def _greet(self, client: smtplib.SMTP, context: ssl.SSLContext) -> None:
        host = self.settings.host
        # the name TLS checks the certificate against (the client was made without one)
        client._host = host  # type: ignore[attr-defined]  # smtplib's own, not in its stubs
        code, text = client.connect(host, self.port)
        if code != 220:  # smtplib checks the greeting only when it connects itself
            raise smtplib.SMTPConnectError(code, text)
        client.ehlo()
        if self.security == "starttls":
            if not client.has_extn("starttls"):
                raise ServerTrouble("the server does not offer STARTTLS; set smtp.security "
                                    "to tls (port 465) or ask for a server that does")
            client.starttls(context=context)
            client.ehlo()
        user = self.settings.user
        if user:
            client.login(str(user), self.password or "")

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, ServerTrouble):
            return str(exc)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (f"its certificate cannot be trusted ({exc.verify_message}); check "
                    "smtp.host, or give the CA in SSL_CERT_FILE")
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            variable = self.settings.password_env
            return (f"the server refused the login of '{self.settings.user}' "
                    f"({exc.smtp_code} {said(exc.smtp_error)}); check the password in "
                    f"${variable}")
        if isinstance(exc, _Slow):
            return (f"the server did not answer within {self.settings.timeout_seconds:g} s "
                    "(smtp.timeout_seconds)")
        if isinstance(exc, smtplib.SMTPResponseException):  # a 421 greeting, a 5xx EHLO…
            return f"the server refused the connection ({exc.smtp_code} {said(exc.smtp_error)})"
        if isinstance(exc, (smtplib.SMTPException, ssl.SSLError)):
            return f"the server broke off ({exc})"
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc) or type(exc).__name__
            return (f"cannot reach the mail server ({reason}); check smtp.host and smtp.port, "
                    "and that this machine may connect to it")
        raise exc

    def send(self, sender: str, address: str, data: bytes, *, seconds: float | None = None,
             utf8: bool = False) -> None:
        """One message to one address, within ``seconds`` (default ``smtp.message_seconds``)."""
        if self.client is None:
            self.open()
        client = self.client
        assert client is not None  # open() made it or raised
        most = self.settings.message_seconds
        limit = min(seconds, most) if seconds else most
        deadline = _Deadline(client, limit)
        try:
            with deadline:
                client.sendmail(sender, [address], data,
                                mail_options=["SMTPUTF8"] if utf8 else [])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (Temporary if 400 <= code < 500 else Refused)(f"{code} {said(text)}") \
                from None
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise Temporary(f"{exc.smtp_code} {said(exc.smtp_error)}") from None
            raise ServerTrouble(f"the server refuses the sender {sender} ({exc.smtp_code} "
                                f"{said(exc.smtp_error)}); check email.from") from None
        except smtplib.SMTPResponseException as exc:
            raise (Temporary if 400 <= exc.smtp_code < 500 else Refused)(
                f"{exc.smtp_code} {said(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError:
            raise Refused("the server takes no address with non-ASCII characters") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.client = None
            if deadline.fired or isinstance(exc, _Slow):
                took = f"more than {limit:g} s" if deadline.fired else \
                    f"more than {self.settings.timeout_seconds:g} s for one answer"
                raise ServerTrouble(f"the server took {took} over one message "
                                    "(smtp.message_seconds, smtp.timeout_seconds)",
                                    maybe_sent=True) from None
            raise Temporary(f"the connection dropped ({exc or type(exc).__name__})") from None

    def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            with _Deadline(client, self.settings.timeout_seconds):
                try:
                    client.quit()
                except Exception:  # a server that went away: nothing left to close
                    client.close()
