"""Hostile input against `publisher send`: press lists from a CRM, crafted
ledgers, and mail servers that are slow, endless, rude or gone.

Each test sends the sample's June 2018 newsletter (built once for the module,
then copied) to a small SMTP server on 127.0.0.1 (tests/smtpserver.py) that
keeps the raw bytes it is given, so that what reached the server is read as
the server saw it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import tracemalloc
from email import policy
from email.parser import BytesParser

import pytest
import smtpserver
from click.testing import CliRunner
from conftest import REPO, ProjectDir

AFTER = "2018-06-20T10:00:00+00:00"
HEADERS = {"to", "message-id", "subject", "from", "date", "mime-version", "content-type",
           "content-language", "list-unsubscribe", "reply-to", "list-unsubscribe-post"}


@pytest.fixture(scope="module")
def _built(tmp_path_factory):
    from publisher.pipeline import build

    root = tmp_path_factory.mktemp("send-hostile")
    shutil.copytree(REPO / "sources", root / "sources")
    assert build(root, as_of=dt.datetime(2018, 6, 20, tzinfo=dt.timezone.utc)).ok
    return root


@pytest.fixture
def mail(request, _built, tmp_path):
    """(project, server): a copy of the built sample set to send through a server
    that behaves as the test's ``behaviour`` mark says."""
    marker = request.node.get_closest_marker("behaviour")
    behaviour = smtpserver.Behaviour(**(marker.kwargs if marker else {}))
    server, stop = smtpserver.start(behaviour)
    root = tmp_path / "p"
    shutil.copytree(_built, root)
    project = ProjectDir(root)
    site = root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "\n".join([
        "smtp:", "  host: 127.0.0.1", f"  port: {server.port}", "  security: none",
        "  per_minute: 60000", "  retries: 1", "  backoff_seconds: 0.1",
        "  timeout_seconds: 1", "  connect_seconds: 2", "  message_seconds: 2", ""]),
        encoding="utf-8")
    yield project, server
    stop()


def _recipients(project, *rows: str) -> None:
    project.write("sources/recipients.yaml", "recipients:\n" + "".join(
        f"  - {row}\n" for row in rows))


def _send(project, *extra: str):
    from publisher.commands.cli import main

    started = time.monotonic()
    result = CliRunner().invoke(main, ["send", "newsletter", "2018-06", "--project",
                                       str(project.root), "--as-of", AFTER, *extra])
    result.seconds = time.monotonic() - started
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _head(data: bytes) -> list[bytes]:
    head, sep, _body = data.partition(b"\r\n\r\n")
    assert sep, "the message has no end of headers"
    return head.split(b"\r\n")


def test_a_name_with_line_breaks_never_reaches_the_headers(mail):
    project, server = mail
    _recipients(project,
                "{email: good@example.org, name: Claire Martin, lang: fr}",   # 2
                '{email: lf@example.org, name: "Eve\\nBcc: spy@evil.example"}',  # 3
                '{email: crlf@example.org, name: "Eve\\r\\n\\r\\nforged body"}',  # 4
                '{email: tab@example.org, name: "Eve\\u0007bell"}',  # 5
                "{email: long@example.org, name: " + "N" * 3000 + "}",  # 6
                "{email: folded@example.org, name: " + " ".join(["Jean-Yves"] * 18) + "}")
    result = _send(project)
    assert result.exit_code == 1, result.output  # the rows left out are errors
    assert "2 recipients: 2 sent" in result.output
    assert sorted(server.addresses()) == ["folded@example.org", "good@example.org"]
    lines = [line for line in result.output.splitlines() if "left out" in line]
    assert [line.split(":")[1] for line in lines] == ["3", "4", "5", "6"]
    assert all(line.startswith("sources/recipients.yaml:") for line in lines)
    assert "line break (U+000A)" in lines[0] and "line break (U+000D)" in lines[1]
    assert "control character (U+0007)" in lines[2] and "3000 characters" in lines[3]
    for message in server.received:
        head = _head(message.data)
        assert all(len(line) <= 998 for line in message.data.split(b"\r\n"))
        names = {line.split(b":")[0].decode().lower() for line in head
                 if line[:1] not in (b" ", b"\t")}
        assert names <= HEADERS and "content-type" in names, names
        assert b"spy@evil.example" not in message.data and b"forged body" not in message.data
        parsed = BytesParser(policy=policy.default).parsebytes(message.data)
        assert parsed.get_content_maintype() == "multipart"
        assert not parsed.defects
    folded = next(m for m in server.received if m.rcpt_to == [b"folded@example.org"])
    to = BytesParser(policy=policy.default).parsebytes(folded.data)["To"]
    assert to.addresses[0].display_name == " ".join(["Jean-Yves"] * 18)


