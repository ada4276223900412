"""Hostile requests against `publisher serve`: other hosts' names (DNS rebinding),
half-sent requests by the thousand, absurd page numbers, output names that are
not URL-safe, and a server listening beyond this machine with embargoed
material in its build."""

from __future__ import annotations

import json
import re
import resource
import socket
import time
from urllib.parse import quote

import pytest
from conftest import french_only
from serving import free_port, get, start, stop

FUTURE = "2099-01-01T09:00:00+01:00"


@pytest.fixture
def served(project):
    french_only(project)
    port = free_port()
    process = start(project.root, port)
    yield project, port
    if process.poll() is None:
        stop(process)


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example",
                                  "127.0.0.1.evil.example", "evil.example:80", ""])
def test_a_request_for_another_host_is_refused(served, host):
    project, port = served
    headers: dict = {}
    status, body = get(port, "/file/releases/2018-06-15-cnes-roscosmos.fr.pdf", host,
                       headers=headers)
    assert status == 403 and b"%PDF" not in body
    assert "default-src 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:8000"])
def test_the_server_s_own_names_are_answered_with_a_strict_policy(served, host):
    project, port = served
    headers: dict = {}
    assert get(port, "/", host, headers=headers)[0] == 200
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    mail: dict = {}
    assert get(port, "/email/kits/cnes-roscosmos-2018.fr.eml", host, headers=mail)[0] == 200
    assert "script-src" not in mail["content-security-policy"]  # no script, ever


def test_many_half_sent_requests_do_not_hold_up_a_real_one(project):
    french_only(project)
    port = free_port()
    server = start(project.root, port, files=1024)  # as many open files as is common
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    idle = []
    try:
        for _ in range(1500):  # more than the server may hold open
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            idle.append(connection)
        started = time.monotonic()
        status, _body = get(port, "/")
        waited = time.monotonic() - started
    finally:
        for connection in idle:
            connection.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        stop(server)
    assert status == 200 and waited < 3, waited


def test_a_page_number_of_five_thousand_digits_is_not_found(served):
    project, port = served
    manifest = json.loads(project.read("build/manifest.json"))["outputs"]
    sha = manifest[0]["sha256"]
    assert get(port, f"/page/{sha}/{'9' * 5000}.png")[0] == 404
    assert get(port, f"/page/{sha}/-1.png")[0] == 404


def test_outputs_whose_names_are_not_url_safe_are_linked_and_served(project):
    french_only(project)
    source = project.release("fr")
    odd = source.with_name("2018-06-15-cnes#roscosmos?v=2 & co.fr.md")
    source.rename(odd)
    kit = project.root / "sources/kits/cnes-roscosmos-2018.yaml"
    kit.write_text(kit.read_text(encoding="utf-8").replace(
        "2018-06-15-cnes-roscosmos", "'2018-06-15-cnes#roscosmos?v=2 & co'"), encoding="utf-8")
    port = free_port()
    process = start(project.root, port)
    try:
        status, index = get(port, "/")
        assert status == 200
        links = re.findall(r'href="(/output/releases/[^"]+)"', index.decode())
        assert links == ["/output/releases/" + quote("2018-06-15-cnes#roscosmos?v=2 & co.fr.pdf")]
        status, page = get(port, links[0])
        assert status == 200, page[:300]
        downloads = re.findall(r'href="(/file/[^"]+\.pdf)"', page.decode())
        status, pdf = get(port, downloads[0].replace("&amp;", "&"))
        assert status == 200 and pdf.startswith(b"%PDF")
    finally:
        stop(process)


def test_beyond_this_machine_embargoed_outputs_are_withheld_unless_public_ok(project):
    french_only(project)
    source = project.release("fr")
    source.write_text(source.read_text(encoding="utf-8").replace(
        "\n---\n", f"\nembargo: {FUTURE}\n---\n", 1), encoding="utf-8")
    port = free_port()
    process = start(project.root, port, "--host", "0.0.0.0")
    try:
        assert "beyond this machine" in process.said and "--public-ok" in process.said
        status, index = get(port, "/")
        assert status == 200
        assert b"cnes-roscosmos" not in index  # neither the release nor its kit
        assert b"newsletters/2018-06.fr.pdf" not in index  # all it holds is embargoed
        for target in ("/file/releases/2018-06-15-cnes-roscosmos.fr.pdf",
                       "/file/kits/cnes-roscosmos-2018.fr.pdf",
                       "/output/releases/2018-06-15-cnes-roscosmos.fr.pdf",
                       "/email/releases/2018-06-15-cnes-roscosmos.fr.eml"):
            status, body = get(port, target)
            assert status == 404 and b"%PDF" not in body, target
        manifest = json.loads(project.read("build/manifest.json"))["outputs"]
        for entry in manifest:
            assert get(port, f"/page/{entry['sha256']}/1.png")[0] == 404
    finally:
        stop(process)
    port = free_port()
    process = start(project.root, port, "--host", "0.0.0.0", "--public-ok")
    try:
        status, index = get(port, "/")
        assert b"releases/2018-06-15-cnes-roscosmos.fr.pdf" in index
        assert get(port, "/file/releases/2018-06-15-cnes-roscosmos.fr.pdf")[0] == 200
    finally:
        stop(process)
