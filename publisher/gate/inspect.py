"""What the gate looks for in a rendered document and in the sources: pages past
the limit, boxes that overflow, lost accessibility, catalogs out of step with
the templates, stale or untranslated translations, what is under embargo."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

from ..errors import Problem, display_path
from ..inputs.catalogs import DOMAIN, extract, read_messages
from ..inputs.fonts import coverage, describe, uncovered
from ..inputs.resources import RefusedResource, ResourcePolicy
from ..pdf.weasy import page_box
from ..render import Rendered
from ..text.rules import HAN_KANA, rules_of


class Inspector:
    """Called after every render (in the worker that rendered it): overflow,
    words a language forbids at a line end, accessibility, page limit.  A kit
    or newsletter is inspected part by part for overflow and line ends
    (``target`` None), then whole for the rest."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.page_limit = loaded.site.page_limit
        self.word_spacing = loaded.site.word_spacing

    def __call__(self, target: Path | None, rendered: Rendered, file: str) -> list[Problem]:
        problems = []
        if rendered.document is not None:
            problems += overflow_problems(rendered.document, file)
            problems += line_end_problems(rendered.document, file)
            problems += table_problems(rendered.document, file)
            problems += stretched_lines(rendered.document, file, self.word_spacing)
        if target is None:
            return problems  # one part of a kit or newsletter: the whole is inspected later
        problems += accessibility_problems(rendered.pdf, file)
        if (self.page_limit and target.parent.name == "releases"
                and rendered.pages > int(self.page_limit)):
            located = self.loaded.site_located
            problems.append(Problem(file, None, f"page limit: {rendered.pages} pages, more "
                                    f"than the {int(self.page_limit)} that site.yaml's "
                                    "page_limit allows; shorten the release"
                                    + (f" (limit set at sources/site.yaml:"
                                       f"{located.line('page_limit')})" if located else ""),
                                           code="G001"))
        return problems


def _describe(box) -> str:
    element = getattr(box, "element", None)
    tag = getattr(box, "element_tag", None) or "box"
    classes = element.get("class") if element is not None else None
    name = f"<{tag}{' class=' + repr(classes) if classes else ''}>"
    text = ""
    if element is not None:
        text = " ".join("".join(element.itertext()).split())[:40]
    return f"{name} {text!r}" if text else name


def overflow_problems(document, file: str, tolerance: float = 1.0) -> list[Problem]:
    """Boxes whose content runs outside the page's content area or their own box."""
    from weasyprint.formatting_structure import boxes

    problems: list[Problem] = []
    for number, page in enumerate(document.pages, start=1):
        root_box = page_box(page)
        right = root_box.content_box_x() + root_box.width
        reported: set[int] = set()

        def report(block, past: float, what: str, number=number, reported=reported) -> None:
            key = id(getattr(block, "element", None) or block)
            if key not in reported:
                reported.add(key)
                problems.append(Problem(file, None, f"overflow on page {number}: "
                                        f"{_describe(block)} {what} by {past:.1f} mm; "
                                        "let it wrap (overflow-wrap: anywhere) or shorten it",
                                            code="G002"))

        def walk(box, limit: float, block, right=right) -> None:
            if isinstance(box, boxes.MarginBox):
                return
            if isinstance(box, boxes.TextBox):
                end = box.position_x + box.width
                if end > min(limit, right) + tolerance:
                    report(block, (end - min(limit, right)) * 25.4 / 96, "runs past its box")
                return
            if not isinstance(box, boxes.InlineLevelBox) and hasattr(box, "margin_width"):
                if box.style["position"] not in ("absolute", "fixed"):
                    end = box.position_x + box.margin_width()
                    if end > right + tolerance:
                        report(box, (end - right) * 25.4 / 96,
                               "runs past the page's content area")
                        return
                if getattr(box, "element", None) is not None:
                    block = box
                limit = box.content_box_x() + box.width
            for child in getattr(box, "children", None) or []:
                walk(child, limit, block)

        for child in root_box.children:
            walk(child, right, root_box)
    return problems


