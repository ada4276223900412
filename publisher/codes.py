"""Every kind of problem the toolkit reports, by its stable code.

A :class:`~publisher.errors.Problem` carries one of these codes: a letter for
the area and three digits, as linters number their rules.  Code that decides
anything about a problem (whether a kit is made, what ``publisher check``
counts as a failure, which check a finding belongs to) asks its code, never its
wording; ``publisher check --ignore CODE`` and ``check: {ignore: [CODE]}``
silence one kind.  The README's table of problems is this one; a test keeps
them the same.
"""

from __future__ import annotations

AREAS = {
    "Y": "YAML files",
    "T": "text and characters",
    "F": "files the toolkit reads",
    "S": "settings and front matter (the schema)",
    "R": "release sources",
    "B": "release bodies",
    "C": "contacts",
    "L": "layouts and catalogs",
    "P": "rendering",
    "K": "kits and newsletters",
    "O": "outputs and the build folder",
    "M": "mail: press lists, sending",
    "G": "the gate (publisher check)",
    "U": "the command line",
}

# code → (what it means, how to fix it)
CODES: dict[str, tuple[str, str]] = {
    # --- YAML
    "Y001": ("a YAML file cannot be read", "fix the indentation, colons or quotes at the line"),
    "Y002": ("a YAML file goes past a limit (aliases, values once they are expanded, "
             "nesting, a number's length)", "make it smaller, or raise the limit it names"),
    "Y003": ("a key is given twice", "keep one of the two"),
    "Y004": ("a list or a mapping is used as a key", "use a word as the key"),
    # --- text
    "T001": ("a file is not UTF-8 text", "save it as UTF-8"),
    "T002": ("a control character (NUL, U+0005…) or a non-character", "remove it"),
    "T003": ("an invisible direction override or embedding (U+202A–U+202E)",
             "remove it: the direction of Arabic or Hebrew text comes from the language"),
    "T004": ("a character no shipped font has", "add a font that covers it to fonts/, or "
                                                 "remove it"),
    # --- files read
    "F001": ("a file may not be used: outside the project, not a regular file, too large, "
             "missing, or a network resource", "copy it into sources/ and refer to it by a "
                                               "relative path, or follow the sentence"),
    "F002": ("a file cannot be read", "check that it exists and can be read"),
    "F003": ("a required settings file is missing", "create it (see the sample project)"),
    # --- the schema
    "S001": ("an unknown key", "correct its spelling (the message suggests one) or remove it"),
    "S002": ("a required key is missing", "add it"),
    "S003": ("a value does not fit its key", "write it as the message says"),
    "S004": ("a settings file is not a mapping of what it lists", "write one entry per key"),
    # --- release sources
    "R001": ("a release source does not end in .md", "rename it NAME.LANG.md"),
    "R002": ("a release source has no front matter", "start it with ---, the keys, ---"),
    "R003": ("the front matter is too long", "shorten it or raise limits.front_matter_chars"),
    "R004": ("a source's language is unknown, missing, or disagrees with its file name",
             "give lang: or name the file NAME.LANG.md, the two the same"),
    "R005": ("an embargo in another language version holds this one too (warning)",
             "write the same embargo in every version"),
    "R006": ("an unknown contact id", "add the contact to sources/contacts.yaml or correct "
                                      "the id"),
    "R007": ("two sources make outputs whose names collide on other systems (case, accents)",
             "rename one of them"),
    "R008": ("a release names a layout that does not exist", "create layouts/NAME/ or name "
                                                             "an existing layout"),
    "R009": ("placeholder text is left (a warning for a build, an error for check)",
             "write the final text in its place"),
    # --- bodies
    "B001": ("a body goes past a limit (its length, a word, a link, a table cell, "
             "footnotes, nesting)", "shorten it or raise the limit it names"),
    "B002": ("a link leads somewhere a published document may not link to",
             "link to an http(s), mailto or tel address, or an #anchor"),
    "B003": ("an image has no alt text", "describe it: ![what it shows](file)"),
    "B004": ("an unknown language in {lang=…}", "use a code such as de, en or pt_BR"),
    # --- contacts
    "C001": ("a phone number is printed as written, without a link (warning)",
             "give the contact its country, or write the number in international form"),
    "C002": ("a contact has no role in the release's language (warning)",
             "add role: {LANG: …}"),
    # --- layouts
    "L001": ("a layout file or template is missing", "create it, or check the layout's name"),
    "L002": ("a template cannot be read (syntax) or failed", "fix the template at the line"),
    "L003": ("a template uses something undefined or not allowed in a layout",
             "use the values layouts are given (see Your own layouts)"),
    "L004": ("a layout string has no translation in a language (warning)",
             "translate it in layouts/locale/LANG/LC_MESSAGES/messages.po"),
    "L005": ("WeasyPrint ignored or does not support a CSS declaration (a warning for a "
             "build, an error for check)", "fix the stylesheet at the line"),
    "L006": ("a layout's page footers do not fit the release's pages", "draw only footers "
                                                                       "for part 'folios'"),
    # --- rendering
    "P001": ("WeasyPrint could not read the stylesheets or render the document",
             "fix what the message names; run with --debug for details"),
    "P002": ("laying out a document took longer than its limit",
             "shorten it or raise limits.render_seconds"),
    "P003": ("a resource a layout or a document asks for is refused",
             "copy it into the project, or list its host under allowed_hosts"),
    "P004": ("an image, stylesheet or font could not be used while rendering",
             "export it again (PNG, JPEG, SVG; OTF, TTF, WOFF)"),
    # --- kits and newsletters
    "K001": ("a release is left out of a kit or newsletter because it has errors (warning)",
             "fix the release's own problems"),
    "K002": ("a kit's release has no version in the kit's language (warning)",
             "add the translation or remove the language from the kit"),
    "K003": ("none of a kit's releases can be included in a language", "add translations or "
                                                                       "remove the language"),
    "K004": ("a kit names a release that does not exist, or selects none",
             "correct the id or the selector"),
    "K005": ("a kit's contents' page numbers did not settle (warning)", "check them"),
    "K006": ("a kit's cover or attachment cannot be used", "follow the sentence"),
    "K007": ("two kits whose names collide on other systems", "rename one of them"),
    # --- outputs
    "O001": ("an output could not be written (disk full, read-only, not writable)",
             "free space or make build/ writable"),
    "O002": ("a file would be written outside the folders a command writes to",
             "nothing was written; check the path and the links in build/"),
    "O003": ("an internal error: this output was not made", "report it with the output of "
                                                            "the same command run with --debug"),
    "O004": ("an isolated worker could not make the project again from the store (an object "
             "missing or damaged, a source changed during the build)", "build again"),
    # --- mail
    "M001": ("a press list is missing, unreadable or not UTF-8", "write sources/recipients."
                                                                 "yaml or a .csv beside it"),
    "M002": ("a row of the press list cannot be used (no address, a bad address, name or "
             "language, embargo_ok not true or false)", "fix the row; the others are sent to"),
    "M003": ("a row of the press list repeats an address, or an unknown field (warning)",
             "remove the repetition, or correct the field's name"),
    "M004": ("a CSV press list is damaged at a row (a NUL byte, broken quoting, a cell too "
             "long)", "export it again as UTF-8 CSV, or fix the row"),
    "M005": ("a line of a send ledger is not a record publisher send writes (warning)",
             "check the line; the recipient it names waits for --resend"),
    "M006": ("the mail settings are missing or unsafe (email.from, smtp, the password)",
             "add them to site.yaml; the password in the environment"),
    "M007": ("the mail server cannot be used: unreachable, refusing, too slow",
             "check smtp: in site.yaml, or send again later; what was sent is skipped"),
    "M008": ("nothing is sent: the build failed, the embargo holds (--public), or another "
             "send of it runs", "follow the sentence"),
    # --- the gate
    "G001": ("a document has more pages than site.yaml's page_limit", "shorten it"),
    "G002": ("a box overflows its page (text cut off)", "shorten the text or fix the layout"),
    "G003": ("an accessibility check failed (tags, alt text, fonts, language)",
             "fix what the message names"),
    "G004": ("a catalog lacks strings, has extra ones, or a language lacks a catalog",
             "run publisher catalogs, then translate"),
    "G005": ("a translation is stale, not translated yet, or names no original",
             "translate what changed, then update translated_from"),
    "G006": ("something is still under embargo (check --public)", "wait for the embargo, or "
                                                                   "check without --public"),
    "G007": ("a page differs from its baseline picture, or has none",
             "look at the difference; --update-baseline records the new page"),
    "G008": ("a translation still holds its original's text", "translate it"),
    "G009": ("a line ends with a word its language forbids at a line end (a Polish, Czech or "
             "Slovak one-letter word)", "join it to the next word with a no-break space; "
                                        "release text is joined for you, layout strings are not"),
    "G010": ("a table row is split across pages (warning: a row taller than a page must "
             "be)", "shorten its cells"),
    "G011": ("a table's label column breaks a word inside, without a hyphen",
             "let the column take its longest word"),
    "G012": ("a justified line is stretched beyond check.word_spacing normal spaces (4 by "
             "default; warning)", "reword the line, or set check.word_spacing"),
    # --- the command line
    "U001": ("an argument does not name what the project has (a kit, a release, a month, a "
             "language)", "use one of those the message lists"),
    "U002": ("an option's value cannot be used (a time in the future for a real send, a "
             "file that already exists, a port in use…)", "follow the sentence"),
}