def test_addresses_are_validated_normalised_and_counted_once(mail):
    project, server = mail
    _recipients(project,
                "{email: Claire.Martin@Example.ORG, lang: fr}",  # 2
                "{email: claire.martin@example.org, lang: fr}",  # 3: the same person
                "{email: a@b..org}",  # 4
                "{email: .dot@example.org}",  # 5
                "{email: a@-host-.org}",  # 6
                "{email: paren(comment)@example.org}",  # 7
                "{email: jörg@bücher.example, lang: fr}",  # 8: internationalised
                "{email: ascii@bücher.example, lang: fr}")  # 9: only the domain
    result = _send(project)
    assert result.exit_code == 1, result.output  # the rows left out are errors
    said = {int(line.split(":")[1]): line for line in result.output.splitlines()
            if line.startswith("sources/recipients.yaml:")}
    assert sorted(said) == [3, 4, 5, 6, 7]
    assert "already on line 2" in said[3]
    for line in (4, 5, 6, 7):
        assert "is not an e-mail address" in said[line] and "left out" in said[line]
    assert "period" in said[4] and "'(', ')'" in said[7]
    # the domain as written in lower case, the local part as written; an
    # internationalised domain goes as ASCII when the local part is ASCII
    assert sorted(server.addresses()) == sorted([
        "Claire.Martin@example.org", "jörg@bücher.example", "ascii@xn--bcher-kva.example"])
    utf8 = next(m for m in server.received if m.rcpt_to == ["jörg@bücher.example".encode()])
    assert utf8.mail_from.endswith(b"SMTPUTF8")
    plain = next(m for m in server.received if m.rcpt_to == [b"ascii@xn--bcher-kva.example"])
    assert b"SMTPUTF8" not in plain.mail_from and plain.data.isascii()


@pytest.mark.behaviour(smtputf8=False)
def test_an_internationalised_address_is_reported_when_the_server_cannot_take_it(mail):
    project, server = mail
    _recipients(project, "{email: jörg@bücher.example, lang: fr}",
                "{email: claire@example.org, lang: fr}")
    result = _send(project)
    assert result.exit_code == 1
    assert "FAILED jörg@bücher.example: the server takes no address whose part before the " \
           "@ is not ASCII (it does not offer SMTPUTF8)" in result.output
    assert server.addresses() == ["claire@example.org"]
    assert "2 recipients: 1 sent, 1 refused by the server" in result.output


@pytest.mark.behaviour(greeting="trickle")
def test_a_server_that_trickles_its_greeting_is_given_up_on_within_the_deadline(mail):
    project, server = mail
    result = _send(project)
    assert result.exit_code == 1
    assert result.seconds < 10
    [line] = [line for line in result.output.splitlines() if "127.0.0.1" in line]
    assert line.startswith("sources/site.yaml:")
    assert "took more than 2 s to greet" in line and "(smtp.connect_seconds)" in line
    assert line.endswith("nothing was sent [M007]")
    assert not (project.root / "build/sent/newsletter-2018-06.jsonl").read_bytes()


@pytest.mark.behaviour(greeting="endless")
def test_a_greeting_that_never_ends_is_given_up_on(mail):
    project, _server = mail
    result = _send(project)
    assert result.exit_code == 1 and result.seconds < 10
    assert "a reply of more than 100 lines, which never ended" in result.output


@pytest.mark.behaviour(greeting="421")
def test_a_421_greeting_is_said_as_a_sentence(mail):
    project, _server = mail
    result = _send(project)
    assert result.exit_code == 1
    assert "the server refused the connection (421 4.3.2 mail.test is too busy, come back " \
           "later); nothing was sent" in result.output
    assert "(421, b" not in result.output


@pytest.mark.behaviour(hang_after_data=True)
def test_a_server_that_hangs_after_data_stops_the_batch_once_with_the_ledger_true(mail):
    project, server = mail
    _recipients(project, "{email: first@example.org}", "{email: second@example.org}",
                "{email: third@example.org}")
    result = _send(project)
    assert result.exit_code == 1 and result.seconds < 10, result.output
    assert "over one message (smtp.message_seconds, smtp.timeout_seconds); the batch " \
           "stopped (0 sent, 1 perhaps sent, 2 not sent)" in result.output
    assert "3 recipients: 1 may have been sent, 2 not sent (the batch stopped)" \
        in result.output
    records = [json.loads(line) for line in
               (project.root / "build/sent/newsletter-2018-06.jsonl").read_text().splitlines()]
    assert [(r["recipient"], r["result"]) for r in records] == [
        ("first@example.org", "sending"), ("first@example.org", "unknown")]
    assert server.received == []


