"""`publisher send` against a real SMTP server: aiosmtpd on 127.0.0.1, with
STARTTLS (a certificate from a CA the test makes) and AUTH."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import policy
from email.parser import BytesParser

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from click.testing import CliRunner
from conftest import SAMPLE_STEM

AFTER = dt.datetime(2018, 6, 20, 10, 0, tzinfo=dt.timezone.utc)
PASSWORD = "correct horse battery staple"
PEOPLE = {  # the sample's recipients, and what each reads of the newsletter
    "claire.martin@example.org": ("fr", "Lettre d\u2019information — juin 2018"),
    "james.okafor@example.org": ("en", "Newsletter — June 2018"),
    "irina.volkova@example.org": ("ru", "Информационный бюллетень — июнь 2018 г."),
    "jonas.becker@example.org": ("fr", "Lettre d\u2019information — juin 2018"),  # de: site's
    "ana.souza@example.org": ("en", "Newsletter — June 2018"),  # pt, else en
}
EVERYONE_ONCE = Counter(list(PEOPLE))
EMBARGO_OK = {"claire.martin@example.org", "james.okafor@example.org"}


class Mailbox:
    """What the server was given; some addresses refused, some told to wait."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[tuple[list[str], bytes]] = []
        self.times: list[float] = []  # when each message arrived
        self.refuse: set[str] = set()
        self.busy: dict[str, int] = {}  # address: how many more times to say 451

    async def handle_RCPT(self, server, session, envelope, address, options):
        with self.lock:
            if address in self.refuse:
                return "550 5.1.1 No such mailbox here"
            if self.busy.get(address, 0) > 0:
                self.busy[address] -= 1
                return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), envelope.original_content))
            self.times.append(time.monotonic())
        return "250 Message accepted"

    def messages(self):
        with self.lock:
            return [(to, BytesParser(policy=policy.default).parsebytes(data))
                    for to, data in self.received]

    def count(self) -> Counter:
        with self.lock:
            return Counter(address for to, _ in self.received for address in to)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture
def server(ca):
    authority, _ = ca
    cert = authority.issue_cert("127.0.0.1", "localhost")
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)

    def authenticate(server, session, envelope, mechanism, auth_data):
        good = auth_data.login == b"press" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=good, handled=False)  # the server answers 535 itself

    mailbox = Mailbox()
    port = _free_port()

    class Server(Controller):
        def factory(self):
            return SMTP(self.handler, hostname="mail.test", tls_context=context,
                        require_starttls=True, auth_required=True, authenticator=authenticate)

    controller = Server(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.port = port
    yield mailbox
    controller.stop()


@pytest.fixture
def sending(project, server, ca, monkeypatch):
    """The sample project set to send through the test server."""
    _, ca_path = ca
    site = project.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "\n".join([
        "smtp:", "  host: 127.0.0.1", f"  port: {server.port}", "  user: press",
        "  per_minute: 6000", "  retries: 2", "  backoff_seconds: 0.2", ""]), encoding="utf-8")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_path))
    monkeypatch.setenv("PUBLISHER_SMTP_PASSWORD", PASSWORD)
    return project


def _cli(*args):
    from publisher.commands.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _ledger(project, name="newsletter-2018-06"):
    path = project.root / f"build/sent/{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _embargo(project, moment="2018-06-15T10:00:00+02:00"):
    for lang in ("fr", "en", "ru"):
        source = project.release(lang)
        source.write_text(source.read_text(encoding="utf-8").replace(
            "\n---\n", f"\nembargo: {moment}\n---\n", 1), encoding="utf-8")


def test_each_recipient_gets_their_language_once_and_a_rerun_sends_nothing(sending, server):
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 0, result.output
    assert "5 recipients: 5 sent" in result.output
    received = server.messages()
    assert sorted(to[0] for to, _ in received) == sorted(PEOPLE)
    for (address,), message in received:
        lang, subject = PEOPLE[address]
        assert message["Subject"] == subject and message["Content-Language"] == lang
        assert message["To"].addresses[0].addr_spec == address
        assert str(message["From"]) == "CNES Service de presse <presse@example.org>"
        assert message["List-Unsubscribe"] == "<mailto:presse+desabonnement@example.org>"
        html = message.get_body(("html",)).get_content()
        ids = {p["Content-ID"].strip("<>") for p in message.walk() if p["Content-ID"]}
        assert ids and all(f"cid:{cid}" in html for cid in ids)
        assert message.get_body(("plain",)).get_content_charset() == "utf-8"
    russian = next(m for (a,), m in received if a.startswith("irina"))
    assert russian["To"].addresses[0].display_name == "Ирина Волкова"
    assert len({m["Message-ID"] for _, m in received}) == 5
    records = _ledger(sending)
    assert [r["result"] for r in records] == ["sending", "sent"] * 5
    assert {"recipient", "message_id", "sha256", "time", "result"} <= set(records[-1])

    again = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                 "--as-of", AFTER.isoformat())
    assert again.exit_code == 0, again.output
    assert "nothing to send: all 5 recipients already have this version" in again.output
    assert len(server.received) == 5 and len(_ledger(sending)) == 10


