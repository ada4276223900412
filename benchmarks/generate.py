"""A synthetic project: N releases in L languages over six months, 4 kits, newsletters.

    python benchmarks/generate.py DIR --releases 200 --langs en fr
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("satellite orbit launch mission agency science climate data partner industry "
         "engine payload ground station observation ocean instrument spectrometer").split()


def paragraph(seed: int, words: int = 70) -> str:
    text = " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words))
    return text[0].upper() + text[1:] + "."


def generate(target: Path, releases: int, langs: list[str], months: int = 6,
             kits: int = 4) -> Path:
    """Write the project into ``target`` (replacing it) and return it."""
    if target.exists():
        shutil.rmtree(target)
    (target / "sources/releases").mkdir(parents=True)
    shutil.copy(ROOT / "sources/site.yaml", target / "sources/site.yaml")
    shutil.copy(ROOT / "sources/contacts.yaml", target / "sources/contacts.yaml")
    shutil.copytree(ROOT / "sources/images", target / "sources/images")
    start = dt.date(2025, 1, 1)
    ids = []
    for n in range(releases):
        month = n * months // releases
        day = start.replace(month=1 + month) + dt.timedelta(days=n % 27)
        rid = f"{day.isoformat()}-synthetic-{n:04d}"
        ids.append(rid)
        for lang in langs:
            figures = (f"figures:\n  - {{label: Budget, value: {1000 * n}, unit: EUR}}\n"
                       if n % 5 == 0 else "")
            (target / "sources/releases" / f"{rid}.{lang}.md").write_text(
                f"---\ntitle: Release number {n} about {WORDS[n % len(WORDS)]}\n"
                f"subtitle: A synthetic release for the benchmark\ndate: {day.isoformat()}\n"
                f"dateline: Paris\ncontacts: [pascale-bresson, raphael-sart]\n"
                f"tags: [{WORDS[n % 4]}]\n{figures}---\n\n"
                + "\n\n".join(paragraph(n + k) for k in range(4)) + "\n", encoding="utf-8")
    folder = target / "sources/kits"
    folder.mkdir()
    for k in range(kits):
        chosen = ids[k::max(1, len(ids) // 8)][:8]
        (folder / f"kit-{k}.yaml").write_text(
            f"title: Kit {k}\nlang: [{', '.join(langs[:1])}]\ndate: 2025-06-30\n"
            f"releases: [{', '.join(chosen)}]\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--langs", nargs="+", default=["en", "fr"])
    arguments = parser.parse_args()
    print(generate(arguments.target, arguments.releases, arguments.langs))
