"""The README's picture of `publisher serve`: a release's source as an editor
shows it, beside the page the server shows for it (Chromium, through Selenium).

    python docs/serve_screenshot.py docs/serve.png
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEM = "2018-06-15-cnes-roscosmos.fr"

PAGE = """<!doctype html><meta charset="utf-8">
<style>
  body {{ margin: 0; display: grid; grid-template-columns: 560px 1fr; height: 100vh;
          font: 14px/1.5 system-ui, sans-serif; }}
  .editor {{ background: #1f2430; color: #d8dee9; overflow: hidden; }}
  .editor header {{ padding: 10px 16px; background: #171b24; color: #9aa4b8; }}
  pre {{ margin: 0; padding: 12px 16px; font: 13px/1.55 "DejaVu Sans Mono", monospace;
         white-space: pre-wrap; overflow-wrap: anywhere; }}
  .n {{ display: inline-block; width: 2.2em; color: #5c677d; user-select: none; }}
  .key {{ color: #88c0d0; }}
  iframe {{ border: 0; width: 100%; height: 100%; }}
</style>
<div class="editor"><header>sources/releases/2018/{name}</header><pre>{lines}</pre></div>
<iframe src="{url}"></iframe>
"""


def editor_lines(source: Path, count: int = 24) -> str:
    shown = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines()[:count], 1):
        text = html.escape(line[:400] + ("…" if len(line) > 400 else ""))
        if ":" in line and not line.startswith(" ") and number < 10:
            key, rest = text.split(":", 1)
            text = f'<span class="key">{key}</span>:{rest}'
        shown.append(f'<span class="n">{number}</span>{text}')
    return "\n".join(shown)


def main(out: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "cnes-press"
        shutil.copytree(ROOT / "sources", project / "sources")
        server = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--project",
                                   str(project), "--port", "0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        url = None
        for line in server.stdout:
            if line.startswith("serving "):
                url = line.split()[1]
            if " rendered, " in line:
                break
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--hide-scrollbars", "--window-size=1500,940"):
            options.add_argument(argument)
        driver = webdriver.Chrome(options=options, service=Service(
            executable_path=shutil.which("chromedriver") or "chromedriver"))
        try:
            source = project / "sources/releases/2018" / f"{STEM}.md"
            page = Path(scratch) / "beside.html"
            page.write_text(PAGE.format(name=source.name, lines=editor_lines(source),
                                        url=f"{url}output/releases/{STEM}.pdf"),
                            encoding="utf-8")
            driver.get(page.as_uri())
            driver.switch_to.frame(0)
            driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "Promise.all([...document.querySelectorAll('.page img, .strip img')]"
                ".map(i => i.decode().catch(() => null))).then(done);")
            driver.switch_to.default_content()
            time.sleep(0.5)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/serve.png")
