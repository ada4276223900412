"""``publisher send``: a release, a kit or a newsletter mailed to a list, each
person once.

:func:`send` builds what is sent (from the cache when nothing changed) and
reads the messages the build wrote (``build/releases/<stem>.eml``…), one per
language.  :func:`plan` decides, for each recipient, which language they get
(theirs, else the site's), whether the embargo lets it go to them, and what the
ledger says was already sent.  The deliveries then go through one SMTP
connection, at most ``smtp.per_minute`` a minute; a temporary refusal (4xx) is
tried again later with a growing wait, and never holds up the others.

What was sent to whom is in the ledger (:mod:`.ledger`), written before and
after each message, so that a send killed half-way resumes where it stopped;
the server is reached through :mod:`.smtp`, every wait on it bounded.  A new
version of what was sent goes to those who had the old one only with
``resend``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..defaults import DEFAULTS
from ..errors import Problem, PublisherError, UsageError, display_path
from ..inputs.addresses import BadAddress, read_address
from ..inputs.recipients import Recipient, read_recipients, recipients_file
from ..inputs.settings import SmtpSettings
from ..mail import for_recipient, recipient_message_id
from ..write import RefusedWrite, WritePolicy
from .ledger import Ledger, State, ledger_name, read_ledger
from .smtp import Refused, ServerTrouble, Smtp, Temporary

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
    "unknown": "may have been sent",
    "check": "held until their ledger line is checked",
    "refused": "refused by the server",
    "failed": "failed",
    "stopped": "not sent (the batch stopped)",
}
FAILED = ("refused", "failed", "unknown", "stopped")


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


def edition_for(mailing: Mailing, langs: tuple[str, ...]) -> Edition | None:
    """The edition a person who reads ``langs`` (in order) gets: for each of their
    languages, that one, else one of the same language (``fr_CA`` reads ``fr``,
    ``pt`` reads ``pt_BR``); failing all, the site's language."""
    for lang in langs:
        if lang in mailing.editions:
            return mailing.editions[lang]
        base = lang.split("_")[0]
        near = sorted(code for code in mailing.editions if code.split("_")[0] == base)
        if near:
            return mailing.editions[base if base in near else near[0]]
    return mailing.editions.get(mailing.default_lang)


def plan(mailing: Mailing, recipients: list[Recipient], ledger: State, *,
         resend: bool = False) -> list[Delivery]:
    """One delivery per recipient: "send", or why not (already sent, held…)."""
    out = []
    for person in recipients:
        edition = edition_for(mailing, person.langs)
        if edition is None:
            wanted = ", ".join(person.langs or (mailing.default_lang,))
            out.append(Delivery(person, "missing", detail=f"reads {wanted}; made in "
                                + ", ".join(sorted(mailing.editions))))
            continue
        if mailing.embargo is not None and not person.embargo_ok:
            out.append(Delivery(person, "held", edition,
                                f"not embargo_ok; embargo until {mailing.embargo.isoformat()}"))
            continue
        past = ledger.of(person.email)
        message_id = recipient_message_id(edition.data, person.email)
        if past.damaged is not None and not resend:
            out.append(Delivery(person, "check", edition, f"line {past.damaged} of the ledger "
                                "about them is damaged; --resend sends anyway", message_id))
        elif edition.sha256 in past.sent:
            out.append(Delivery(person, "already", edition, f"on {past.sent[edition.sha256]}",
                                message_id))
        elif past.sent and not resend:
            when = max(past.sent.values())
            out.append(Delivery(person, "earlier", edition,
                                f"sent on {when}; --resend sends this version", message_id))
        else:
            resumed = (past.last.get("result") in ("sending", "unknown")
                       and past.last.get("sha256") == edition.sha256)
            out.append(Delivery(person, "send", edition,
                                "resumed after an interruption" if resumed else "", message_id))
    return out


# --- sending --------------------------------------------------------------------------------


OnDelivery = Callable[[Delivery, int, int], None]  # (delivery, done, to send)


