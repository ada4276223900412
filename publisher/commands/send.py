"""``publisher send``: a release, a kit or a newsletter mailed to a list, each
person once.

:func:`send` builds what is sent (from the cache when nothing changed) and
reads the messages the build wrote (``build/releases/<stem>.eml``…), one per
language.  :func:`plan` decides, for each recipient, which language they get
(theirs, else the site's), whether the embargo lets it go to them, and what the
ledger says was already sent.  The deliveries then go through one SMTP
connection, at most ``smtp.per_minute`` a minute; a temporary refusal (4xx) is
tried again later with a growing wait, and never holds up the others.

The ledger, ``build/sent/<kind>-<name>.jsonl``, is appended to and flushed to
disk before each message ("sending") and after it (the result).  A send
killed half-way therefore resumes where it stopped: what was sent is skipped,
and a message whose fate is unknown is sent again with the same
``Message-ID``, which mail clients show once.  A new version of what was sent
goes to those who had the old one only with ``resend``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..defaults import DEFAULTS
from ..errors import Problem, PublisherError, UsageError, display_path
from ..inputs.recipients import Recipient, read_recipients, recipients_file
from ..mail import for_recipient, recipient_message_id

KINDS = ("release", "kit", "newsletter")


@dataclass(frozen=True)
class Edition:
    """One built message: what one language's recipients get."""

    lang: str
    path: Path
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def subject(self) -> str:
        from email import policy
        from email.parser import BytesParser

        head = BytesParser(policy=policy.default).parsebytes(self.data, headersonly=True)
        return " ".join(str(head["Subject"] or "").split())


@dataclass
class Mailing:
    """What one send is about."""

    kind: str
    name: str
    editions: dict[str, Edition]  # by language
    default_lang: str
    embargo: dt.datetime | None = None  # when it lifts, if it is in force at the send


@dataclass
class Delivery:
    """What happened, or will happen, for one recipient."""

    recipient: Recipient
    status: str  # see STATUSES
    edition: Edition | None = None
    detail: str = ""
    message_id: str = ""


STATUSES = {
    "send": "to send",
    "sent": "sent",
    "already": "already sent",
    "earlier": "has an earlier version",
    "held": "held until the embargo lifts",
    "missing": "no version in their language",
    "refused": "refused by the server",
    "failed": "failed",
}
FAILED = ("refused", "failed")


@dataclass
class SendReport:
    mailing: Mailing | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    outbox: Path | None = None

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status in FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed and not any(p.severity == "error" for p in self.problems)

    def count(self, status: str) -> int:
        return sum(1 for d in self.deliveries if d.status == status)


# --- who gets what ----------------------------------------------------------------------


def plan(mailing: Mailing, recipients: list[Recipient], ledger: dict[str, dict], *,
         resend: bool = False) -> list[Delivery]:
    """One delivery per recipient: "send", or why not (already sent, held…)."""
    out = []
    for person in recipients:
        edition = next((mailing.editions[lang] for lang in person.langs
                        if lang in mailing.editions), None)
        if edition is None:
            edition = mailing.editions.get(mailing.default_lang)
        if edition is None:
            wanted = ", ".join(person.langs or (mailing.default_lang,))
            out.append(Delivery(person, "missing", detail=f"reads {wanted}; made in "
                                + ", ".join(sorted(mailing.editions))))
            continue
        if mailing.embargo is not None and not person.embargo_ok:
            out.append(Delivery(person, "held", edition,
                                f"not embargo_ok; embargo until {mailing.embargo.isoformat()}"))
            continue
        past = ledger.get(person.email.lower(), {})
        message_id = recipient_message_id(edition.data, person.email)
        if edition.sha256 in past.get("sent", {}):
            out.append(Delivery(person, "already", edition,
                                f"on {past['sent'][edition.sha256]}", message_id))
        elif past.get("sent") and not resend:
            when = max(past["sent"].values())
            out.append(Delivery(person, "earlier", edition,
                                f"sent on {when}; --resend sends this version", message_id))
        else:
            resumed = (past.get("last", {}).get("result") == "sending"
                       and past["last"].get("sha256") == edition.sha256)
            out.append(Delivery(person, "send", edition,
                                "resumed after an interruption" if resumed else "", message_id))
    return out


