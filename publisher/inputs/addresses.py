"""E-mail addresses and the names written before them, as a press list gives them.

An address is checked with ``email-validator`` (the syntax of RFC 5321 and
5322, internationalised domains and local parts; no DNS lookup) and kept in
its normalised form: the domain in lower case, the local part as written.
Two rows are the same person when their addresses agree once the local part's
case is ignored too (:func:`mailbox_key`), which is how mailbox providers
treat them.  A name goes into a ``To:`` header, so anything that could end
the header or hide what it says (a line break, a control character, an
invisible direction control) is refused, and so is a name too long for one
header line.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .characters import bidi_message, codepoint

NAME_CHARS = 200  # a person's or a desk's name, well within one header line


@dataclass(frozen=True)
class Mailbox:
    address: str  # normalised: what people see, what the ledger records
    envelope: str  # what goes to the server: the domain as ASCII when the local part is
    smtputf8: bool  # the local part is not ASCII: only a server with SMTPUTF8 takes it


class BadAddress(ValueError):
    """Why a text is not an address, as a sentence."""


def read_address(text: str) -> Mailbox:
    """``text`` as a :class:`Mailbox`; :class:`BadAddress` says why it is not one."""
    from email_validator import EmailNotValidError, validate_email

    written = text.strip()
    if not written:
        raise BadAddress("it is empty")
    try:
        found = validate_email(written, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise BadAddress(str(exc).rstrip(".")) from None
    ascii_form = found.ascii_email
    return Mailbox(found.normalized, ascii_form or found.normalized, ascii_form is None)


def mailbox_key(address: str) -> str:
    """What two addresses compare by: the domain as normalised, the local part
    without its case (``Claire.Martin@Example.org`` is ``claire.martin@example.org``)."""
    try:
        address = read_address(address).address
    except BadAddress:
        pass
    local, _, domain = unicodedata.normalize("NFC", address).rpartition("@")
    return f"{local.casefold()}@{domain.casefold()}"


def name_problem(name: str) -> str | None:
    """Why ``name`` may not stand before an address in a header, or None."""
    for char in name:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            what = "a line break" if char in "\r\n\x85\u2028\u2029" else "a control character"
            return (f"the name holds {what} ({codepoint(char)}), which would change the "
                    "message's headers; remove it")
    reason = bidi_message(name)
    if reason:
        return f"the name {reason}"
    if len(name) > NAME_CHARS:
        return (f"the name is {len(name)} characters long, more than the {NAME_CHARS} a "
                "header line takes; shorten it")
    return None
