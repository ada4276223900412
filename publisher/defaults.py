"""The one table of defaults, shared by the Python API, the command line, the
schema and the stages.

Command-line options default to "not given" (``None``); :func:`resolve` fills
what is missing from the project's ``site.yaml`` and then from
:data:`DEFAULTS`, so the project's settings always win over the toolkit's.
Every other module reads its defaults from here; none repeats a value.
"""

from __future__ import annotations

from typing import TypedDict, cast


class Limits(TypedDict):
    """What one input may hold (site.yaml: ``limits``)."""

    source_mb: float
    image_mb: float
    font_mb: float
    attachment_mb: float
    settings_mb: float
    file_mb: float
    image_megapixels: float
    yaml_aliases: int
    yaml_nodes: int
    front_matter_chars: int
    list_items: int
    text_chars: int
    body_chars: int
    word_chars: int
    url_chars: int
    cell_words: int
    footnotes: int
    nesting: int
    render_seconds: float


class Defaults(TypedDict):
    """The table's keys and their types (the values are in :data:`DEFAULTS`)."""

    sources_dir: str
    releases_dir: str
    kits_dir: str
    layouts_dir: str
    fonts_dir: str
    build_dir: str
    cache_dir: str
    site_file: str
    contacts_file: str
    layout: str
    default_lang: str
    fallback_lang: str
    page_size: str
    country: str | None
    end_mark: str
    colours: dict[str, str]
    profile: str
    print_bleed: str
    print_condition: str
    print_min_dpi: int
    screen_dpi: int
    print_dpi: int
    text_width_mm: float
    limits: Limits
    recipients_file: str
    sent_dir: str
    outbox_dir: str
    smtp_password_env: str
    smtp_per_minute: float
    smtp_retries: int
    smtp_backoff_seconds: float
    smtp_timeout_seconds: float
    smtp_connect_seconds: float
    smtp_message_seconds: float
    smtp_batch_seconds: float
    smtp_ports: dict[str, int]
    email_logo_px: int
    serve_host: str
    serve_port: int
    serve_request_seconds: float
    serve_idle_connections: int
    watch_interval: float
    watch_jobs: int
    jobs: int | None
    start_method: str
    front_pages: int
    check_word_spacing: float


DEFAULTS: Defaults = {
    # where things are, relative to the project directory
    "sources_dir": "sources",
    "releases_dir": "sources/releases",
    "kits_dir": "sources/kits",
    "layouts_dir": "layouts",
    "fonts_dir": "fonts",
    "build_dir": "build",
    "cache_dir": "build/.cache",
    "site_file": "sources/site.yaml",
    "contacts_file": "sources/contacts.yaml",
    # content
    "layout": "release",  # layout folder of a release that names none
    "default_lang": "en",
    "fallback_lang": "en",  # layout strings missing from a catalog fall back to it
    "page_size": "A4",
    "country": None,  # region used to read national phone numbers
    "end_mark": "###",  # printed after a release whose body ends without its own
    "colours": {"primary": "#1f3a5f", "accent": "#b08d57", "text": "#1d1d1f"},
    # output profiles
    "profile": "screen",  # screen: tagged PDF/UA-1; print: PDF/X-4 under build/print/
    "print_bleed": "3mm",
    "print_condition": "FOGRA39",  # output intent of the print edition (or TR006)
    "print_min_dpi": 300,  # raster images under this resolution are warned about
    # prepared images: reduced to this resolution at the width of the text block
    "screen_dpi": 150,
    "print_dpi": 300,
    "text_width_mm": 170,  # an A4 page with 20 mm margins
    # what one input may hold, so that no input hangs a build (site.yaml: limits)
    "limits": {
        # megabytes per file, by kind
        "source_mb": 10, "image_mb": 50, "font_mb": 50, "attachment_mb": 50,
        "settings_mb": 2, "file_mb": 50,
        "image_megapixels": 100,  # decoded size of one image
        # YAML: aliases used, values after expanding them
        "yaml_aliases": 100, "yaml_nodes": 20_000,
        "front_matter_chars": 100_000,
        "list_items": 200,  # tags, contacts, figures…
        "text_chars": 5_000,  # one front-matter value
        # a release's body
        "body_chars": 100_000, "word_chars": 300, "cell_words": 300, "footnotes": 300,
        "url_chars": 4_000,  # one link's address (links are not words)
        "nesting": 20,  # lists in lists, quotes in quotes…
        "render_seconds": 60,  # one document's layout, after which it fails
    },
    # e-mail and publisher send
    "recipients_file": "sources/recipients.yaml",  # or recipients.csv beside it
    "sent_dir": "build/sent",  # the send ledgers
    "outbox_dir": "build/outbox",  # where send --dry-run writes the messages
    "smtp_password_env": "PUBLISHER_SMTP_PASSWORD",
    "smtp_per_minute": 60,
    "smtp_retries": 3,
    "smtp_backoff_seconds": 30,
    # how long a mail server may take: one answer, the greeting to the login, one
    # message, the whole batch (a hostile or broken server is stopped, never waited on)
    "smtp_timeout_seconds": 30,
    "smtp_connect_seconds": 60,
    "smtp_message_seconds": 120,
    "smtp_batch_seconds": 6 * 3600,
    "smtp_ports": {"starttls": 587, "tls": 465, "none": 25},
    "email_logo_px": 48,  # the logo's width in the e-mail's head
    # publisher serve
    "serve_host": "127.0.0.1",  # only this machine, unless --host says otherwise
    "serve_port": 8000,
    "serve_request_seconds": 10,  # from connecting (or the last answer) to a whole request
    "serve_idle_connections": 64,  # connections without a request; the oldest go first
    # publisher watch and serve
    "watch_interval": 0.5,  # seconds between looks where the file system sends no events
    "watch_jobs": 1,  # one process keeps the render state warm between builds
    # running a build
    "jobs": None,  # worker processes; None: one per core
    # how workers start: fork is quicker where it exists; spawn shares nothing
    # with the planning process (PUBLISHER_START_METHOD or --start-method)
    "start_method": "fork",
    "front_pages": 2,  # a kit's cover and contents, until a build says otherwise
    # publisher check: the widest word spacing of a justified line, in normal spaces
    "check_word_spacing": 4.0,
}

class ProfileDefaults(TypedDict):
    pdf_variant: str
    dpi: int


PROFILES: dict[str, ProfileDefaults] = {
    "screen": {"pdf_variant": "pdf/ua-1", "dpi": DEFAULTS["screen_dpi"]},
    "print": {"pdf_variant": "pdf/x-4", "dpi": DEFAULTS["print_dpi"]},
}


def resolve(given: dict[str, object], site: dict[str, object] | None = None) -> Defaults:
    """Options in force: ``given`` (not None) beats ``site`` beats DEFAULTS."""
    options = cast(dict[str, object], dict(DEFAULTS))
    for source in (site or {}, given):
        options.update({k: v for k, v in source.items() if v is not None and k in DEFAULTS})
    return cast(Defaults, options)


def setting(key: str) -> object:
    """The default of ``key`` when the key is only known at run time."""
    return cast(dict[str, object], DEFAULTS)[key]


def place(key: str) -> str:
    """A place in the project (``sources_dir``, ``build_dir``…), by its key."""
    return str(setting(key))


def limits(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The limits in force: the project's (site.yaml: ``limits``) over the toolkit's."""
    merged = cast(dict[str, float], dict(DEFAULTS["limits"]))
    merged.update(overrides or {})
    return merged