def _text_boxes(box):
    """The text boxes inside ``box``, in order."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        yield box
    for child in getattr(box, "children", None) or []:
        yield from _text_boxes(child)


def line_end_problems(document, file: str) -> list[Problem]:
    """Lines that end with a word their language forbids there (a Polish, Czech
    or Slovak one-letter word), each line once, with its page."""
    from weasyprint.formatting_structure import boxes

    problems: list[Problem] = []

    def line(box, number: int) -> None:
        parts = list(_text_boxes(box))
        words = "".join(part.text for part in parts).split()
        lang = str(parts[-1].style["lang"] or "").replace("-", "_") if parts else ""
        language = lang.split("_")[0].lower()
        if words and words[-1] in rules_of(language, lang).no_break_after:
            problems.append(Problem(file, None, f"page {number}: a line ends with the "
                                    f"one-letter word '{words[-1]}' (…{' '.join(words[-6:])}), "
                                    f"which {language} typography does not allow at a line "
                                    "end; join it to the next word with a no-break space",
                                    code="G009"))

    def walk(box, number: int) -> None:
        if isinstance(box, boxes.MarginBox):
            return
        children = getattr(box, "children", None) or []
        for index, child in enumerate(children):
            if isinstance(child, boxes.LineBox):
                # only a line that text goes on from: the last line of a block
                # (a table cell's "a") ends nothing
                if any(isinstance(c, boxes.LineBox) for c in children[index + 1:]):
                    line(child, number)
            else:
                walk(child, number)

    for number, page in enumerate(document.pages, start=1):
        walk(page_box(page), number)
    return problems


def stretched_lines(document, file: str, most: float) -> list[Problem]:
    """Justified lines whose word spacing is more than ``most`` normal spaces
    (taken as a quarter of the font size): a line of a few words across the
    measure.  One finding per page, with its worst line."""
    from weasyprint.formatting_structure import boxes

    worst: dict[int, tuple[float, str]] = {}

    def walk(box, number: int) -> None:
        if isinstance(box, boxes.MarginBox):
            return
        if isinstance(box, boxes.LineBox):
            parts = list(_text_boxes(box))
            extra = max((getattr(p, "justification_spacing", 0) or 0) for p in parts) \
                if parts else 0
            normal = 0.25 * float(parts[0].style["font_size"]) if parts else 0
            if normal and 1 + extra / normal > most and 1 + extra / normal > worst.get(
                    number, (0.0, ""))[0]:
                line = " ".join("".join(p.text for p in parts).split())
                worst[number] = (1 + extra / normal, line)
            return
        for child in getattr(box, "children", None) or []:
            walk(child, number)

    for number, page in enumerate(document.pages, start=1):
        walk(page_box(page), number)
    return [Problem(file, None, f"page {number}: a justified line is stretched to {ratio:.0f} "
                                f"times its word spacing ({line[:60]!r}); reword it, or set "
                                "check.word_spacing in site.yaml if the layout wants it",
                    severity="warning", code="G012")
            for number, (ratio, line) in sorted(worst.items())]


# scripts whose lines break between any two characters
_BETWEEN_CHARACTERS = re.compile(f"[{HAN_KANA}]")


def table_problems(document, file: str) -> list[Problem]:
    """Table rows split across pages, and words broken inside a label (a table's
    first column) without a hyphen: a column narrower than its longest word."""
    from weasyprint.formatting_structure import boxes

    problems: list[Problem] = []
    pages_of: dict[int, list[int]] = {}  # a row's element → the pages it is on
    rows: dict[int, object] = {}
    said: set[tuple[int, str]] = set()

    def text(box) -> str:
        return "".join(part.text for part in _text_boxes(box))

    def cell(box, number: int) -> None:
        lines = [text(child) for child in box.children if isinstance(child, boxes.LineBox)]
        element = getattr(box, "element", None)
        whole = " ".join("".join(element.itertext()).split()) if element is not None else ""
        for first, second in zip(lines, lines[1:], strict=False):
            head, tail = first.rstrip(), second.lstrip()
            if not (head and tail and head[-1].isalnum() and tail[0].isalnum()) or \
                    _BETWEEN_CHARACTERS.search(head[-1] + tail[0]):
                continue  # a break between words, or between Chinese or Japanese characters
            joined = head.split()[-1] + tail.split()[0]  # across the break: inside one word?
            word = next((w for w in whole.replace("\u200b", "").split() if joined in w), "")
            if word and (number, word) not in said:
                said.add((number, word))
                problems.append(Problem(file, None, f"page {number}: a table's label column "
                                        f"breaks '{word}' inside, without a hyphen; let the "
                                        "column take its longest word (no overflow-wrap: "
                                        "anywhere on the first column)", code="G011"))

    def walk(box, number: int) -> None:
        if isinstance(box, boxes.MarginBox):
            return
        if isinstance(box, boxes.TableRowGroupBox) and (box.is_header or box.is_footer):
            return  # repeated on every page the table runs to, as it should be
        if isinstance(box, boxes.TableRowBox) and getattr(box, "element", None) is not None:
            pages_of.setdefault(id(box.element), []).append(number)
            rows[id(box.element)] = box
        if isinstance(box, boxes.TableRowBox) and box.children:
            cell(box.children[0], number)  # the label column
        for child in getattr(box, "children", None) or []:
            walk(child, number)

    for number, page in enumerate(document.pages, start=1):
        walk(page_box(page), number)
    for key, pages in pages_of.items():
        if len(set(pages)) > 1:
            row = " ".join(text(rows[key]).split())[:50]
            problems.append(Problem(file, None, f"page {min(pages)}: a table row is split "
                                    f"across pages {min(pages)}–{max(pages)} ({row!r}); "
                                    "shorten its cells or give the table a page of its own",
                                    severity="warning", code="G010"))
    return problems


def accessibility_problems(pdf: bytes, file: str) -> list[Problem]:
    """What a screen reader or an archive needs, read back from the PDF."""
    import io

    import pikepdf

    problems = []

    def lost(what: str) -> None:
        problems.append(Problem(file, None, f"accessibility: {what}", code="G003"))

    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root
        xmp = root.Metadata.read_bytes() if "/Metadata" in root else b""
        if b"GTS_PDFXVersion" in xmp:
            return []  # the print edition is for the press, not for readers
        if "/StructTreeRoot" not in root:
            lost("the PDF has no structure tree (tags); keep the screen profile's pdf/ua-1")
        if not str(root.get("/Lang", "")):
            lost("the PDF has no /Lang; give <html> a lang attribute")
        if not str(document.docinfo.get("/Title", "")):
            lost("the PDF has no title; give the layout a <title>")
        preferences = root.get("/ViewerPreferences")
        if not (preferences is not None and bool(preferences.get("/DisplayDocTitle", False))):
            lost("the title is not shown as the window title (DisplayDocTitle)")
        for page_number, page in enumerate(document.pages, start=1):
            resources = page.obj.get("/Resources")
            fonts: Any = (resources.get("/Font") if resources is not None else None) or {}
            for _name, font in fonts.items():
                descriptor = font.get("/FontDescriptor")
                if descriptor is None and "/DescendantFonts" in font:
                    descriptor = font.DescendantFonts[0].get("/FontDescriptor")
                descriptor = descriptor if descriptor is not None else {}
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    lost(f"font {font.get('/BaseFont')} on page {page_number} is not embedded")
        if "/StructTreeRoot" in root:
            for alt in _figures(root.StructTreeRoot, set()):
                if not alt:
                    lost("an image has no alternative text; give every <img> an alt")
    for finding in pdfua_findings(pdf):
        lost(f"pdfua {finding}")
    return problems


# pdfua 0.1.3's UA-14-001 (empty headings) raises on a heading whose /K is an array
# (getattr(pikepdf.Array, "is_integer") raises ValueError, not AttributeError): it
# is not evaluated, and the project's own check of headings stands in for it
CHECKER_CRASHES = {"UA-14-001"}


def pdfua_findings(pdf: bytes) -> list[str]:
    """What the independent checker ``pdfua`` finds in a tagged PDF (its findings,
    and its rules that could not run, but for the crashes named above)."""
    import os

    from pdfua import validate

    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as handle:
        handle.write(pdf)
    try:
        report = validate(handle.name)
    finally:
        os.unlink(handle.name)
    found = [f"{f.rule_id}: {f.message}" for f in report.findings]
    found += [f"{o.rule_id} not evaluated: {o.skipped_reason}" for o in report.outcomes
              if o.skipped and o.rule_id not in CHECKER_CRASHES]
    return found


def _figures(node, seen: set):
    import pikepdf

    if not isinstance(node, pikepdf.Dictionary) or (node.is_indirect and node.objgen in seen):
        return
    if node.is_indirect:
        seen.add(node.objgen)
    if node.get("/S") == "/Figure":
        yield str(node.get("/Alt", "")).strip()
    kids = node.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        yield from _figures(kid, seen)


def catalog_problems(layout_dirs: list[Path], root: Path, fontset) -> list[Problem]:
    """Strings the templates use but a catalog lacks, and entries no template uses."""
    from babel.messages.pofile import read_po

    problems = []
    covered = coverage(fontset)
    used: dict[str, tuple[str, int]] = {}  # catalogs apply to the templates of every folder
    for folder in reversed(layout_dirs):
        for file, line, message in extract(folder):
            used.setdefault(message, (file, line))
    for folder in layout_dirs:
        for path in sorted((folder / "locale").glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            lang = path.parent.parent.name
            shown = display_path(path, root)
            with path.open("rb") as handle:
                catalog = read_po(handle)
            entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
            # a regional catalog (pt_BR) holds only what the region writes
            # otherwise: the rest comes from its language's (pt)
            parent = folder / "locale" / lang.split("_")[0] / "LC_MESSAGES" / f"{DOMAIN}.po"
            inherited = read_messages(parent) if "_" in lang and parent.is_file() else {}
            for message, (file, line) in sorted(used.items()):
                entry = entries.get(message)
                if (entry is None or not entry.string) and message in inherited:
                    continue
                if entry is None or not entry.string:
                    problems.append(Problem(
                        shown, entry.lineno if entry else None,
                        f"catalog: '{message}' (used in {file}:{line}) has no {lang} "
                        "translation; add its msgstr", code="G004"))
            for message, entry in sorted(entries.items()):
                if message not in used:
                    problems.append(Problem(
                        shown, entry.lineno, f"catalog: '{message}' is used by no template; "
                                             "remove it (publisher catalogs does)", code="G004"))
                elif entry.string:
                    text = entry.string if isinstance(entry.string, str) else entry.string[0]
                    missing = uncovered(text, covered)
                    if missing:
                        problems.append(Problem(shown, entry.lineno,
                                                f"no shipped font has {describe(missing)}",
                                                    code="T004"))
    return problems


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stale_translations(loaded) -> list[Problem]:
    problems = []
    for release in loaded.releases:
        origin = (release.meta or {}).get("translated_from")
        if not origin:
            continue
        original = release.path.parent / origin["file"]
        line = release.located.line("translated_from") if release.located else None
        try:
            ResourcePolicy([loaded.root]).check_path(original, "source", origin["file"])
        except RefusedResource as exc:
            problems.append(Problem(release.file, line, f"translated_from: {exc}", code="G005"))
            continue
        if not original.is_file():
            problems.append(Problem(release.file, line, f"translated_from: "
                                    f"'{origin['file']}' does not exist beside this file",
                                        code="G005"))
        elif _body(original) == release.body.strip():
            problems.append(Problem(release.file, release.body_line, "not translated yet: "
                                    f"the body is still {origin['file']}'s; translate it",
                                        code="G008"))
        elif content_hash(original) != origin["sha256"]:
            problems.append(Problem(release.file, line, f"stale translation: "
                                    f"{origin['file']} changed after this translation was made; "
                                    "update the translation, then its translated_from.sha256 "
                                    f"to {content_hash(original)}", code="G005"))
    return problems


# languages a statistical identifier tells apart poorly: one is not taken for the other
_CLOSE = [{"hr", "sr", "bs"}, {"da", "no", "nb", "nn"}, {"ms", "id"}, {"cs", "sk"},
          {"zh", "zh_hant"}]


_MARKUP = re.compile(r"\[\^?[^\]]*\]|\(\S*\)|https?://\S+|www\.\S+|\S+@\S+|[#*_>|`~]+"
                     r"|^\s*[-+]\s|\d+")


@functools.lru_cache(maxsize=1)
def _identifier():
    """py3langid's model (read-only; reading it takes a second or two, once)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_problems(loaded, skip: set[str]) -> list[Problem]:
    """Releases whose body is not written in the language they are labelled with
    (a translation left in its original's language, a French text named .en.md)."""
    problems = []
    for release in loaded.releases:
        if release.file in skip or not release.lang or not release.body:
            continue
        text = " ".join(_MARKUP.sub(" ", release.body[:4000]).split())
        if len(text.split()) < 40:
            continue  # too short to tell
        found, probability = _identifier().classify(text)
        labelled = release.lang.split("_")[0]
        if found == labelled or probability < 0.95 or any(
                {found, labelled} <= group for group in _CLOSE):
            continue
        from babel import Locale

        def name(code: str) -> str:
            try:
                return Locale.parse(code).get_display_name("en") or code
            except (ValueError, LookupError):
                return code

        leading = len(release.body) - len(release.body.lstrip("\n"))
        problems.append(Problem(
            release.file, release.body_line + leading,
            f"the body reads as {name(found)} ({found}), not {name(labelled)} as the file "
            f"says; translate it, or fix the file's language", code="G005"))
    return problems


def _body(path: Path) -> str | None:
    from ..load import split_front_matter

    split = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
    return split[1].strip() if split else None


def under_embargo(loaded, as_of: dt.datetime) -> list[Problem]:
    problems = []
    for release in loaded.releases:
        embargo = (release.meta or {}).get("embargo")
        if embargo and embargo > as_of:
            problems.append(Problem(
                release.file, release.located.line("embargo"),
                f"embargo: under embargo until {embargo.isoformat()}, later than "
                f"{as_of.isoformat()}; it must not be distributed yet", code="G006"))
    return problems
