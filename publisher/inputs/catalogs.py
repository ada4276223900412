"""Layout strings through gettext catalogs.

Catalogs are ``.po`` files beside the layouts
(``layouts/locale/<lang>/LC_MESSAGES/messages.po``), extracted from the Jinja2
templates with Babel's extractor (``publisher catalogs``) and compiled in
memory at build time: no ``.mo`` file is kept.  The project's catalogs are
merged over the built-in ones.  A string missing from a language's catalog
falls back to English and is reported.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

DOMAIN = "messages"


@dataclass
class Catalog:
    """Translations for one language, with a record of what was missing."""

    lang: str
    messages: dict[str, str | tuple[str, ...]]
    fallback: dict[str, str | tuple[str, ...]]
    files: list[Path]
    missing: set[str] = field(default_factory=set)
    plural: str = "(n != 1)"  # the catalog's Plural-Forms expression (C syntax)

    def gettext(self, message: str) -> str:
        translated = self.messages.get(message)
        if isinstance(translated, tuple):
            translated = translated[0]
        if translated:
            return translated
        self.missing.add(message)
        fallback = self.fallback.get(message)
        return (fallback[0] if isinstance(fallback, tuple) else fallback) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``singular`` for ``n``, by the language's plural rule."""
        import gettext

        forms = self.messages.get(singular)
        if isinstance(forms, tuple) and all(forms):
            index = gettext.c2py(self.plural)(n)
            if index < len(forms):
                return forms[index]
        self.missing.add(singular)
        english = self.fallback.get(singular)
        if isinstance(english, tuple) and len(english) == 2 and all(english):
            return english[0 if n == 1 else 1]
        return singular if n == 1 else plural


def catalog_files(layout_dirs: list[Path], lang: str) -> list[Path]:
    """The .po files for ``lang`` (or its base language), lowest priority first."""
    base = lang.split("_")[0]
    found = []
    for folder in reversed(layout_dirs):
        for code in dict.fromkeys((base, lang)):
            path = folder / "locale" / code / "LC_MESSAGES" / f"{DOMAIN}.po"
            if path.is_file():
                found.append(path)
    return found


def read_messages(path: Path) -> dict[str, str | tuple[str, ...]]:
    """A catalog's translations; a plural message gives all its forms."""
    return _read(path)[0]


def _read(path: Path) -> tuple[dict, str | None]:
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if message.id and message.string and not message.fuzzy:
            key = message.id if isinstance(message.id, str) else message.id[0]
            value = message.string if isinstance(message.string, str) else tuple(
                message.string)
            messages[key] = value
    plural = catalog.plural_expr if "Plural-Forms" in str(catalog.mime_headers) else None
    return messages, plural


def load_catalog(layout_dirs: list[Path], lang: str, fallback_lang: str = "en") -> Catalog:
    files = catalog_files(layout_dirs, lang)
    messages: dict[str, str | tuple[str, ...]] = {}
    plural = None
    for path in files:
        found, expression = _read(path)
        messages.update(found)
        plural = expression or plural
    fallback: dict[str, str | tuple[str, ...]] = {}
    for path in catalog_files(layout_dirs, fallback_lang):
        fallback.update(read_messages(path))
    return Catalog(lang, messages, fallback, files, plural=plural or "(n != 1)")


def languages(layout_dirs: list[Path]) -> list[str]:
    """Languages that have a catalog."""
    codes = set()
    for folder in layout_dirs:
        for path in (folder / "locale").glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
            codes.add(path.parent.parent.name)
    return sorted(codes)


def extract(layout_dir: Path) -> list[tuple[str, int, str]]:
    """(file, line, message) for every translatable string in the templates."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**.html", "jinja2"), ("**.txt", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    found = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(layout_dir), method_map=method_map, options_map=options
    ):
        found.append((filename, lineno, message if isinstance(message, str) else message[0]))
    return found


def header(lang: str) -> str:
    """A catalog's header: its language and the plural forms gettext declares for it
    (no dates, so that a catalog changes only when its messages do)."""
    from babel.messages.catalog import Catalog as BabelCatalog

    plural = BabelCatalog(locale=lang).plural_forms
    return ('msgid ""\nmsgstr ""\n'
            f'"Language: {lang}\\n"\n'
            '"MIME-Version: 1.0\\n"\n'
            '"Content-Type: text/plain; charset=utf-8\\n"\n'
            '"Content-Transfer-Encoding: 8bit\\n"\n'
            f'"Plural-Forms: {plural}\\n"\n\n')


def update(layout_dir: Path, langs: list[str]) -> dict[str, list[str]]:
    """Rewrite messages.pot and merge it into each language's .po.

    Returns, per language, the messages that still need a translation.  Raises
    :class:`~publisher.write.RefusedWrite` when a language's catalog would land
    outside ``layout_dir/locale`` (a code that is a path).
    """
    from babel.messages.catalog import Catalog as BabelCatalog
    from babel.messages.pofile import read_po, write_po

    from ..write import WritePolicy

    writes = WritePolicy([layout_dir / "locale"], layout_dir.parent)
    paths = {lang: writes.check(layout_dir / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po")
             for lang in langs}  # every one checked before anything is written
    template = BabelCatalog(project="publisher layouts", fuzzy=False)
    for filename, lineno, message in extract(layout_dir):
        template.add(message, locations=[(filename, lineno)])
    buffer = io.BytesIO()
    write_po(buffer, template, omit_header=True, sort_output=True)
    writes.write(layout_dir / "locale" / f"{DOMAIN}.pot", buffer.getvalue())
    untranslated = {}
    for lang in langs:
        path = paths[lang]
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
        else:
            catalog = BabelCatalog(locale=lang, fuzzy=False)
        wanted = template
        parent = layout_dir / "locale" / lang.split("_")[0] / "LC_MESSAGES" / f"{DOMAIN}.po"
        if "_" in lang and parent.is_file() and path.exists():
            # a regional catalog (pt_BR) keeps only what the region writes
            # otherwise; the rest comes from its language's catalog
            own = {m.id for m in catalog if m.id}
            wanted = BabelCatalog(project="publisher layouts", fuzzy=False)
            for entry in template:
                if entry.id in own:
                    wanted.add(entry.id, locations=entry.locations, flags=entry.flags)
        catalog.update(wanted, no_fuzzy_matching=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog, omit_header=True, sort_output=True,
                 ignore_obsolete=True, include_previous=False)
        writes.write(path, header(lang).encode("utf-8") + buffer.getvalue())
        untranslated[lang] = [m.id if isinstance(m.id, str) else m.id[0]
                              for m in catalog if m.id and not m.string]
    return untranslated
