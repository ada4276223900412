"""`publisher serve` in a real browser (Debian's Chromium through Selenium and
chromium-driver): what a press officer sees beside the editor, and how it
follows the edits without a reload."""

from __future__ import annotations

import json
import re
import time

import pytest
from conftest import SAMPLE_STEM
from serving import free_port, start, stop

RELEASE = f"releases/{SAMPLE_STEM}.fr.pdf"
TITLE = "Coopération spatiale entre la France et la Russie"


@pytest.fixture
def served(project):
    port = free_port()
    process = start(project.root, port)
    yield project, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        stop(process)


def _size(driver, width: int, height: int = 900) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _images(driver) -> list[dict]:
    """Every image the page shows (lazy ones scrolled to), decoded or not; an
    image that is not displayed (the page strip on a phone) is left out."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
          const seen = [];
          const late = () => new Promise((resolve) => setTimeout(resolve, 5000));
          for (const image of document.images) {
            if (!image.getClientRects().length) continue;
            image.scrollIntoView({ block: "center" });
            try { await Promise.race([image.decode(), late()]); } catch (error) { }
            seen.push({ src: image.getAttribute("src"), natural: image.naturalWidth,
                        alt: image.alt });
          }
          window.scrollTo(0, 0);
          done(seen);
        })();""")


def _wait(driver, script: str, seconds: float):
    """The first truthy value of ``script`` within ``seconds``, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    return None


def _title(driver) -> str:
    """The page's title, read in one script: a rebuild may swap the page's content
    between finding an element and reading it."""
    return driver.execute_script("return document.getElementById('title').textContent.trim();")


def _overflow(driver) -> dict:
    return driver.execute_script(
        "return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth};")


def test_the_index_shows_every_output_with_its_first_page(browser, served):
    project, url = served
    _size(browser, 1280)
    browser.get(url + "/")
    manifest = json.loads(project.read("build/manifest.json"))["outputs"]
    pdfs = sorted(o["path"] for o in manifest if o["path"].endswith(".pdf"))
    shown = browser.execute_script(
        "return [...document.querySelectorAll('a.thumb')].map(a => a.dataset.output);")
    assert sorted(shown) == pdfs
    headings = browser.execute_script(
        "return [...document.querySelectorAll('section.kind h2')].map(h => h.textContent);")
    assert headings == ["Releases", "Press kits", "Newsletters"]
    images = _images(browser)
    assert len(images) == len(pdfs)
    for image in images:
        assert image["natural"] == 320, image  # decoded, at twice its 160 px
        assert image["alt"].startswith("Page 1 of ")
    assert _overflow(browser)["scroll"] <= 1280


def test_an_output_shows_its_pages_and_its_email(browser, served):
    project, url = served
    manifest = {o["path"]: o for o in json.loads(project.read("build/manifest.json"))["outputs"]}
    kit = manifest["kits/cnes-roscosmos-2018.fr.pdf"]
    _size(browser, 1280)
    browser.get(f"{url}/output/{kit['path']}")
    pages = [i for i in _images(browser) if i["src"].endswith("?w=800")]
    assert [int(re.search(r"/(\d+)\.png", i["src"])[1]) for i in pages] == \
        list(range(1, kit["pages"] + 1))
    assert all(i["natural"] > 0 and i["alt"] for i in pages)
    frames = browser.execute_script(
        "return [...document.querySelectorAll('iframe')].map(f => [f.width, "
        "f.contentDocument.documentElement.scrollWidth, "
        "[...f.contentDocument.images].every(i => i.complete && i.naturalWidth > 0)]);")
    assert [f[0] for f in frames] == ["375", "600"]
    for width, scroll, images_shown in frames:
        assert scroll <= int(width) and images_shown
    # j goes to the next page, k back
    body = browser.find_element("tag name", "body")
    body.send_keys("j")
    assert _wait(browser, "return location.hash === '#page-2'", 3)
    body.send_keys("k")
    assert _wait(browser, "return location.hash === '#page-1'", 3)


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("target", ["/", f"/output/{RELEASE}",
                                    "/output/kits/cnes-roscosmos-2018.fr.pdf"])
def test_no_horizontal_scroll_on_a_phone_or_a_desktop(browser, served, width, target):
    _, url = served
    _size(browser, width)
    browser.get(url + target)
    _images(browser)
    seen = _overflow(browser)
    assert seen["inner"] == width and seen["scroll"] <= width, seen


def test_a_title_edit_appears_in_the_open_page_without_a_reload(browser, served):
    project, url = served
    _size(browser, 1280)
    browser.get(f"{url}/output/{RELEASE}")
    assert _title(browser) == TITLE
    _images(browser)
    browser.execute_script("window.kept = 'this page'; window.scrollTo(0, 600);")
    source = project.release("fr")
    saved = time.monotonic()
    source.write_text(source.read_text(encoding="utf-8").replace(
        f'title: "{TITLE}"', 'title: "Un accord-cadre signé à Moscou"'), encoding="utf-8")
    seen = _wait(browser, "const t = document.getElementById('title');"
                          "return t && t.textContent.includes('Moscou') && t.textContent;", 5)
    assert seen == "Un accord-cadre signé à Moscou", f"not shown {time.monotonic() - saved:.1f} s"
    assert browser.execute_script("return window.kept") == "this page"  # not reloaded
    assert browser.execute_script("return window.scrollY") == 600
    # the new first page is drawn from the new PDF
    pages = [i for i in _images(browser) if i["src"].endswith("?w=800")]
    manifest = {o["path"]: o for o in json.loads(project.read("build/manifest.json"))["outputs"]}
    assert pages[0]["src"].startswith(f"/page/{manifest[RELEASE]['sha256']}/1.png")
    assert pages[0]["natural"] > 0


def test_a_broken_front_matter_shows_the_overlay_and_the_fix_removes_it(browser, served):
    project, url = served
    _size(browser, 1280)
    browser.get(f"{url}/output/{RELEASE}")
    assert not browser.find_elements("id", "overlay")
    source = project.release("fr")
    good = source.read_text(encoding="utf-8")
    source.write_text(good.replace("title:", "titel:", 1), encoding="utf-8")
    shown = _wait(browser, "const o = document.getElementById('overlay');"
                           "return o && o.textContent;", 30)
    assert shown, "no overlay"
    assert (f"sources/releases/2018/{SAMPLE_STEM}.fr.md:2:1: unknown front matter key "
            "'titel'; did you mean 'title'?") in shown
    # the last good pages stay beneath, and the page says which output failed
    assert _title(browser) == TITLE
    assert browser.find_elements("css selector", ".badge.status-failed")
    assert all(i["natural"] > 0 for i in _images(browser))
    source.write_text(good, encoding="utf-8")
    assert _wait(browser, "return !document.getElementById('overlay') && "
                          "document.querySelector('.badge.status-built')", 30), \
        "the overlay stayed after the fix"


@pytest.mark.parametrize("target", ["/../../etc/passwd", "/file/..%2F..%2F..%2Fetc%2Fpasswd",
                                    "/file/%2e%2e/%2e%2e/%2e%2e/etc/passwd"])
def test_paths_out_of_the_build_are_refused_in_the_browser(browser, served, target):
    _, url = served
    browser.get(url + target)
    text = browser.find_element("tag name", "body").text
    assert "root:" not in text
    assert "No such output" in text or "not found" in text
