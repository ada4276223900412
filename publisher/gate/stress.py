"""The gate's stress sources: a release (embargoed and public) and a kit in every
language, with what stretches a layout most (long titles and words, every
script, every front-matter field, many contacts, a wide table)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..inputs.catalogs import languages as catalog_languages
from ..inputs.layouts import layout_dirs
from ..inputs.resources import ResourcePolicy
from ..inputs.settings import KitSettings, Selection
from ..inputs.yamlfile import Located
from ..load import Kit, Project, load_release


def languages(loaded: Project, layout_dirs) -> list[str]:
    present = {r.lang for r in loaded.releases if r.lang}
    return sorted(present | set(catalog_languages(layout_dirs)))


def with_stress_sources(loaded: Project, scratch: Path, only) -> Project:
    """``loaded`` plus a stress release (two: embargoed and public) and a stress kit
    in every language; ``loaded`` itself is left as it is."""
    # one stress release under embargo (its notice in the release and kit layouts),
    # one without (newsletters leave embargoed releases out)
    dates = sorted(r.meta["date"] for r in loaded.releases if r.meta.get("date"))
    day = dates[-1] if dates else dt.date(2000, 1, 1)
    folder = scratch / "stress"
    policy = ResourcePolicy([folder])
    releases, kits = [], []
    for lang in only or languages(loaded, layout_dirs(loaded.root)):
        ids = []
        for variant, embargo in (("stress-test", True), ("stress-test-public", False)):
            path = folder / f"{day.isoformat()}-publisher-{variant}.{lang}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(stress_source(lang, day, loaded, embargo), encoding="utf-8")
            stress = load_release(path, loaded.root, policy)
            stress.file = f"(stress release{'' if embargo else ', public'}, {lang})"
            releases.append(stress)
            ids.append(stress.id)
        ids += sorted({r.id for r in loaded.releases if r.lang == lang and r.id not in ids})
        kit = Kit(path=path, file=f"(stress kit, {lang})", slug=f"stress-kit-{lang}",
                  located=Located({}, f"(stress kit, {lang})"))
        kit.meta = KitSettings(title={"*": "Stress test"}, subtitle={"*": stress_words()},
                               lang=(lang,), date=day, intro={"*": stress_paragraph()},
                               releases=Selection(ids=tuple(ids)))
        kits.append(kit)
    return loaded.with_sources(releases, kits)


LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen"


def stress_words() -> str:
    return ("Ἀρχιμήδης · Произведение · Ünïcödé · " + LONG_WORD)


def stress_paragraph() -> str:
    return ("Latin àéîõüçœæß, Greek Αλφάβητο καί ἀρχή, Cyrillic Щедрость, ёж и «кавычки». "
            "Every shipped script: [報道関係者各位、プレスリリースです。]{lang=ja} "
            "[新闻稿：卫星发射成功。]{lang=zh} [新聞稿：衛星發射成功。]{lang=zh_Hant} "
            "[보도자료: 위성 발사 성공.]{lang=ko} [بيان صحفي: نجاح إطلاق القمر 2022.]{lang=ar} "
            "[הודעה לעיתונות: השיגור הצליח.]{lang=he} "
            "A long address: https://www.example.org/a/very/long/path/that/does/not/break/"
            "easily/because/it/has/no/spaces/at/all/index.html and mail "
            "very.long.name.of.a.press.officer@communication.example.org.")


def stress_source(lang: str, day: dt.date, loaded, embargo: bool = True) -> str:
    """A release with every front-matter field, long words, every script, a wide table.

    The project's own contacts are in it for the languages the project publishes
    in (a role missing in another language is nobody's problem yet)."""
    published = {r.lang.split("_")[0] for r in loaded.releases if r.lang}
    contacts = list(loaded.contacts)[:4] if lang.split("_")[0] in published else []
    inline = [f'{{name: "Стресс Тестов {n}", role: "Press officer", '
              f'phone: "+33 1 44 76 75 {30 + n}", email: "stress{n}@example.org"}}'
              for n in range(6)]
    refs = ", ".join(contacts + inline)
    table = "| " + " | ".join(f"Column {n}" for n in range(9)) + " |\n"
    table += "|" + "---|" * 9 + "\n"
    table += "| " + " | ".join(f"{LONG_WORD[:12 + n]}" for n in range(9)) + " |\n"
    return f"""---
title: "{LONG_WORD} {LONG_WORD} — a very long title that goes on and on across lines"
subtitle: "{stress_words()}"
date: {day.isoformat()}
lang: "{lang}"
dateline: "Saint-Rémy-de-Provence"
contacts: [{refs}]
tags: [stress, layout]
{'embargo: "2099-01-01T10:00:00+02:00"' if embargo else ""}
figures:
  - {{label: "Budget", value: 1500000, unit: EUR}}
  - {{label: "Share", value: 12.5, unit: "%"}}
  - {{label: "Distance", value: 384400, unit: km}}
---

{stress_paragraph()}

## {stress_words()}

{table}
Footnote reference[^1] and `code with -- "quotes"`.

[^1]: {stress_paragraph()}
"""
