"""Output profiles: what the screen and the print editions change."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..defaults import PROFILES
from .settings import Site


@dataclass(frozen=True)
class Profile:
    """Everything a profile changes, with the site's print settings applied."""

    name: str
    pdf_variant: str | None
    dpi: int  # resolution of prepared images
    bleed: str | None = None
    min_dpi: float | None = None  # warn about raster images under it (print)
    colours: dict[str, str] = field(default_factory=dict)  # CSS colours that replace the site's
    condition: str | None = None  # press condition of the print edition's output intent

    def key(self) -> str:
        """What the profile contributes to a cache key."""
        return repr((self.name, self.pdf_variant, self.dpi, self.bleed, self.min_dpi,
                     sorted(self.colours.items()), self.condition))


def profile(name: str, site: Site) -> Profile:
    """The profile ``name`` with ``site.yaml``'s settings for it."""
    base = PROFILES[name]
    if name != "print":
        return Profile(name, base["pdf_variant"], int(base["dpi"]))
    options = site.print
    colours = {key: "device-cmyk({})".format(" ".join(f"{v / 100:g}" for v in values))
               for key, values in options.colours.items()}
    return Profile(name, base["pdf_variant"], int(base["dpi"]), bleed=options.bleed,
                   min_dpi=options.min_dpi, colours=colours, condition=options.condition)
