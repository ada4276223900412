"""`publisher serve` as a process: what it serves over HTTP, what it refuses,
and that it stops cleanly and frees its port."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
from serving import free_port, get, start, stop


@pytest.fixture
def served(project):
    port = free_port()
    process = start(project.root, port)
    yield project, port
    if process.poll() is None:
        stop(process)


def test_the_index_lists_every_output_and_pages_are_images(served):
    project, port = served
    manifest = json.loads(project.read("build/manifest.json"))["outputs"]
    status, body = get(port, "/")
    assert status == 200
    page = body.decode()
    pdfs = [o for o in manifest if o["path"].endswith(".pdf")]
    assert len(pdfs) == 9
    for output in pdfs:
        assert f'href="/output/{output["path"]}"' in page, output["path"]
        assert f'href="/file/{output["path"]}"' in page
    for output in manifest:
        if output["path"].endswith(".eml"):
            assert f'href="/file/{output["path"]}"' in page, output["path"]
    kit = next(o for o in pdfs if o["path"] == "kits/cnes-roscosmos-2018.fr.pdf")
    status, body = get(port, "/output/" + kit["path"])
    assert status == 200 and "Coopération spatiale France-Russie" in body.decode()
    status, image = get(port, f"/page/{kit['sha256']}/{kit['pages']}.png?w=640")
    assert status == 200 and image.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(image[16:20], "big") == 640
    assert get(port, f"/page/{kit['sha256']}/{kit['pages'] + 1}.png")[0] == 404
    status, pdf = get(port, "/file/" + kit["path"])
    assert status == 200 and pdf == (project.root / "build" / kit["path"]).read_bytes()
    status, email = get(port, "/email/kits/cnes-roscosmos-2018.fr.eml")
    assert status == 200 and b"cid:" not in email and b"data:image/png;base64," in email


@pytest.mark.parametrize("target", [
    "/../../etc/passwd", "/file/../../../etc/passwd", "/file/..%2F..%2F..%2Fetc%2Fpasswd",
    "/file/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/file//etc/passwd", "/file/manifest.json",
    "/file/.cache", "/file/releases/../../sources/site.yaml", "/email/..%2f..%2fsources",
    "/assets/../serve.py", "/assets/..%2Fserve.py", "/output/%2Fetc%2Fpasswd",
    "/file/releases%2F..%2F..%2Fsources%2Fsite.yaml",
])
def test_nothing_outside_the_outputs_is_served(served, target):
    project, port = served
    status, body = get(port, target)
    assert status == 404, (target, body[:200])
    assert b"root:" not in body and b"default_lang" not in body


def test_a_symlink_in_the_build_folder_is_not_followed_out(served, tmp_path_factory):
    project, port = served
    secret = tmp_path_factory.mktemp("outside") / "secret.pdf"
    secret.write_bytes(b"%PDF-1.7 secret")
    link = project.root / "build/releases/2018-06-15-cnes-roscosmos.fr.pdf"
    link.unlink()
    link.symlink_to(secret)
    status, body = get(port, "/file/releases/2018-06-15-cnes-roscosmos.fr.pdf")
    assert status == 404 and b"secret" not in body


class _Events:
    """One browser's ``/events`` stream, read line by line with a deadline."""

    def __init__(self, port: int):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.socket.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Accept: text/event-stream\r\n\r\n")
        self.pending = b""

    def version(self, seconds: float = 60) -> int:
        """The next version the server announces."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = re.search(rb'data: (\{"version": \d+, "outputs": [^\n]*\})\n\n',
                              self.pending)
            if found:
                self.pending = self.pending[found.end():]
                return json.loads(found[1])["version"]
            self.socket.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = self.socket.recv(65536)
            if not chunk:
                break
            self.pending += chunk
        raise AssertionError(f"no version announced: {self.pending[-300:]!r}")

    def close(self) -> None:
        self.socket.close()


def test_several_browsers_at_once_are_each_told_of_a_rebuild(served):
    """Three open pages listen at once; the server still answers other requests,
    page images among them, and each listener hears of the rebuild a save makes."""
    project, port = served
    listeners = [_Events(port) for _ in range(3)]
    try:
        first = [listener.version() for listener in listeners]
        manifest = json.loads(project.read("build/manifest.json"))["outputs"]
        kit = next(o for o in manifest if o["path"] == "kits/cnes-roscosmos-2018.fr.pdf")
        answers: list[int] = []

        def ask(page: int) -> None:
            answers.append(get(port, f"/page/{kit['sha256']}/{page}.png?w=480")[0])

        askers = [threading.Thread(target=ask, args=(1 + n % kit["pages"],))
                  for n in range(4)]
        for asker in askers:
            asker.start()
        assert get(port, "/")[0] == 200
        for asker in askers:
            asker.join(60)
        assert answers == [200] * 4
        source = project.release("fr")
        source.write_text(source.read_text(encoding="utf-8") + "\nUne phrase de plus.\n",
                          encoding="utf-8")
        later = [listener.version() for listener in listeners]
        assert all(new > old for new, old in zip(later, first, strict=True)), (first, later)
    finally:
        for listener in listeners:
            listener.close()


def test_news_names_the_outputs_changed_since_a_version(tmp_path):
    """What a page is told: the outputs written since the version it has seen,
    or None (anything may have changed: a build started or ended, or more
    happened than is remembered)."""
    from publisher.serving import State

    state = State(tmp_path)
    with state.lock:
        state.changed()  # 1: a build starts
        state.changed("releases/a.fr.pdf")  # 2
        state.changed("releases/a.fr.eml")  # 3
        state.changed("releases/a.fr.pdf")  # 4: the same again
        assert state.news(1) == ["releases/a.fr.pdf", "releases/a.fr.eml"]
        assert state.news(3) == ["releases/a.fr.pdf"]
        assert state.news(0) is None and state.news(-1) is None
        for _ in range(state.recent.maxlen):
            state.changed("kits/k.fr.pdf")
        assert state.news(3) is None  # forgotten: anything
        assert state.news(state.version - 1) == ["kits/k.fr.pdf"]


def test_news_for_a_page_whose_server_has_stopped_is_dropped(tmp_path):
    """The build thread tells the open pages' streams of each change; a stream
    left by a server that has stopped (its loop closed) is dropped, and the
    build's news goes on."""
    import asyncio

    from publisher.serving import State

    state = State(tmp_path)
    gone, alive = asyncio.new_event_loop(), asyncio.new_event_loop()
    woken = asyncio.Event()
    state.listeners |= {(gone, asyncio.Event()), (alive, woken)}
    gone.close()
    try:
        with state.lock:
            state.changed("releases/a.fr.pdf")
        assert state.listeners == {(alive, woken)} and state.version == 1
        alive.run_until_complete(asyncio.wait_for(woken.wait(), 5))
    finally:
        alive.close()