def test_killed_mid_send_then_run_again_reaches_everyone_exactly_once(sending, server):
    site = sending.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8").replace("per_minute: 6000",
                                                             "per_minute: 120"))
    command = [sys.executable, "-m", "publisher", "send", "newsletter", "2018-06",
               "--project", str(sending.root), "--as-of", AFTER.isoformat()]
    ledger = sending.root / "build/sent/newsletter-2018-06.jsonl"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if ledger.exists() and ledger.read_text(encoding="utf-8").count('"sent"') >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the send finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)  # half-way: waiting for the rate limit
    process.wait()
    sent_before = sum(server.count().values())
    assert 2 <= sent_before < 5

    again = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ),
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert server.count() == EVERYONE_ONCE  # each exactly once
    assert f"{5 - sent_before} sent" in again.stdout and f"{sent_before} already sent" \
        in again.stdout


def test_a_refused_address_and_a_busy_one_never_stop_the_batch(sending, server):
    sending.write("sources/recipients.yaml", "\n".join([
        "- {email: first@example.org, lang: fr}",
        "- {email: refused@example.org, lang: fr}",
        "- {email: busy@example.org, lang: en}",
        "- {email: last@example.org, lang: ru}", ""]))
    server.refuse.add("refused@example.org")
    server.busy["busy@example.org"] = 1  # 451 once, then taken
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 1
    assert server.count() == Counter({"first@example.org": 1, "busy@example.org": 1,
                                      "last@example.org": 1})
    assert "FAILED refused@example.org: 550 5.1.1 No such mailbox here" in result.output
    assert "4 recipients: 3 sent, 1 refused by the server" in result.output
    assert "Traceback" not in result.output
    results = [(r["recipient"], r["result"]) for r in _ledger(sending)
               if r["result"] != "sending"]
    assert ("busy@example.org", "deferred") in results and ("busy@example.org", "sent") in \
        results and ("refused@example.org", "refused") in results


def test_a_server_that_keeps_saying_wait_fails_that_recipient_after_the_retries(sending,
                                                                               server):
    sending.write("sources/recipients.yaml", "- email: busy@example.org\n"
                                             "- email: fine@example.org\n")
    server.busy["busy@example.org"] = 99
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 1
    assert "FAILED busy@example.org: 451 4.3.2 Try again later (tried 3 times)" \
        in result.output
    assert server.count() == Counter({"fine@example.org": 1})


def test_a_wrong_password_stops_with_one_message_and_nothing_marked_sent(sending, server,
                                                                         monkeypatch):
    monkeypatch.setenv("PUBLISHER_SMTP_PASSWORD", "wrong")
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "refused the login" in line]
    assert len(lines) == 1 and lines[0].startswith("sources/site.yaml:")
    assert "nothing was sent" in lines[0] and "$PUBLISHER_SMTP_PASSWORD" in lines[0]
    assert "Traceback" not in result.output and server.received == []
    ledger = sending.root / "build/sent/newsletter-2018-06.jsonl"
    assert not ledger.exists() or ledger.read_bytes() == b""
    monkeypatch.setenv("PUBLISHER_SMTP_PASSWORD", PASSWORD)
    assert _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                "--as-of", AFTER.isoformat()).exit_code == 0
    assert server.count() == EVERYONE_ONCE


def test_no_password_in_the_environment_is_said_before_connecting(sending, server,
                                                                  monkeypatch):
    monkeypatch.delenv("PUBLISHER_SMTP_PASSWORD")
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 1
    assert "smtp.user is set but $PUBLISHER_SMTP_PASSWORD is empty" in result.output


