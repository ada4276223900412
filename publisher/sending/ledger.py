"""The send ledger: ``build/sent/<kind>-<name>.jsonl``, what was sent to whom.

One JSON object per line, appended and flushed to disk before each message
("sending") and after it (the result), so that a send killed half-way resumes
where it stopped.  The ledger is read defensively: it may have been damaged
by a kill, by hand or by a restored cache.  A line that is not JSON is
reported and skipped (a kill while a line was written leaves one; the
"sending" line before it tells that message's fate); a line that is JSON but
not a record this toolkit writes is reported, and the recipient it names, if
any, is *unknown*: not sent again until someone has looked (``--resend``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import Problem, PublisherError
from ..inputs.addresses import mailbox_key

RESULTS = ("sending", "deferred", "sent", "refused", "failed", "unknown")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ledger_name(kind: str, name: str) -> str:
    """The ledger's file name: the kind and name as written, made safe for a file
    system, with a short digest when that changed them (two names that differ
    only by normalisation, case, spaces or punctuation get two ledgers)."""
    written = unicodedata.normalize("NFC", name)
    safe = _SAFE.sub("-", written).strip("-.") or "unnamed"
    if safe != written:
        safe += "-" + hashlib.sha256(written.encode()).hexdigest()[:8]
    return f"{kind}-{safe}.jsonl"


@dataclass
class Past:
    """What the ledger says of one recipient."""

    sent: dict[str, str] = field(default_factory=dict)  # sha256 of a version → when
    last: dict = field(default_factory=dict)  # the last record
    damaged: int | None = None  # the line of a record about them that cannot be trusted


@dataclass
class State:
    people: dict[str, Past] = field(default_factory=dict)  # by mailbox_key
    problems: list[Problem] = field(default_factory=list)

    def of(self, address: str) -> Past:
        return self.people.get(mailbox_key(address)) or Past()


def _record(raw: bytes) -> tuple[dict | None, str | None]:
    """(record, None), or (None, the address it names if any) for a damaged line."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(record, dict):
        return None, None
    recipient = record.get("recipient")
    named = recipient if isinstance(recipient, str) and recipient.strip() else None
    good = (named is not None and record.get("result") in RESULTS
            and all(isinstance(record.get(key, ""), str)
                    for key in ("sha256", "time", "lang", "message_id", "detail")))
    return (record, None) if good else (None, named)


def read_ledger(path: Path, shown: str) -> State:
    state = State()
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return state
    except OSError as exc:
        raise PublisherError(Problem(shown, None, f"cannot be read ({exc.strerror}); nothing "
                                                  "is sent until it can", code="F002")) from None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        record, named = _record(raw)
        if record is None:
            if named is None:
                state.problems.append(Problem(
                    shown, number, "this line is not a record of publisher send (a send "
                                   "killed while writing leaves one); it is skipped",
                    severity="warning", code="M005"))
            else:
                state.problems.append(Problem(
                    shown, number, f"this line about {named!r} is not a record publisher "
                                   "send writes; until it is checked they are not sent "
                                   "again (--resend sends anyway)", severity="warning",
                                       code="M005"))
                state.people.setdefault(mailbox_key(named), Past()).damaged = number
            continue
        past = state.people.setdefault(mailbox_key(record["recipient"]), Past())
        past.last = record
        if record["result"] == "sent":
            past.sent.setdefault(record.get("sha256", ""), record.get("time", ""))
    return state


class Ledger:
    """The ledger open for appending; only one send of the same thing at a time."""

    def __init__(self, path: Path, shown: str):
        self.path = path
        self.shown = shown
        self.handle: BinaryIO | None = None

    def __enter__(self) -> Ledger:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.handle = open(self.path, "a+b")  # noqa: SIM115 (held until __exit__)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise PublisherError(Problem(self.shown, None, "another publisher send of the "
                                                           "same thing is running; wait for "
                                                           "it to finish", code="M008")) from None
        handle.seek(0, os.SEEK_END)
        if handle.tell():  # a line torn by a kill gets its end, so the next is whole
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
                self._sync()
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()

    def state(self) -> State:
        return read_ledger(self.path, self.shown)

    def append(self, **record) -> None:
        record["time"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        self._open().write(line.encode("utf-8"))
        self._sync()

    def _open(self) -> BinaryIO:
        assert self.handle is not None, "the ledger is used inside its with block"
        return self.handle

    def _sync(self) -> None:
        self._open().flush()
        os.fsync(self._open().fileno())