def test_started_and_stopped_twice_on_the_same_port(project):
    port = free_port()
    for _ in range(2):
        process = start(project.root, port)
        assert get(port, "/")[0] == 200
        assert "stopped" in stop(process)
        with socket.socket() as probe:  # the port is free again
            probe.bind(("127.0.0.1", port))


def test_a_port_in_use_is_said_at_once(project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "publisher", "serve", "--project",
                                 str(project.root), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"127.0.0.1:{port}: cannot listen there" in result.stderr
    assert "Traceback" not in result.stderr


def test_page_images_and_a_build_use_pdfium_at_the_same_time(sample_build):
    """PDFium is not thread-safe; serve's page images (request threads) and a
    build's logo rasterised for the e-mails (the build thread) take turns."""
    import threading

    from publisher.mail import rasterise_svg
    from publisher.serving.state import _rasterise

    project, _ = sample_build
    logo = (project.root / "sources/images/cnes-mark.svg").read_bytes()
    kit = project.root / "build/kits/cnes-roscosmos-2018.fr.pdf"
    failures = []

    def logos():
        for _ in range(60):
            try:
                rasterise_svg(logo, 200)
            except Exception as exc:  # noqa: BLE001 (every failure is the finding)
                failures.append(repr(exc))

    def pages():
        for number in range(120):
            try:
                if _rasterise(kit, 1 + number % 5, 320) is None:
                    failures.append("a page that exists could not be drawn")
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))

    threads = [threading.Thread(target=f) for f in (logos, pages, pages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