def deliver(deliveries: list[Delivery], transport, ledger: Ledger, *, sender: str,
            per_minute: float, retries: int, backoff: float, mailing: Mailing,
            batch_seconds: float = float(DEFAULTS["smtp_batch_seconds"]),
            on_delivery: OnDelivery | None = None, clock=time.monotonic,
            sleep=time.sleep) -> ServerTrouble | None:
    """Send each delivery marked "send", recording it in ``ledger``; set its status.

    Returns why the batch stopped early, if it did: the server became unusable
    (the message it was given then is "unknown", the rest "stopped"), or the
    batch took longer than ``batch_seconds``.
    """
    todo = [d for d in deliveries if d.status == "send"]
    interval = 60.0 / per_minute
    queue: list[tuple[float, int, int]] = [(0.0, i, 0) for i in range(len(todo))]
    heapq.heapify(queue)
    last = None
    done = 0
    ends = clock() + batch_seconds
    trouble = None
    while queue:
        due, index, attempt = heapq.heappop(queue)
        delivery = todo[index]
        now = clock()
        wait = max(due - now, (last + interval - now) if last is not None else 0.0, 0.0)
        if now + wait >= ends:
            trouble = ServerTrouble(f"the batch took longer than {batch_seconds:g} s "
                                    "(smtp.batch_seconds)")
            heapq.heappush(queue, (due, index, attempt))
            break
        if wait > 0:
            sleep(wait)
        person, edition = delivery.recipient, delivery.edition
        assert edition is not None  # a delivery to send has its edition
        record = {"recipient": person.email, "lang": edition.lang,
                  "message_id": delivery.message_id, "sha256": edition.sha256,
                  "kind": mailing.kind, "name": mailing.name}
        try:
            data = for_recipient(edition.data, person.name, person.envelope,
                                 delivery.message_id)
        except ValueError as exc:  # read_recipients refuses such names first
            delivery.status, delivery.detail = "failed", f"cannot be addressed ({exc})"
            continue
        ledger.append(**record, result="sending", attempt=attempt + 1)
        last = clock()
        try:
            transport.send(sender, person.envelope, data, seconds=max(ends - last, 0.001),
                           utf8=person.smtputf8)
        except Temporary as exc:
            if attempt < retries:
                ledger.append(**record, result="deferred", detail=str(exc))
                heapq.heappush(queue, (clock() + backoff * 2 ** attempt, index, attempt + 1))
                continue
            delivery.status, delivery.detail = "failed", f"{exc} (tried {attempt + 1} times)"
        except Refused as exc:
            delivery.status, delivery.detail = "refused", str(exc)
        except ServerTrouble as exc:
            trouble = exc
            if exc.maybe_sent:
                delivery.status = "unknown"
                delivery.detail = ("the server stopped answering after it was given the "
                                   "message; the next send gives it again, with the same "
                                   "Message-ID")
                ledger.append(**record, result="unknown", detail=str(exc))
            else:  # not given to the server: the next send tries it
                ledger.append(**record, result="deferred", detail=str(exc))
                heapq.heappush(queue, (due, index, attempt))
            break
        else:
            delivery.status, delivery.detail = "sent", delivery.detail
        ledger.append(**record, result=delivery.status,
                      **({"detail": delivery.detail} if delivery.detail else {}))
        done += 1
        if on_delivery:
            on_delivery(delivery, done, len(todo))
    for _due, index, _attempt in queue:  # what the batch did not reach
        todo[index].status, todo[index].detail = "stopped", str(trouble)
    return trouble


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
                                               "a kit or a newsletter", code="U001"))
    root = Path(project).resolve()
    now = dt.datetime.now(dt.timezone.utc)
    as_of = as_of or now
    if not dry_run and as_of > now + AS_OF_SLACK:
        raise UsageError(Problem("--as-of", None, f"{as_of.isoformat()} is in the future: a "
                                 "real send decides embargoes by the time it is sent; use "
                                 "--dry-run to see what would go then, or send then", code="U002"))
    report = SendReport(dry_run=dry_run)
    loaded = load(root)
    built = _build(loaded, kind, name, as_of, jobs, on_output)
    report.problems += built.problems
    if not built.ok:
        report.problems.append(Problem(name, None, "not sent: the build failed; fix the "
                                                   "problems above first", code="M008"))
        return report
    mailing = _mailing(loaded, kind, name, built, as_of)
    if mailing is None:  # a built message changed since it was written: made again
        built = _build(loaded, kind, name, as_of, jobs, on_output)
        mailing = _mailing(loaded, kind, name, built, as_of)
        if mailing is None:
            raise PublisherError(Problem(name, None, "its messages in build/ keep changing "
                                         "while they are read; stop what writes there, then "
                                         "send again", code="M008"))
    report.mailing = mailing
    if public and mailing.embargo is not None:
        raise PublisherError(Problem(name, None, f"{kind} {name} is under embargo until "
                                     f"{mailing.embargo.isoformat()}; --public sends only "
                                     "what is public; send without --public to reach "
                                     "embargo_ok recipients, or after the embargo", code="M008"))
    site = loaded.site
    sender = _sender(loaded)
    from ..inputs.resources import ResourcePolicy

    path = recipients_file(root, str(DEFAULTS["recipients_file"]))
    recipients, problems = read_recipients(path, root, ResourcePolicy([root],
                                           limits=dict(site.limits)), dict(site.limits))
    report.problems += problems
    if list_name:
        recipients = [r for r in recipients if list_name in r.lists]
        if not recipients:
            raise UsageError(Problem(display_path(path, root), None,
                                     f"nobody is on the list '{list_name}'", code="U001"))
    ledger_path = root / str(DEFAULTS["sent_dir"]) / ledger_name(kind, name)
    shown = display_path(ledger_path, root)
    _refused(WritePolicy([root / str(DEFAULTS["sent_dir"])], root).check, ledger_path)
    if dry_run:
        state = read_ledger(ledger_path, shown)
        report.problems += state.problems
        report.deliveries = plan(mailing, recipients, state, resend=resend)
        report.outbox = _outbox(root, kind, name, report.deliveries)
        return report
    smtp = site.smtp
    if not smtp:
        line = loaded.site_located.line() if loaded.site_located else None
        raise PublisherError(Problem(str(DEFAULTS["site_file"]), line, "no smtp settings: "
                                     "add smtp: {host: smtp.example.org, user: press} (the "
                                     f"password in ${DEFAULTS['smtp_password_env']}), or use "
                                     "--dry-run", code="M006"))
    transport = _transport(loaded, smtp)
    where = _where(loaded, "smtp")
    with Ledger(ledger_path, shown) as ledger:
        state = ledger.state()
        report.problems += state.problems
        report.deliveries = plan(mailing, recipients, state, resend=resend)
        if not any(d.status == "send" for d in report.deliveries):
            return report
        try:
            try:
                transport.open()  # a wrong password or no server: stops before the ledger
            except ServerTrouble as exc:
                raise PublisherError(Problem(where.file, where.line, f"{transport.host}: "
                                             f"{exc}; nothing was sent", code="M007")) from None
            if not transport.offers("smtputf8"):
                for delivery in report.deliveries:
                    if delivery.status == "send" and delivery.recipient.smtputf8:
                        delivery.status = "refused"
                        delivery.detail = ("the server takes no address whose part before "
                                           "the @ is not ASCII (it does not offer SMTPUTF8)")
            trouble = deliver(
                report.deliveries, transport, ledger, sender=sender,
                per_minute=smtp.per_minute, retries=smtp.retries, backoff=smtp.backoff_seconds,
                batch_seconds=smtp.batch_seconds,
                mailing=mailing, on_delivery=on_delivery)
        finally:
            transport.close()
    if trouble is not None:
        sent, unknown = report.count("sent"), report.count("unknown")
        left = report.count("stopped")
        told = f"{sent} sent" + (f", {unknown} perhaps sent" if unknown else "") + \
            f", {left} not sent"
        report.problems.append(Problem(where.file, where.line, f"{transport.host}: {trouble}; "
                                       f"the batch stopped ({told}); run the same command "
                                       "again later: what was sent is skipped", code="M007"))
    return report


