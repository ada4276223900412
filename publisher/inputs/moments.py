"""Moments as press officers write them: an embargo, or ``--as-of``.

ISO 8601 with its UTC offset (``2018-06-15T10:00:00+02:00``, ``…Z``, in
either case), or a date and time followed by an IANA time zone
(``2018-06-15 10:00 Europe/Paris``), whose offset on that day is taken from
the time zone database, summer time included.  A time a zone skips (clocks
going forward) or passes twice (clocks going back) is refused with the two
ways to write it; so is a time with neither offset nor zone, which would mean
something different on every machine.  What is returned carries a fixed UTC
offset, so that it prints the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

FIRST_YEAR = 1900
EXAMPLE = "2018-06-15T10:00:00+02:00 or 2018-06-15 10:00 Europe/Paris"
_ZONE = re.compile(r"^(?P<moment>.+?)\s+(?P<zone>[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*)$")


class BadMoment(ValueError):
    """Why a text is not a moment, as a sentence that shows the fix."""


@functools.cache
def _zones() -> dict[str, str]:
    """Time zone names by their lower-case spelling."""
    import zoneinfo

    names = {name.lower(): name for name in zoneinfo.available_timezones()}
    names.update({"utc": "UTC", "gmt": "UTC", "z": "UTC"})
    return names


def _zone(name: str):
    import zoneinfo

    known = _zones().get(name.lower())
    if known is None:
        return None
    return dt.timezone.utc if known == "UTC" else zoneinfo.ZoneInfo(known)


def read_moment(text: str) -> dt.datetime:
    """``text`` as an aware date-time with a fixed offset; :class:`BadMoment` if not."""
    written = " ".join(str(text).split())
    zone = None
    found = _ZONE.match(written)
    if found and _zone(found["zone"]) is not None:
        written, zone = found["moment"], found["zone"]
    iso = re.sub(r"(?<=\d)[tT](?=\d)", "T", written)
    iso = re.sub(r"(?<=\d)[zZ]$", "+00:00", iso)
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        hint = f" ('{found['zone']}' is not a time zone)" if found and zone is None else ""
        raise BadMoment(f"{text!r} is not a date and time{hint}; write e.g. {EXAMPLE}") \
            from None
    if moment.year < FIRST_YEAR:
        raise BadMoment(f"{text!r}: a year before {FIRST_YEAR}; check the year")
    if zone is not None:
        moment = _in_zone(moment, zone, text)
    elif moment.tzinfo is None or moment.utcoffset() is None:
        raise BadMoment(f"{text!r} has no UTC offset or time zone, so it would mean another "
                        f"moment on each machine; write e.g. {EXAMPLE}")
    offset = moment.utcoffset()
    return moment.astimezone(dt.timezone(offset)) if offset is not None else moment


def _in_zone(moment: dt.datetime, name: str, text: str) -> dt.datetime:
    tz = _zone(name)
    local = moment.replace(tzinfo=None)
    early, late = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if moment.tzinfo is not None:  # both an offset and a zone: they must agree
        if moment.utcoffset() not in (early.utcoffset(), late.utcoffset()):
            raise BadMoment(f"{text!r}: the offset is not {name}'s on that day "
                            f"({_offset(early)}); write one or the other")
        return moment
    back = early.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None)
    if back != local:
        raise BadMoment(f"{text!r}: {local:%H:%M} does not exist in {name} that day (the "
                        "clocks go forward); give a time before or after the change")
    if early.utcoffset() != late.utcoffset():
        choices = f"{local.isoformat()}{_offset(early)} or {local.isoformat()}{_offset(late)}"
        raise BadMoment(f"{text!r}: {local:%H:%M} happens twice in {name} that day (the "
                        f"clocks go back); write which with its offset: {choices}")
    return early


def _offset(moment: dt.datetime) -> str:
    offset = moment.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