@pytest.mark.behaviour(drop_after=2, refuse_reconnect=True)
def test_a_server_that_drops_after_some_messages_is_not_reported_as_nothing_sent(mail):
    project, server = mail
    _recipients(project, *(f"{{email: p{i}@example.org}}" for i in range(5)))
    result = _send(project)
    assert result.exit_code == 1
    assert len(server.addresses()) == 2
    assert "nothing was sent" not in result.output
    assert "the batch stopped (2 sent, 3 not sent)" in result.output
    assert "554 5.3.2 no more today" in result.output


def test_endless_waits_and_rates_are_refused_in_site_yaml(mail):
    project, server = mail
    site = project.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8").replace("backoff_seconds: 0.1",
                                                             "backoff_seconds: .inf"))
    result = _send(project)
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if "backoff_seconds" in line]
    assert line.startswith("sources/site.yaml:") and "at most 3600" in line
    assert server.connections == 0


def test_crafted_ledger_lines_are_reported_and_never_cause_a_second_send(mail):
    project, server = mail
    _recipients(project, "{email: known@example.org, lang: fr}",
                "{email: crafted@example.org, lang: fr}", "{email: fresh@example.org}")
    ledger = project.root / "build/sent/newsletter-2018-06.jsonl"
    ledger.parent.mkdir(parents=True)
    ledger.write_text("\n".join([
        '{"recipient": "known@example.org", "result": "sent", "sha256": "x", "time": "t"}',
        '{"recipient": "crafted@example.org", "result": "sent", "sha256": ["a", "b"]}',
        "[1, 2, 3]",
        '{"recipient": 42, "result": "sent"}',
        '{"recipient": "fresh@exam',  # torn by a kill
        '"just a string"', ""]), encoding="utf-8")
    result = _send(project)
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines()
            if line.startswith("build/sent/newsletter-2018-06.jsonl:")]
    assert [line.split(":")[1] for line in said] == ["2", "3", "4", "5", "6"]
    assert "about 'crafted@example.org' is not a record" in said[0]
    # known had an earlier version; crafted waits until its line is checked
    assert sorted(server.addresses()) == ["fresh@example.org"]
    assert "1 sent, 1 has an earlier version, 1 held until their ledger line is checked" \
        in result.output


def test_regional_languages_get_their_language_s_edition(mail):
    project, server = mail
    _recipients(project, "{email: gb@example.org, lang: en_GB}",
                "{email: ca@example.org, lang: fr-CA}", "{email: ru@example.org, lang: ru_RU}",
                "{email: pt@example.org, lang: [pt_BR, en-US]}")
    assert _send(project).exit_code == 0
    langs = {m.rcpt_to[0].decode(): BytesParser(policy=policy.default).parsebytes(
        m.data)["Content-Language"] for m in server.received}
    assert langs == {"gb@example.org": "en", "ca@example.org": "fr", "ru@example.org": "ru",
                     "pt@example.org": "en"}


def test_a_future_as_of_never_lifts_an_embargo_for_a_real_send(mail):
    project, server = mail
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).isoformat()
    from publisher.commands.cli import main

    result = CliRunner().invoke(main, ["send", "newsletter", "2018-06", "--project",
                                       str(project.root), "--as-of", future])
    assert result.exit_code == 2 and "is in the future" in result.output
    assert server.connections == 0
    naive = CliRunner().invoke(main, ["send", "newsletter", "2018-06", "--project",
                                      str(project.root), "--as-of", "2018-06-20T10:00:00"])
    assert naive.exit_code == 2 and "has no UTC offset or time zone" in naive.output
    dry = CliRunner().invoke(main, ["send", "newsletter", "2018-06", "--dry-run",
                                    "--project", str(project.root), "--as-of", future])
    assert dry.exit_code == 0, dry.output


def test_a_message_edited_in_place_with_its_size_and_time_kept_is_made_again(mail):
    project, server = mail
    _recipients(project, "{email: claire@example.org, lang: fr}")
    eml = project.root / "build/newsletters/2018-06.fr.eml"
    built = eml.read_bytes()
    facts = eml.stat()
    forged = built.replace(b"juin 2018", b"juin 1918", 1)
    assert forged != built and len(forged) == len(built)
    eml.write_bytes(forged)
    os.utime(eml, ns=(facts.st_atime_ns, facts.st_mtime_ns))
    assert _send(project).exit_code == 0
    [message] = server.received
    assert b"juin 1918" not in message.data
    assert eml.read_bytes() == built