# what publisher check fails on that a build only warns about: a CSS declaration
# WeasyPrint ignores, placeholder text left in a source
GATED = frozenset({"L005", "R009"})

# which check a finding belongs to, by its code (the others: "sources")
CHECK_OF = {"T004": "glyphs", "L001": "layouts", "L002": "layouts", "L003": "layouts",
            "L005": "layouts", "L006": "layouts", "L004": "catalogs", "G002": "overflow",
            "G009": "typesetting", "G010": "typesetting", "G011": "typesetting",
            "G012": "typesetting"}


def meaning(code: str) -> str:
    return CODES[code][0]


def table() -> str:
    """The README's table of problems, made from :data:`CODES`."""
    rows = ["| code | what it means | how to fix it |", "| --- | --- | --- |"]
    area = None
    for code, (what, fix) in CODES.items():
        if code[0] != area:
            area = code[0]
            rows.append(f"| **{area}** | *{AREAS[area]}* | |")
        rows.append(f"| `{code}` | {what} | {fix} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # make codes: the README's table, written again
    import re
    import sys
    from pathlib import Path

    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    text = readme.read_text(encoding="utf-8")
    made = re.sub(r"(<!-- codes -->\n).*?(<!-- /codes -->)",
                  lambda m: m[1] + table() + m[2], text, flags=re.S)
    readme.write_text(made, encoding="utf-8")