def test_an_unreachable_server_or_an_untrusted_certificate_stops_everything(sending, server,
                                                                            monkeypatch):
    site = sending.root / "sources/site.yaml"
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace(f"port: {server.port}", f"port: {_free_port()}"))
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 1 and "cannot reach the mail server" in result.output
    assert "nothing was sent" in result.output
    site.write_text(text)
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", str(sending.root))  # no CA that knows the server
    result = _cli("send", "newsletter", "2018-06", "--project", str(sending.root),
                  "--as-of", AFTER.isoformat())
    assert result.exit_code == 1 and "its certificate cannot be trusted" in result.output
    assert server.received == []


def test_an_embargoed_release_goes_only_to_embargo_ok_and_public_refuses_it(sending, server):
    _embargo(sending)
    before = "2018-06-15T06:00:00+00:00"
    refused = _cli("send", "release", SAMPLE_STEM, "--public", "--project", str(sending.root),
                   "--as-of", before)
    assert refused.exit_code == 1
    assert "under embargo until 2018-06-15T10:00:00+02:00; --public" in refused.output
    assert server.received == []

    result = _cli("send", "release", SAMPLE_STEM, "--project", str(sending.root),
                  "--as-of", before)
    assert result.exit_code == 0, result.output
    assert "5 recipients: 2 sent, 3 held until the embargo lifts" in result.output
    received = server.messages()
    assert {to[0] for to, _ in received} == EMBARGO_OK
    for (address,), message in received:
        first = message.get_body(("plain",)).get_content().splitlines()[0]
        marked = {"fr": "SOUS EMBARGO JUSQU\u2019AU 15 juin 2018, 10:00 (UTC+02:00)",
                  "en": "EMBARGOED UNTIL June 15, 2018, 10:00\u202fAM (GMT+02:00)"}
        lang = message["Content-Language"]
        assert lang == PEOPLE[address][0]
        assert first == marked[lang]
        assert message["Subject"].startswith(marked[lang].split(" ")[0])
        [pdf] = list(message.iter_attachments())
        assert pdf.get_filename() == f"{SAMPLE_STEM}.{lang}.pdf"

    # once it lifts, the others get it; those who had the embargoed one are not
    # sent the new version unless asked
    lifted = _cli("send", "release", SAMPLE_STEM, "--public", "--project",
                  str(sending.root), "--as-of", AFTER.isoformat())
    assert lifted.exit_code == 0, lifted.output
    assert "3 sent, 2 has an earlier version" in lifted.output
    assert server.count() == EVERYONE_ONCE
    resent = _cli("send", "release", SAMPLE_STEM, "--resend", "--project",
                  str(sending.root), "--as-of", AFTER.isoformat())
    assert "2 sent, 3 already sent" in resent.output
    assert server.count() == Counter({a: 2 if a in EMBARGO_OK else 1 for a in PEOPLE})


def test_dry_run_writes_each_message_and_says_who_gets_what(sending, server):
    result = _cli("send", "newsletter", "2018-06", "--dry-run", "--project",
                  str(sending.root), "--as-of", AFTER.isoformat())
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("would send")]
    assert sorted(lines) == sorted(f"would send {a} ({lang}): {subject}"
                                   for a, (lang, subject) in PEOPLE.items())
    outbox = sending.root / "build/outbox/newsletter-2018-06"
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 5
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        address = message["To"].addresses[0].addr_spec
        assert message["Subject"] == PEOPLE[address][1]
    assert server.received == [] and not (sending.root / "build/sent").exists()


def test_list_sends_only_to_that_beat(sending, server):
    result = _cli("send", "newsletter", "2018-06", "--list", "science", "--project",
                  str(sending.root), "--as-of", AFTER.isoformat())
    assert result.exit_code == 0, result.output
    assert set(server.count()) == {"claire.martin@example.org", "jonas.becker@example.org"}
    nobody = _cli("send", "newsletter", "2018-06", "--list", "sport", "--project",
                  str(sending.root), "--as-of", AFTER.isoformat())
    assert nobody.exit_code == 2 and "nobody is on the list 'sport'" in nobody.output


def test_the_rate_limit_spaces_the_messages(sending, server):
    site = sending.root / "sources/site.yaml"
    site.write_text(site.read_text(encoding="utf-8").replace("per_minute: 6000",
                                                             "per_minute: 300"))
    from publisher.sending.send import send

    report = send(sending.root, "newsletter", "2018-06", as_of=AFTER)
    assert report.ok and report.count("sent") == 5
    gaps = [b - a for a, b in zip(server.times, server.times[1:], strict=False)]
    # 300 a minute: one each 0.2 s, give or take the time one message takes to go
    assert len(gaps) == 4 and sum(gaps) >= 0.75 and min(gaps) >= 0.1, gaps