def test_a_csv_press_list_with_nul_bytes_or_broken_quoting_is_reported_by_row(tmp_path):
    from publisher.inputs.recipients import read_recipients
    from publisher.inputs.resources import ResourcePolicy

    path = tmp_path / "sources/recipients.csv"
    path.parent.mkdir()
    path.write_bytes("\n".join([
        "name,email,lang",
        "Claire,claire@example.org,fr",  # 2
        "Nul\0led,nul@example.org,fr",  # 3
        '"Okafor" James,james@example.org,en',  # 4: text after a closing quote
        "Big," + "x" * 200_000 + "@example.org,en",  # 5: a cell past the CSV reader's limit
        "Irina,irina@example.org,ru",  # 6
        '"Unclosed,lost@example.org,fr',  # 7
        "After,after@example.org,en",  # 8
        ""]).encode())
    people, problems = read_recipients(path, tmp_path, ResourcePolicy([tmp_path]))
    assert [p.email for p in people] == ["claire@example.org", "irina@example.org"]
    said = {(p.line, p.col): p.message for p in problems}
    assert sorted(said) == [(3, 4), (4, 9), (5, None), (7, 1)], said
    assert "NUL byte" in said[3, 4]
    assert "' ' after the closing quote" in said[4, 9]
    assert "cannot be read as CSV" in said[5, None]
    assert "never closed, so the 1 line after it" in said[7, 1]


def test_a_press_list_that_is_an_alias_bomb_is_refused_in_little_memory(tmp_path):
    from publisher.inputs.recipients import read_recipients
    from publisher.inputs.resources import ResourcePolicy

    levels = ["a: &a [x@example.org, x@example.org, x@example.org, x@example.org]"]
    for depth in range(1, 12):
        before, name = chr(96 + depth), chr(97 + depth)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{before}"] * 4) + "]")
    path = tmp_path / "sources/recipients.yaml"
    path.parent.mkdir()
    path.write_text("\n".join(levels) + "\nrecipients: *l\n", encoding="utf-8")
    tracemalloc.start()
    try:
        people, [problem] = read_recipients(path, tmp_path, ResourcePolicy([tmp_path]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert people == [] and "expands to more than 20000 values" in problem.message
    assert peak < 20_000_000, peak


def test_two_release_names_that_differ_by_spelling_only_get_two_ledgers():
    from publisher.sending.ledger import ledger_name

    names = ["2018-06-15-café", "2018-06-15-cafe\u0301", "2018-06-15 cafe",
             "2018-06-15-cafe", "2018-06-15_cafe"]
    made = {ledger_name("release", name) for name in names}
    assert len(made) == 4  # NFC and NFD spell the same name
    assert ledger_name("newsletter", "2018-06") == "newsletter-2018-06.jsonl"


def test_a_batch_past_its_deadline_stops_with_the_rest_not_sent(tmp_path):
    from publisher.inputs.recipients import Recipient
    from publisher.mail import Letter, message
    from publisher.sending.ledger import Ledger, read_ledger
    from publisher.sending.send import Delivery, Edition, Mailing, deliver

    data = message(Letter(subject="S", html="<p>x</p>", text="x",
                          sender="P <press@example.org>", message_id="<m@example.org>"))
    edition = Edition("fr", tmp_path / "x.eml", data)
    mailing = Mailing("newsletter", "2018-06", {"fr": edition}, "fr")
    deliveries = [Delivery(Recipient(f"p{i}@example.org"), "send", edition, message_id=f"<{i}@x>")
                  for i in range(5)]
    now = [0.0]
    sent = []

    class Server:  # each message takes 40 s of the batch's 100
        def send(self, sender, address, data, *, seconds, utf8):
            now[0] += 40
            sent.append(address)

    path = tmp_path / "ledger.jsonl"
    with Ledger(path, "ledger.jsonl") as ledger:
        trouble = deliver(deliveries, Server(), ledger, sender="press@example.org",
                          per_minute=60_000, retries=0, backoff=1, mailing=mailing,
                          batch_seconds=100, clock=lambda: now[0], sleep=lambda s: None)
    assert "the batch took longer than 100 s (smtp.batch_seconds)" in str(trouble)
    assert sent == ["p0@example.org", "p1@example.org", "p2@example.org"]
    assert [d.status for d in deliveries] == ["sent"] * 3 + ["stopped"] * 2
    state = read_ledger(path, "ledger.jsonl")
    assert sorted(k for k, past in state.people.items() if past.sent) == sent
