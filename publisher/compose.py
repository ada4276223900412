"""Stage 3 — compose: a localised release merged into its Jinja2 layout.

Templates are looked up in the project's ``layouts/`` first, then in the
toolkit's.  Autoescape is on and undefined variables are errors; a template
error is reported with the template file and line.  Layout strings come from
the language's gettext catalog (:mod:`publisher.catalogs`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .cache import CACHE_DIR
from .catalogs import Catalog, load_catalog
from .defaults import DEFAULTS
from .errors import LayoutError, Problem, display_path
from .fonts import font_face_css
from .localise import Localised


@dataclass
class Composed:
    html: str
    base_url: str  # folder of the template, for its stylesheet and images
    catalog: Catalog


class Composer:
    """Holds one Jinja2 environment per layout search path, reused across documents."""

    def __init__(self, layout_dirs: list[Path], font_dirs: tuple[Path, ...],
                 fallback_lang: str = "en", root: Path | None = None):
        self.root = root
        # decoded fonts and reduced images live in the render cache
        self.prepared_dir = (root / str(DEFAULTS["build_dir"]) / CACHE_DIR / "assets"
                             if root else None)
        self.layout_dirs = layout_dirs
        self.font_dirs = font_dirs
        self.fallback_lang = fallback_lang
        self._env = None
        self._catalogs: dict[str, Catalog] = {}

    @property
    def env(self):
        if self._env is None:
            import jinja2

            self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader([str(d) for d in self.layout_dirs]),
                # HTML is always escaped; plain-text editions (.txt) are not HTML
                autoescape=jinja2.select_autoescape(disabled_extensions=("txt",),
                                                    default=True),
                undefined=jinja2.StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            self._env.filters["counter_content"] = counter_content
            self._env.filters["css_string"] = css_string
            self._env.globals["layout_url"] = self.layout_url
        return self._env

    def catalog(self, lang: str) -> Catalog:
        if lang not in self._catalogs:
            self._catalogs[lang] = load_catalog(self.layout_dirs, lang, self.fallback_lang)
        return self._catalogs[lang]

    def layout_url(self, name: str) -> str:
        """URL of a layout file (a stylesheet…), looked up like templates: project first."""
        path = self.template_path(name)
        if path is None:
            raise LayoutError(Problem(name, None, f"layout file '{name}' not found in "
                                      + ", ".join(str(d) for d in self.layout_dirs)))
        return path.resolve().as_uri()

    def template_path(self, name: str) -> Path | None:
        for folder in self.layout_dirs:
            if (folder / name).is_file():
                return folder / name
        return None

    def render(self, name: str, lang: str, context: dict) -> tuple[str, Path]:
        import jinja2

        catalog = self.catalog(lang)
        env = self.env
        env.install_gettext_callables(catalog.gettext, catalog.ngettext, newstyle=True)
        path = self.template_path(name)
        if path is None:
            raise LayoutError(Problem(name, None, f"layout template '{name}' not found in "
                                      + ", ".join(str(d) for d in self.layout_dirs)))
        try:
            html = env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise LayoutError(Problem(display_path(exc.filename or path, self.root),
                                      exc.lineno, f"template syntax error: {exc.message}")
                              ) from None
        except jinja2.UndefinedError as exc:
            file, line = _template_frame(exc, path, self.root)
            raise LayoutError(Problem(file, line, f"undefined in template: {exc.message}; "
                                      "check the variable name")) from None
        return html, path


def base_context(site: dict, lang: str, composer: Composer, *, page_size: str,
                 logo_url: str | None, meta: dict, profile: dict | None = None) -> dict:
    """What every layout gets: the site, language, fonts, colours, page set-up."""
    profile = profile or {}
    colours = {"primary": "#1f3a5f", "accent": "#b08d57", "text": "#1d1d1f",
               **(site.get("colours") or {}), **profile.get("colours", {})}
    return {
        "site": site,
        "lang": lang,
        "html_lang": lang.replace("_", "-"),
        "direction": _direction(lang),
        "page_size": page_size,
        "bleed": profile.get("bleed"),
        "logo_url": logo_url,
        "colours": colours,
        "font_faces": font_face_css(composer.font_dirs, composer.prepared_dir),
        "meta": meta,
    }


def release_meta(localised: Localised) -> dict:
    site = localised.site
    return {"title": localised.title, "author": site.get("legal_name") or site["name"],
            "subject": localised.subtitle, "keywords": localised.tags,
            "created": localised.created}


def compose(localised: Localised, composer: Composer, *, layout: str,
            page_size: str, logo_url: str | None, profile: dict | None = None) -> Composed:
    """Merge ``localised`` into ``layouts/<layout>/<layout>.html``."""
    context = base_context(localised.site, localised.lang, composer, page_size=page_size,
                           logo_url=logo_url, meta=release_meta(localised), profile=profile)
    context["release"] = localised
    return compose_document(composer, f"{layout}/{layout}.html", localised.lang, context)


def compose_document(composer: Composer, name: str, lang: str, context: dict) -> Composed:
    html, path = composer.render(name, lang, context)
    return Composed(html, path.parent.as_uri() + "/", composer.catalog(lang))


def counter_content(text: str):
    """'Page {page} of {pages}' → a CSS ``content`` value with page counters.

    The result goes into a ``<style>`` element, where HTML escaping does not
    apply, so it is escaped for CSS instead and marked safe.
    """
    from markupsafe import Markup

    parts = re.split(r"(\{page\}|\{pages\})", str(text))
    out = []
    for part in parts:
        if part == "{page}":
            out.append("counter(page)")
        elif part == "{pages}":
            out.append("counter(pages)")
        elif part:
            out.append(css_string(part))
    return Markup(" ".join(out))


def css_string(text: str):
    """``text`` as a quoted CSS string, safe inside a ``<style>`` element."""
    from markupsafe import Markup

    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    escaped = escaped.replace("\n", "\\a ")
    return Markup(f'"{escaped}"')


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
