"""The e-mail editions in a real browser (Debian's Chromium through Selenium and
chromium-driver): readable on a phone and at full width, every image shown, in
light and dark mode."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLE_STEM

WIDTHS = (320, 375, 600, 800)


def _as_page(eml, folder) -> str:
    """A message's HTML part with its cid: images inlined, as a client shows it."""
    from publisher.mail import browsable

    page = folder / (eml.stem + ".html")
    page.write_text(browsable(eml.read_bytes()), encoding="utf-8")
    return page.as_uri()


@pytest.fixture(scope="module")
def pages(sample_build, tmp_path_factory):
    project, _ = sample_build
    folder = tmp_path_factory.mktemp("email-pages")
    build = project.root / "build"
    found = {f"newsletter.{lang}": (build / f"newsletters/2018-06.{lang}.html").as_uri()
             for lang in ("fr", "en", "ru")}
    found["release.fr"] = _as_page(build / f"releases/{SAMPLE_STEM}.fr.eml", folder)
    found["kit.ru"] = _as_page(build / "kits/cnes-roscosmos-2018.ru.eml", folder)
    return found


def _show(driver, url: str, width: int, dark: bool = False) -> dict:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
    driver.get(url)
    return driver.execute_script("""
        const images = [...document.images];
        const sheet = document.querySelector('table.sheet') || document.body;
        const visible = [...document.querySelectorAll('p, h1, h2, h3, td, li, a')]
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0);
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          sheetWidth: sheet.getBoundingClientRect().width,
          rightmost: Math.max(...visible.map(e => e.getBoundingClientRect().right)),
          images: images.map(i => [i.currentSrc.slice(0, 30), i.complete, i.naturalWidth,
                                   i.alt]),
          background: getComputedStyle(sheet).backgroundColor,
          text: getComputedStyle(document.querySelector('h1, h2')).color,
        };""")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["newsletter.fr", "newsletter.en", "newsletter.ru",
                                  "release.fr", "kit.ru"])
def test_no_horizontal_scroll_and_every_image_shown(browser, pages, name, width):
    seen = _show(browser, pages[name], width)
    assert seen["innerWidth"] == width
    assert seen["scrollWidth"] <= seen["innerWidth"], seen
    assert seen["rightmost"] <= width + 0.5, seen
    assert seen["sheetWidth"] <= min(width, 600) + 0.5  # fluid up to 600 px
    assert seen["images"], "no image at all"
    for src, complete, natural, alt in seen["images"]:
        assert complete and natural > 0, (src, natural)
        assert alt is not None


@pytest.mark.parametrize("dark", [False, True])
def test_light_and_dark_mode_keep_text_readable(browser, pages, dark):
    seen = _show(browser, pages["newsletter.fr"], 600, dark=dark)

    def luminance(css: str) -> float:
        red, green, blue = (int(v) for v in re.findall(r"\d+", css)[:3])
        return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255

    background, text = luminance(seen["background"]), luminance(seen["text"])
    if dark:
        assert background < 0.3 and text > 0.6, seen
    else:
        assert background > 0.9 and text < 0.4, seen
    assert all(complete and natural > 0 for _, complete, natural, _ in seen["images"])