AS_OF_SLACK = dt.timedelta(minutes=1)  # clocks that differ a little


@dataclass(frozen=True)
class _Where:
    file: str
    line: int | None


def _where(loaded, key: str) -> _Where:
    """Where site.yaml says ``key``: what a problem about it points at."""
    located = loaded.site_located
    return _Where(str(DEFAULTS["site_file"]), located.line(key) if located else None)


def _transport(loaded, smtp: SmtpSettings) -> Smtp:
    located = loaded.site_located
    where = _where(loaded, "smtp")
    variable = smtp.password_env
    password = os.environ.get(variable)
    if smtp.user and not password:
        raise PublisherError(Problem(where.file, located.line("smtp", "user") if located
                                     else None, f"smtp.user is set but ${variable} is empty; "
                                     f"export {variable}=… with the password before "
                                     "sending", code="M006"))
    if smtp.user and smtp.security == "none" and \
            smtp.host not in ("localhost", "127.0.0.1", "::1"):
        raise PublisherError(Problem(where.file, located.line("smtp", "security") if located
                                     else None, "a password is never sent unencrypted: use "
                                     "security: starttls or tls with this server", code="M006"))
    return Smtp(smtp, password)


def _sender(loaded) -> str:
    """The envelope sender: email.from's address."""
    from email.utils import parseaddr

    written = loaded.site.email.sender
    try:
        return read_address(parseaddr(written)[1]).envelope
    except BadAddress:
        where = _where(loaded, "email")
        raise PublisherError(Problem(where.file, where.line, "email.from is needed to send: "
                                     "write e.g. email: {from: Press office "
                                     "<press@example.org>}", code="M006")) from None


