"""Shared fixtures: a pinned environment and throw-away copies of the sample project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_STEM = "2018-06-15-cnes-roscosmos"
EPOCH = "1529020800"  # 2018-06-15T00:00:00Z

# Pinned before any test runs: time zone, locale, reproducible timestamps.
os.environ["TZ"] = "UTC"
os.environ["LC_ALL"] = "C.UTF-8"
os.environ["SOURCE_DATE_EPOCH"] = EPOCH
time.tzset()


class ProjectDir:
    """A copy of the sample project's sources in a temporary folder."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def release(self, lang: str = "fr") -> Path:
        return self.root / "sources/releases/2018" / f"{SAMPLE_STEM}.{lang}.md"

    def pdf(self, stem: str) -> Path:
        return self.root / "build/releases" / f"{stem}.pdf"

    def build(self, *paths, **kwargs):
        from publisher.pipeline import build

        return build(self.root, list(paths) or None, **kwargs)


@pytest.fixture
def project(tmp_path) -> ProjectDir:
    """The sample project's sources; layouts and fonts come from the toolkit."""
    shutil.copytree(REPO / "sources", tmp_path / "sources")
    return ProjectDir(tmp_path)


def french_only(project: ProjectDir) -> ProjectDir:
    for lang in ("en", "ru"):
        project.release(lang).unlink()
    kit = project.root / "sources/kits/cnes-roscosmos-2018.yaml"
    kit.write_text(kit.read_text(encoding="utf-8").replace("lang: [fr, en, ru]", "lang: fr"),
                   encoding="utf-8")
    return project


@pytest.fixture
def only_fr(project) -> ProjectDir:
    """The sample project in French only (the release, its kit, its newsletter)."""
    return french_only(project)


@pytest.fixture(scope="session")
def _checked_fr(tmp_path_factory) -> Path:
    """The French-only sample, checked once: its cache holds every check render."""
    from publisher.gate import check

    root = tmp_path_factory.mktemp("checked-fr")
    shutil.copytree(REPO / "sources", root / "sources")
    french_only(ProjectDir(root))
    assert check(root, langs=["fr"]).ok
    return root


@pytest.fixture
def checked_fr(_checked_fr, tmp_path) -> ProjectDir:
    """A copy of the French-only sample whose cache already holds its check:
    a test's change re-renders only what it affects."""
    shutil.copytree(_checked_fr, tmp_path / "p")
    return ProjectDir(tmp_path / "p")


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """The sample project built once for the whole session."""
    from publisher.pipeline import build

    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "sources", root / "sources")
    result = build(root)
    return ProjectDir(root), result


def release_text(**front) -> str:
    """A minimal valid release source with the given front matter overrides."""
    body = front.pop("body", "Premier paragraphe du communiqué.\n")
    fields = {"title": "Titre", "date": "2018-06-20", **front}
    lines = ["---"]
    for key, value in fields.items():
        if value is not None:
            lines.append(f"{key}: {value}")
    lines += ["---", "", body]
    return "\n".join(lines)


def build_from_nothing(root: Path, *paths: Path, profile: str | None = None,
                       env: dict | None = None) -> None:
    """Build ``root`` in a fresh process with its build folder and cache removed."""
    shutil.rmtree(root / "build", ignore_errors=True)
    targets = [str(p) for p in paths] or None
    code = (f"from publisher.pipeline import build; "
            f"result = build({str(root)!r}, {targets!r}, jobs=1, profile={profile!r}); "
            f"assert result.ok, [str(p) for p in result.errors]")
    subprocess.run([sys.executable, "-c", code], check=True,
                   env=dict(os.environ) if env is None else env, timeout=300)


def _executable(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"none of {', '.join(names)} is installed: run `make system-test` "
                       "(Debian: apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven through chromium-driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _executable("chromium", "chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=_executable("chromedriver")))
    yield driver
    driver.quit()
