"""Stage 3 — compose: a document's data merged into its Jinja2 layout.

Templates are looked up in the project's ``layouts/`` first, then in the
toolkit's, and run in Jinja2's sandbox: they get plain data (the localised
release, the site settings as a dict) and cannot reach files or Python
objects beyond it.  Autoescape is on and undefined variables are errors; a
template error is reported with the template file and line.  Layout strings
come from the language's gettext catalog; a string it lacks is reported with
the composed document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .defaults import DEFAULTS
from .errors import LayoutError, Problem, display_path
from .inputs.catalogs import Catalog, load_catalog
from .inputs.profiles import Profile
from .inputs.resources import RefusedResource, ResourcePolicy, link_problem
from .inputs.settings import Site
from .localise import Localised
from .pdf.join import PART_LINK
from .pdf.tagged import ARTIFACT, LANG
from .text.markdown import unjustifiable

_ANCHOR_HREF = re.compile(r"""<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                          re.I)
_LAYOUT_REF = re.compile(r"""["'](?:\.\./)?([A-Za-z0-9_-]+)/[^"'/]+\.(?:html|css|txt)["']""")


@dataclass
class Document:
    """What to compose: a template, its language and its context (plain data)."""

    template: str  # e.g. "release/release.html"
    lang: str
    context: dict


@dataclass
class Composed:
    html: str
    base_url: str  # folder of the template, for its stylesheet and images
    lang: str
    problems: list[Problem] = field(default_factory=list)  # catalog warnings


@dataclass(frozen=True)
class Page:
    """The page set-up every layout gets."""

    size: str
    profile: Profile
    logo_url: str | None
    font_faces: str  # @font-face rules of the shipped fonts


class TemplateCode:
    """Compiled layout templates, kept in memory between the builds of one watch
    session.  Jinja2 compares each with its template's source (a checksum) before
    using it, so an edited template is compiled again: reuse by content only.
    Never written to disk: compiled code read back from a project folder would
    run outside the sandbox."""

    def __init__(self):
        self.code: dict[str, bytes] = {}
        self._jinja = None

    def jinja(self):
        """This store as a ``jinja2.BytecodeCache``."""
        if self._jinja is None:
            import jinja2

            code = self.code

            class Kept(jinja2.BytecodeCache):
                def load_bytecode(self, bucket):
                    if bucket.key in code:
                        bucket.bytecode_from_string(code[bucket.key])

                def dump_bytecode(self, bucket):
                    code[bucket.key] = bucket.bytecode_to_string()

            self._jinja = Kept()
        return self._jinja