# --- the ledger ---------------------------------------------------------------------------


class Ledger:
    """``build/sent/<kind>-<name>.jsonl``: one JSON object per line, appended and
    flushed to disk; only one send of the same thing at a time."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def __enter__(self) -> Ledger:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+b")  # noqa: SIM115 (held until __exit__)
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise PublisherError(Problem(str(self.path.name), None, "another publisher send "
                                         "of the same thing is running; wait for it to "
                                         "finish")) from None
        self.handle.seek(0, os.SEEK_END)
        if self.handle.tell():  # a line torn by a kill gets its end, so the next is whole
            self.handle.seek(-1, os.SEEK_END)
            if self.handle.read(1) != b"\n":
                self.handle.write(b"\n")
                self._sync()
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()

    def state(self) -> dict[str, dict]:
        """By recipient address (lower case): ``sent`` {sha256: time} and the ``last``
        record."""
        return ledger_state(self.path)

    def append(self, **record) -> None:
        record["time"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        self.handle.write(line.encode("utf-8"))
        self._sync()

    def _sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())


def ledger_state(path: Path) -> dict[str, dict]:
    state: dict[str, dict] = {}
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return state
    for raw in lines:
        try:
            record = json.loads(raw)
            address = record["recipient"].lower()
        except (ValueError, KeyError, AttributeError, TypeError):
            continue  # a line torn by a kill: its message is "sending" on the line before
        entry = state.setdefault(address, {"sent": {}})
        entry["last"] = record
        if record.get("result") == "sent":
            entry["sent"].setdefault(record.get("sha256", ""), record.get("time", ""))
    return state


# --- the mail server ------------------------------------------------------------------------


class Temporary(Exception):
    """The server said "not now" (4xx), or the connection dropped."""


class Refused(Exception):
    """The server will not take this message (5xx)."""


class Smtp:
    """One connection to the server in site.yaml's ``smtp``, opened when the first
    message goes."""

    def __init__(self, settings: dict, password: str | None, where: Problem, timeout=30.0):
        self.settings = settings
        self.password = password
        self.where = where  # file and line of site.yaml's smtp, for messages
        self.timeout = timeout
        self.client = None

    @property
    def host(self) -> str:
        security = self.settings.get("security", "starttls")
        port = self.settings.get("port") or DEFAULTS["smtp_ports"][security]
        return f"{self.settings['host']}:{port}"

    def stop(self, message: str) -> PublisherError:
        return PublisherError(Problem(self.where.file, self.where.line,
                                      f"{self.host}: {message}"))

    def open(self) -> None:
        import smtplib
        import socket
        import ssl

        security = self.settings.get("security", "starttls")
        port = self.settings.get("port") or DEFAULTS["smtp_ports"][security]
        host = self.settings["host"]
        context = ssl.create_default_context()  # the system's CAs, or SSL_CERT_FILE
        try:
            self.client = self._connect(security, host, port, context)
        except ssl.SSLCertVerificationError as exc:
            raise self.stop(f"its certificate cannot be trusted ({exc.verify_message}); "
                            "check smtp.host, or give the CA in SSL_CERT_FILE") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise self.stop(f"the server refused the login of '{self.settings.get('user')}' "
                            f"({exc.smtp_code} {_said(exc.smtp_error)}); check the password "
                            f"in ${self.settings.get('password_env')}; nothing was sent"
                            ) from None
        except (smtplib.SMTPException, ssl.SSLError) as exc:
            raise self.stop(f"the server broke off ({exc}); nothing was sent") from None
        except (socket.gaierror, ConnectionRefusedError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise self.stop(f"cannot reach the mail server ({reason}); check smtp.host and "
                            "smtp.port, and that this machine may connect to it; nothing "
                            "was sent") from None

    def _connect(self, security: str, host: str, port: int, context):
        import smtplib

        if security == "tls":
            client = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=self.timeout)
        try:
            client.ehlo()
            if security == "starttls":
                if not client.has_extn("starttls"):
                    raise self.stop("the server does not offer STARTTLS; set smtp.security "
                                    "to tls (port 465) or ask for a server that does")
                client.starttls(context=context)
                client.ehlo()
            user = self.settings.get("user")
            if user:
                client.login(user, self.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def send(self, sender: str, address: str, data: bytes) -> None:
        """One message to one address; Temporary or Refused when it does not go."""
        import smtplib

        if self.client is None:
            self.open()
        options = [] if address.isascii() else ["SMTPUTF8"]
        try:
            self.client.sendmail(sender, [address], data, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, said = next(iter(exc.recipients.values()))
            raise (Temporary if 400 <= code < 500 else Refused)(f"{code} {_said(said)}") \
                from None
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise Temporary(f"{exc.smtp_code} {_said(exc.smtp_error)}") from None
            raise self.stop(f"the server refuses the sender {sender} ({exc.smtp_code} "
                            f"{_said(exc.smtp_error)}); check email.from") from None
        except smtplib.SMTPResponseException as exc:
            raise (Temporary if 400 <= exc.smtp_code < 500 else Refused)(
                f"{exc.smtp_code} {_said(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError:
            raise Refused("the server takes no address with non-ASCII characters") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.client = None
            raise Temporary(f"the connection dropped ({exc or type(exc).__name__})") from None

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except Exception:  # a server that went away: nothing left to close
                pass
            self.client = None


def _said(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


# --- sending --------------------------------------------------------------------------------


OnDelivery = Callable[[Delivery, int, int], None]  # (delivery, done, to send)


def deliver(deliveries: list[Delivery], transport, ledger: Ledger, *, sender: str,
            per_minute: float, retries: int, backoff: float, mailing: Mailing,
            on_delivery: OnDelivery | None = None, clock=time.monotonic,
            sleep=time.sleep) -> None:
    """Send each delivery marked "send", recording it in ``ledger``; set its status."""
    todo = [d for d in deliveries if d.status == "send"]
    interval = 60.0 / per_minute
    queue: list[tuple[float, int, int]] = [(0.0, i, 0) for i in range(len(todo))]
    heapq.heapify(queue)
    last = None
    done = 0
    while queue:
        due, index, attempt = heapq.heappop(queue)
        delivery = todo[index]
        now = clock()
        wait = max(due - now, (last + interval - now) if last is not None else 0.0)
        if wait > 0:
            sleep(wait)
        person, edition = delivery.recipient, delivery.edition
        record = {"recipient": person.email, "lang": edition.lang,
                  "message_id": delivery.message_id, "sha256": edition.sha256,
                  "kind": mailing.kind, "name": mailing.name}
        data = for_recipient(edition.data, person.name, person.email, delivery.message_id)
        ledger.append(**record, result="sending", attempt=attempt + 1)
        last = clock()
        try:
            transport.send(sender, person.email, data)
        except Temporary as exc:
            if attempt < retries:
                ledger.append(**record, result="deferred", detail=str(exc))
                heapq.heappush(queue, (clock() + backoff * 2 ** attempt, index, attempt + 1))
                continue
            delivery.status, delivery.detail = "failed", f"{exc} (tried {attempt + 1} times)"
        except Refused as exc:
            delivery.status, delivery.detail = "refused", str(exc)
        except PublisherError:  # the server cannot be used at all: this one is unknown
            raise
        else:
            delivery.status, delivery.detail = "sent", delivery.detail
        ledger.append(**record, result=delivery.status,
                      **({"detail": delivery.detail} if delivery.detail else {}))
        done += 1
        if on_delivery:
            on_delivery(delivery, done, len(todo))


def send(project: Path | str, kind: str, name: str, *, as_of: dt.datetime | None = None,
         list_name: str | None = None, dry_run: bool = False, public: bool = False,
         resend: bool = False, jobs: int | None = None,
         on_delivery: OnDelivery | None = None, on_output=None) -> SendReport:
    """Build ``kind`` ``name`` and send it to the recipients (on ``list_name``).

    With ``dry_run``, nothing is sent: each message that would go is written to
    ``build/outbox/<kind>-<name>/``.  ``public`` refuses anything under embargo
    at ``as_of`` (default: now).  Raises PublisherError when nothing can be sent
    at all (no such output, settings missing, server unusable).
    """
    from ..load import load

    if kind not in KINDS:
        raise UsageError(Problem("KIND", None, f"'{kind}' cannot be sent; send a release, "
                                               "a kit or a newsletter"))
    root = Path(project).resolve()
    as_of = as_of or dt.datetime.now(dt.timezone.utc)
    report = SendReport(dry_run=dry_run)
    loaded = load(root)
    built = _build(loaded, kind, name, as_of, jobs, on_output)
    report.problems += built.problems
    if not built.ok:
        report.problems.append(Problem(name, None, "not sent: the build failed; fix the "
                                                   "problems above first"))
        return report
    mailing = _mailing(loaded, kind, name, built, as_of)
    report.mailing = mailing
    if public and mailing.embargo is not None:
        raise PublisherError(Problem(name, None, f"{kind} {name} is under embargo until "
                                     f"{mailing.embargo.isoformat()}; --public sends only "
                                     "what is public; send without --public to reach "
                                     "embargo_ok recipients, or after the embargo"))
    site = loaded.site
    settings = site.get("email") or {}
    sender = _address(settings.get("from") or "")
    if not sender:
        line = loaded.site_located.line("email") if loaded.site_located else None
        raise PublisherError(Problem(str(DEFAULTS["site_file"]), line,
                                     "email.from is needed to send: write e.g. "
                                     "email: {from: Press office <press@example.org>}"))
    from ..inputs.resources import ResourcePolicy

    path = recipients_file(root, str(DEFAULTS["recipients_file"]))
    recipients, problems = read_recipients(path, root, ResourcePolicy([root],
                                           limits=site.get("limits")), site.get("limits"))
    report.problems += problems
    if list_name:
        recipients = [r for r in recipients if list_name in r.lists]
        if not recipients:
            raise UsageError(Problem(display_path(path, root), None,
                                     f"nobody is on the list '{list_name}'"))
    ledger_path = root / str(DEFAULTS["sent_dir"]) / f"{kind}-{_safe(name)}.jsonl"
    if dry_run:
        report.deliveries = plan(mailing, recipients, ledger_state(ledger_path), resend=resend)
        report.outbox = _outbox(root, kind, name, report.deliveries)
        return report
    smtp = site.get("smtp")
    if not smtp:
        line = loaded.site_located.line() if loaded.site_located else None
        raise PublisherError(Problem(str(DEFAULTS["site_file"]), line, "no smtp settings: "
                                     "add smtp: {host: smtp.example.org, user: press} (the "
                                     f"password in ${DEFAULTS['smtp_password_env']}), or use "
                                     "--dry-run"))
    transport = _transport(loaded, smtp)
    with Ledger(ledger_path) as ledger:
        report.deliveries = plan(mailing, recipients, ledger.state(), resend=resend)
        if not any(d.status == "send" for d in report.deliveries):
            return report
        try:
            transport.open()  # a wrong password or no server: stops before the ledger
            deliver(report.deliveries, transport, ledger, sender=sender,
                    per_minute=float(smtp.get("per_minute", DEFAULTS["smtp_per_minute"])),
                    retries=int(smtp.get("retries", DEFAULTS["smtp_retries"])),
                    backoff=float(smtp.get("backoff_seconds",
                                           DEFAULTS["smtp_backoff_seconds"])),
                    mailing=mailing, on_delivery=on_delivery)
        finally:
            transport.close()
    return report


def _transport(loaded, smtp: dict) -> Smtp:
    located = loaded.site_located
    where = Problem(str(DEFAULTS["site_file"]), located.line("smtp") if located else None, "")
    variable = smtp.get("password_env") or DEFAULTS["smtp_password_env"]
    password = os.environ.get(variable)
    if smtp.get("user") and not password:
        raise PublisherError(Problem(where.file, located.line("smtp", "user") if located
                                     else None, f"smtp.user is set but ${variable} is empty; "
                                     f"export {variable}=… with the password before "
                                     "sending"))
    if smtp.get("user") and smtp.get("security") == "none" and \
            smtp["host"] not in ("localhost", "127.0.0.1", "::1"):
        raise PublisherError(Problem(where.file, located.line("smtp", "security") if located
                                     else None, "a password is never sent unencrypted: use "
                                     "security: starttls or tls with this server"))
    return Smtp(smtp, password, where)


def _address(text: str) -> str:
    from email.utils import parseaddr

    return parseaddr(text)[1]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "unnamed"


def _build(loaded, kind: str, name: str, as_of: dt.datetime, jobs, on_output):
    from ..bundle import release_index
    from ..pipeline import build, build_kit, build_newsletter

    root = loaded.root
    common = {"as_of": as_of, "profile": "screen", "jobs": jobs, "on_output": on_output}
    if kind == "kit":
        return build_kit(root, name, **common)
    if kind == "newsletter":
        return build_newsletter(root, name, **common)
    index = release_index(loaded)
    if name not in index:
        from ..inputs.schema import suggest

        hint = suggest(name, index) or "give a release id: its file name without the " \
                                       "language and .md, e.g. 2018-06-15-cnes-roscosmos"
        raise UsageError(Problem(str(DEFAULTS["releases_dir"]), None,
                                 f"no release '{name}'; {hint}"))
    return build(root, [r.path for r in index[name].values()], **common)


def _mailing(loaded, kind: str, name: str, built, as_of: dt.datetime) -> Mailing:
    from ..bundle import kit_release_ids, release_index
    from ..load import LANG_SUFFIX

    editions = {}
    for output in built.outputs:
        if output.path.suffix != ".eml":
            continue
        found = LANG_SUFFIX.match(output.path.stem)
        if found:
            editions[found["lang"]] = Edition(found["lang"], output.path,
                                              output.path.read_bytes())
    index = release_index(loaded)
    if kind == "release":
        ids = [name]
    elif kind == "kit":
        kit = next(k for k in loaded.kits if k.slug == name)
        ids = kit_release_ids(kit, index)[0]
    else:
        ids = []  # a newsletter leaves out what is under embargo
    moments = [release.meta["embargo"] for rid in ids for release in index.get(rid, {}).values()
               if release.meta.get("embargo") and release.meta["embargo"] > as_of]
    default = loaded.site.get("default_lang") or DEFAULTS["default_lang"]
    return Mailing(kind, name, editions, default, max(moments) if moments else None)


def _outbox(root: Path, kind: str, name: str, deliveries: list[Delivery]) -> Path:
    """Each message that would go, as ``NNN-address.eml``; the folder holds only this
    dry run's."""
    from ..write import write

    folder = root / str(DEFAULTS["outbox_dir"]) / f"{kind}-{_safe(name)}"
    if folder.is_dir():
        for old in folder.glob("*.eml"):
            old.unlink()
    number = 0
    for delivery in deliveries:
        if delivery.status != "send":
            continue
        number += 1
        person = delivery.recipient
        data = for_recipient(delivery.edition.data, person.name, person.email,
                             delivery.message_id)
        write(folder / f"{number:03d}-{_safe(person.email)}.eml", data)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- what is said -----------------------------------------------------------------------------


def summary(report: SendReport) -> str:
    """One line: how many recipients, and what happened to them."""
    total = len(report.deliveries)
    if total and all(d.status == "already" for d in report.deliveries):
        return (f"nothing to send: all {total} recipient{'s' if total != 1 else ''} already "
                "have this version")
    counts = [(report.count(status), label) for status, label in STATUSES.items()]
    if report.dry_run:
        counts[0] = (counts[0][0], "would be sent")
    parts = [f"{count} {label}" for count, label in counts if count]
    return f"{total} recipient{'s' if total != 1 else ''}: " + (", ".join(parts) or "none")


def plan_lines(report: SendReport) -> list[str]:
    """For a dry run: who gets what, one line each."""
    lines = []
    for delivery in report.deliveries:
        person = delivery.recipient
        if delivery.status == "send":
            lines.append(f"would send {person.email} ({delivery.edition.lang}): "
                         f"{delivery.edition.subject}")
        else:
            lines.append(f"not sent   {person.email}: {STATUSES[delivery.status]}"
                         + (f" ({delivery.detail})" if delivery.detail else ""))
    return lines
