"""A Typst twin of one kit of the synthetic project, for the edit → kit comparison.

The twin holds what the kit holds: the same text (cover, contents with dot
leaders and page numbers, each release with its masthead, dateline, title,
subtitle, body, key figures, about and contacts, then the contacts
appendix), the same fonts and logo, the footer "Page X of Y", and it is
tagged as PDF/UA-1.  Typst is a benchmark-only dependency (the ``bench``
extra).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _string(text) -> str:
    """A Typst string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _in(value, lang: str):
    return value.get(lang) or next(iter(value.values())) if isinstance(value, dict) else value


def _release(path: Path) -> tuple[dict, list[str]]:
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    return yaml.safe_load(front), paragraphs


def _contact(person: dict, lang: str) -> str:
    email = person.get("email", "")
    return (f'#text(font: "Inter", size: 9pt)[*#{_string(person["name"])}* #linebreak() '
            f'#{_string(_in(person.get("role", ""), lang))} #linebreak() '
            f'#{_string(person.get("phone", ""))} #linebreak() '
            f'#link({_string("mailto:" + email)})[#{_string(email)}]]')


def twin(project: Path, kit: str, target: Path) -> Path:
    """Write ``target`` (a .typ file, the logo beside it) for ``kit``; return it."""
    def read(name):
        return yaml.safe_load((project / "sources" / name).read_text(encoding="utf-8"))

    site, contacts, spec = read("site.yaml"), read("contacts.yaml"), read(f"kits/{kit}.yaml")
    lang = spec["lang"][0]
    (target.parent / "logo.svg").write_bytes((project / "sources" / site["logo"]).read_bytes())
    legal = _in(site.get("legal_name") or site["name"], lang)
    about = _in(site.get("about") or {}, lang) or {}
    out = [
        f'#set document(title: {_string(spec["title"])}, author: {_string(legal)})',
        f'#set text(lang: "{lang}", font: "Noto Serif", size: 10pt)',
        '#set par(justify: true, leading: 0.65em, spacing: 1.2em)',
        '#show heading: set text(font: "Inter", fill: rgb("#0b3a6e"))',
        '#set page(paper: "a4", margin: (top: 20mm, bottom: 24mm, left: 22mm, right: 20mm),',
        '  footer: context { set text(font: "Inter", size: 7.5pt, fill: rgb("#6b7280"))',
        f'    if here().page() > 1 [#{_string(legal)} #h(1fr) Page '
        '#counter(page).display() of #counter(page).final().first()] })',
        f'#image("logo.svg", width: 18mm, alt: {_string(site["name"])})',
        '#v(70mm)',
        f'#text(font: "Inter", size: 10pt)[#{_string(str(spec["date"]))}]',
        f'#text(font: "Inter", size: 28pt, weight: "bold")[#{_string(spec["title"])}]',
        '#pagebreak()',
        '#outline(title: "Contents", depth: 1)',
    ]
    people: dict[str, dict] = {}
    for rid in spec["releases"]:
        meta, paragraphs = _release(project / f"sources/releases/{rid}.{lang}.md")
        out += [
            '#pagebreak()',
            f'#grid(columns: (18mm, 1fr, auto), gutter: 4mm, '
            f'image("logo.svg", width: 14mm, alt: {_string(site["name"])}), '
            f'text(font: "Inter", weight: "bold")[#{_string(site["name"])}], '
            'text(font: "Inter", size: 8pt)[PRESS RELEASE])',
            f'#text(font: "Inter", size: 9pt)[#{_string(meta.get("dateline", ""))}, '
            f'#{_string(str(meta["date"]))}]',
            f'#heading(level: 1)[#{_string(meta["title"])}]',
            f'#text(font: "Inter", size: 13pt)[#{_string(meta.get("subtitle", ""))}]',
            *(f'#par[#{_string(p)}]' for p in paragraphs),
            *(f'#text(font: "Inter")[#{_string(f["label"])}: #{_string(f["value"])} '
              f'#{_string(f.get("unit", ""))}]' for f in meta.get("figures") or []),
            f'#heading(level: 2, outlined: false)[#{_string(about.get("title", "About"))}]',
            f'#par[#{_string(about.get("text", ""))}]',
            '#heading(level: 2, outlined: false)[Press contacts]',
        ]
        for cid in meta.get("contacts") or []:
            people[cid] = contacts[cid]
            out += [_contact(contacts[cid], lang), ""]  # a paragraph each
    out += ['#pagebreak()', '#heading(level: 1)[Press contacts]',
            *(f"{_contact(person, lang)}\n" for person in people.values())]
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def compile_twin(source: Path, output: Path) -> None:
    """Compile the twin as a fresh process would: fonts from fonts/, PDF/UA-1."""
    import typst

    typst.compile(str(source), output=str(output), root=str(source.parent),
                  font_paths=[str(ROOT / "fonts")], ignore_system_fonts=True,
                  pdf_standards="ua-1")