class Layouts:
    """The layout folders of one build: a sandboxed Jinja2 environment and the catalogs.

    A build owns one; nothing in it outlives the build.
    """

    def __init__(self, dirs: list[Path], policy: ResourcePolicy, *, root: Path,
                 fallback_lang: str = str(DEFAULTS["fallback_lang"]),
                 compiled: TemplateCode | None = None):
        self.dirs = dirs
        self.policy = policy
        self.root = root
        self.fallback_lang = fallback_lang
        self.compiled = compiled
        self._env = None
        self._catalogs: dict[str, Catalog] = {}

    @property
    def env(self):
        if self._env is None:
            import jinja2
            from jinja2.sandbox import SandboxedEnvironment

            policy = self.policy

            class Loader(jinja2.FileSystemLoader):
                """Templates read only inside the project or the toolkit's layouts."""

                def get_source(self, environment, template):
                    source, filename, uptodate = super().get_source(environment, template)
                    try:
                        policy.check_path(Path(filename), "settings")
                    except RefusedResource as exc:
                        raise jinja2.TemplateNotFound(f"{template} ({exc})") from None
                    return source, filename, uptodate

            self._env = SandboxedEnvironment(
                loader=Loader([str(d) for d in self.dirs]),
                # HTML is always escaped; plain-text editions (.txt) are not HTML
                autoescape=jinja2.select_autoescape(disabled_extensions=("txt",),
                                                    default=True),
                undefined=jinja2.StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                bytecode_cache=self.compiled.jinja() if self.compiled else None,
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            self._env.filters["counter_content"] = counter_content
            self._env.filters["css_string"] = css_string
            self._env.filters["balanced"] = balanced
            self._env.tests["unjustifiable"] = unjustifiable  # text to set ragged
            self._env.globals["layout_url"] = self.layout_url
        return self._env

    def catalog(self, lang: str) -> Catalog:
        if lang not in self._catalogs:
            self._catalogs[lang] = load_catalog(self.dirs, lang, self.fallback_lang)
        return self._catalogs[lang]

    def layout_url(self, name: str) -> str:
        """URL of a layout file (a stylesheet…), looked up like templates: project first."""
        path = self.template_path(name)
        if path is None:
            raise LayoutError(Problem(name, None, f"layout file '{name}' not found in "
                                      + self.searched(), code="L001"))
        return path.resolve().as_uri()

    def searched(self) -> str:
        """The layout folders, as people know them."""
        own = (self.root / "layouts").resolve()
        return ", ".join("the project's layouts/" if d.resolve() == own
                         else "the toolkit's layouts" for d in self.dirs)

    def exists(self, layout: str) -> bool:
        """Whether ``layouts/<layout>/<layout>.html`` exists in a layout folder."""
        return bool(re.fullmatch(r"[A-Za-z0-9_-]+", layout)) and \
            self.template_path(f"{layout}/{layout}.html") is not None

    def names(self) -> list[str]:
        """The layouts a release may name."""
        return sorted({d.name for folder in self.dirs for d in folder.iterdir()
                       if d.is_dir() and (d / f"{d.name}.html").is_file()})

    def template_path(self, name: str) -> Path | None:
        for folder in self.dirs:
            if (folder / name).is_file():
                return folder / name
        return None

    def files(self, layout: str) -> list[Path]:
        """The files a layout uses: its folder and every folder its files refer to."""
        names, todo = set(), [layout]
        while todo:
            name = todo.pop()
            if name in names:
                continue
            names.add(name)
            for folder in self.dirs:
                for path in (folder / name).glob("*") if (folder / name).is_dir() else []:
                    if path.suffix in (".html", ".css", ".txt") and path.is_file():
                        todo.extend(_LAYOUT_REF.findall(
                            path.read_text(encoding="utf-8", errors="replace")))
        return sorted(path for folder in self.dirs for name in names
                      if (folder / name).is_dir() for path in (folder / name).rglob("*")
                      if path.is_file())

    def locate(self, url: str) -> tuple[str, int] | None:
        """The layout file and line that ask for ``url``: where it is written as is,
        else where its file name is."""
        from urllib.parse import unquote, urlsplit

        name = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
        for needle in dict.fromkeys([url, name] if len(name) >= 3 else [url]):
            for folder in self.dirs:
                for sheet in sorted(folder.rglob("*.css")) + sorted(folder.rglob("*.html")):
                    lines = sheet.read_text(encoding="utf-8", errors="replace").splitlines()
                    for number, text in enumerate(lines, 1):
                        if needle in text:
                            return display_path(sheet, self.root), number
        return None

    def locate_css(self, snippet: str, line: int) -> Path | None:
        """The layout stylesheet (or template) whose ``line`` holds ``snippet``."""
        for folder in self.dirs:
            for sheet in sorted(folder.rglob("*.css")) + sorted(folder.rglob("*.html")):
                lines = sheet.read_text(encoding="utf-8", errors="replace").splitlines()
                if line <= len(lines) and snippet and snippet in lines[line - 1]:
                    return sheet
        return None

    def render(self, name: str, lang: str, context: dict) -> tuple[str, Path, list[Problem]]:
        """Template ``name`` rendered in ``lang``: (text, template path, catalog warnings)."""
        import jinja2

        catalog = self.catalog(lang)
        env = self.env
        env.install_gettext_callables(catalog.gettext, catalog.ngettext, newstyle=True)
        path = self.template_path(name)
        if path is None:
            raise LayoutError(Problem(name, None, f"layout template '{name}' not found in "
                                      + self.searched(), code="L001"))
        catalog.missing.clear()
        try:
            text = env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise LayoutError(Problem(display_path(exc.filename or path, self.root),
                                      exc.lineno, f"template syntax error: {exc.message}",
                                          code="L002")
                              ) from None
        except jinja2.UndefinedError as exc:
            file, line = _template_frame(exc, path, self.root)
            raise LayoutError(Problem(file, line, f"undefined in template: {exc.message}; "
                                      "check the variable name", code="L003")) from None
        except jinja2.TemplateNotFound as exc:
            file, line = _template_frame(exc, path, self.root)
            raise LayoutError(Problem(file, line, f"template '{exc.name}' not found in "
                                      f"{self.searched()}; check its name", code="L001")) from None
        except jinja2.exceptions.SecurityError as exc:
            file, line = _template_frame(exc, path, self.root)
            raise LayoutError(Problem(file, line, f"not allowed in a layout: {exc}; layouts "
                                      "get plain data, not Python objects", code="L003")) from None
        except Exception as exc:  # any other failure of a template is the layout's
            file, line = _template_frame(exc, path, self.root)
            raise LayoutError(Problem(file, line, f"the template failed: "
                                      f"{type(exc).__name__}: {exc}", code="L002")) from None
        return text, path, self.catalog_problems(catalog)

    def catalog_problems(self, catalog: Catalog) -> list[Problem]:
        """What the last render missed in its catalog."""
        if not catalog.files:
            return [Problem(
                f"layouts/locale/{catalog.lang}/LC_MESSAGES/messages.po", None,
                f"no catalog for '{catalog.lang}'; layout strings are in English. Run "
                f"'publisher catalogs --lang {catalog.lang}' and translate the file",
                severity="warning", code="L004")]
        shown = display_path(catalog.files[-1], self.root)
        return [Problem(shown, None, f"no '{catalog.lang}' translation for '{message}'; "
                        "English used. Add its msgstr", severity="warning", code="L004")
                for message in sorted(catalog.missing)]


def compose(document: Document, layouts: Layouts) -> Composed:
    """Merge ``document``'s context into its template."""
    html, path, problems = layouts.render(document.template, document.lang, document.context)
    links = unsafe_links(html, display_path(path, layouts.root))
    if links:
        raise LayoutError(links)
    return Composed(html, path.parent.as_uri() + "/", document.lang, problems)


def unsafe_links(html: str, file: str) -> list[Problem]:
    """The links of composed HTML that a published document may not hold.

    Links written in a source are checked with their line as the body is read;
    this catches what a layout adds (an ``href`` it builds from data).
    """
    found: dict[str, Problem] = {}
    for match in _ANCHOR_HREF.finditer(html):
        href = next(group for group in match.groups() if group is not None)
        if href.startswith((PART_LINK, ARTIFACT, LANG)):  # resolved when joined / tagged
            continue
        reason = link_problem(href)
        if reason and href not in found:
            found[href] = Problem(file, None, f"in the composed document: {reason}", code="B002")
    return list(found.values())


def base_context(site: Site, lang: str, page: Page, meta: dict) -> dict:
    """What every layout gets: the site, language, fonts, colours, page set-up."""
    colours = {**DEFAULTS["colours"], **site.colours, **page.profile.colours}
    return {
        "site": site,
        "lang": lang,
        "html_lang": lang.replace("_", "-"),
        "direction": _direction(lang),
        "counter_style": counter_style(lang),
        "isolate": isolate if _direction(lang) == "rtl" else _same,
        "page_size": page.size,
        "bleed": page.profile.bleed,
        "logo_url": page.logo_url,
        "colours": colours,
        "font_faces": page.font_faces,
        "meta": meta,
    }


def release_meta(localised: Localised) -> dict:
    return {"title": localised.title, "author": localised.site.issuer,
            "subject": localised.subtitle, "keywords": localised.tags,
            "created": localised.created}


def release_document(localised: Localised, page: Page, layout: str) -> Document:
    """The document of a standalone release: ``layouts/<layout>/<layout>.html``."""
    context = base_context(localised.site, localised.lang, page, release_meta(localised))
    context["release"] = localised
    return Document(f"{layout}/{layout}.html", localised.lang, context)


_SHORT_PART = re.compile(r"\w-\w{1,2}\W*$|^\W*\w{1,2}-\w")  # Горизонт-М, e-Health


def balanced(text: str, longest: int = 28, in_link: bool = False):
    """A title whose last line never holds one word alone: its last two words are
    kept together (WeasyPrint has no ``text-wrap: balance``), and a compound with a
    part of one or two letters ("«Горизонт-М»") is never broken at its hyphen.  In
    no-wrap spans, or, inside a link (whose tags a span would split), with a
    no-break space."""
    from markupsafe import Markup, escape

    words = str(text).split(" ")
    if len(words) >= 2 and len(words[-2]) + len(words[-1]) + 1 <= longest:
        words[-2:] = [f"{words[-2]}\u00a0{words[-1]}"]
    if in_link:
        return escape(" ".join(words))
    out = []
    for word in words:
        if "\u00a0" in word or _SHORT_PART.search(word):
            out.append(Markup('<span class="nobr">{}</span>').format(word.replace("\u00a0", " ")))
        else:
            out.append(escape(word))
    return Markup(" ").join(out)


def counter_content(text: str, style: str = "decimal"):
    """'Page {page} of {pages}' → a CSS ``content`` value with page counters.

    The result goes into a ``<style>`` element, where HTML escaping does not
    apply, so it is escaped for CSS instead and marked safe.
    """
    from markupsafe import Markup

    parts = re.split(r"(\{page\}|\{pages\})", str(text))
    out = []
    named = re.fullmatch(r"[a-z][a-z-]{0,30}", str(style)) and style != "decimal"
    suffix = f", {style}" if named else ""
    for part in parts:
        if part == "{page}":
            out.append(f"counter(page{suffix})")
        elif part == "{pages}":
            out.append(f"counter(pages{suffix})")
        elif part:
            out.append(css_string(part))
    return Markup(" ".join(out))


def css_string(text: str):
    """``text`` as a quoted CSS string, safe inside a ``<style>`` element."""
    from markupsafe import Markup

    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    escaped = escaped.replace("\n", "\\a ")
    return Markup(f'"{escaped}"')


LRI, PDI = "\u2066", "\u2069"  # left-to-right isolate, pop directional isolate


def isolate(text):
    """``text`` (a phone number, an address) kept in its own left-to-right order
    inside right-to-left text."""
    from markupsafe import Markup, escape

    return Markup("{}{}{}").format(LRI, escape(text), PDI) if str(text) else escape(text)


def _same(text):
    from markupsafe import escape

    return escape(text)


# CSS counter styles of the numbering systems a locale may write its numbers in
_COUNTER_STYLES = {"arab": "arabic-indic", "arabext": "persian", "deva": "devanagari",
                   "beng": "bengali", "thai": "thai"}


def counter_style(lang: str) -> str:
    """The counter style of page numbers: the locale's own digits (Babel)."""
    from babel import Locale

    try:
        system = Locale.parse(lang).default_numbering_system
    except (ValueError, LookupError, AttributeError):
        return "decimal"
    return _COUNTER_STYLES.get(system, "decimal")


def _direction(lang: str) -> str:
    from babel import Locale

    return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"


def _template_frame(exc, fallback: Path, root: Path | None):
    """The innermost template file and line of a Jinja2 error's traceback."""
    tb = exc.__traceback__
    found = (display_path(fallback, root), None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".txt", ".css")):
            found = (display_path(filename, root), tb.tb_lineno)
        tb = tb.tb_next
    return found