def _build(loaded, kind: str, name: str, as_of: dt.datetime, jobs, on_output):
    from ..pipeline import build, build_kit, build_newsletter
    from ..selection import release_index

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
                                 f"no release '{name}'; {hint}", code="U001"))
    return build(root, [r.path for r in index[name].values()], **common)


def _mailing(loaded, kind: str, name: str, built, as_of: dt.datetime) -> Mailing | None:
    """What is sent, from the messages the build wrote; None when one of them is
    not the file the build recorded (changed in place since): it is made again."""
    from ..load import LANG_SUFFIX
    from ..selection import kit_release_ids, release_index

    editions = {}
    changed = []
    for output in built.outputs:
        if output.path.suffix != ".eml":
            continue
        found = LANG_SUFFIX.match(output.path.stem)
        if found:
            edition = Edition(found["lang"], output.path, output.path.read_bytes())
            if edition.sha256 != output.sha256:
                changed.append(output.path)
            editions[found["lang"]] = edition
    if changed:
        from ..write import Manifest

        build_dir = loaded.root / str(DEFAULTS["build_dir"])
        Manifest(build_dir).forget(display_path(path, build_dir) for path in changed)
        return None
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
    default = loaded.site.default_lang or DEFAULTS["default_lang"]
    return Mailing(kind, name, editions, default, max(moments) if moments else None)


def _outbox(root: Path, kind: str, name: str, deliveries: list[Delivery]) -> Path:
    """Each message that would go, as ``NNN-address.eml``; the folder holds only this
    dry run's."""
    writes = WritePolicy([root / str(DEFAULTS["outbox_dir"])], root)
    folder = root / str(DEFAULTS["outbox_dir"]) / ledger_name(kind, name).removesuffix(".jsonl")
    folder = _refused(writes.folder, folder)
    if folder.is_dir():
        for old in folder.glob("*.eml"):
            old.unlink()
    number = 0
    for delivery in deliveries:
        if delivery.status != "send":
            continue
        number += 1
        person, edition = delivery.recipient, delivery.edition
        assert edition is not None  # a delivery to send has its edition
        data = for_recipient(edition.data, person.name, person.envelope, delivery.message_id)
        _refused(writes.write, folder / f"{number:03d}-{_file_part(person.email)}.eml", data)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _refused(call, *args):
    """``call(*args)``, a write refused by the policy said as a problem."""
    try:
        return call(*args)
    except RefusedWrite as exc:
        raise PublisherError(Problem(str(args[0]), None, str(exc), code="O002")) from None


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:80] or "unnamed"


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
        person, edition = delivery.recipient, delivery.edition
        if delivery.status == "send" and edition is not None:
            lines.append(f"would send {person.email} ({edition.lang}): {edition.subject}")
        else:
            lines.append(f"not sent   {person.email}: {STATUSES[delivery.status]}"
                         + (f" ({delivery.detail})" if delivery.detail else ""))
    return lines
