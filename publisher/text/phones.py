"""Phone numbers as people write them: national or international, with an extension.

A number is read with the first country that makes it valid among those
given (the contact's, its organisation's, the site's); a number that none
makes valid is kept exactly as written, without a ``tel:`` link, and the caller
warns about it.  Extensions are recognised in the forms press offices use
("ext. 752", "x752", "poste 752", "Durchwahl 752", "内線752", "доб. 752").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EXTENSION = re.compile(
    r"[\s,;/]*(?:\(\s*)?(?:ext\.?|extn\.?|extension|x|poste|p\.|durchwahl|dw\.?|"
    r"nebenstelle|apparecchio|int\.?|interno|ext\.?\s*n[°º.]?|доб\.?|добавочный|"
    r"内線|内线)\s*:?\s*(\d{1,7})\s*\)?\s*$",
    re.IGNORECASE)


@dataclass(frozen=True)
class Phone:
    number: str  # as printed: international form, or as written when it could not be read
    extension: str = ""
    uri: str = ""  # tel: URI (RFC 3966), empty when the number could not be read

    @property
    def valid(self) -> bool:
        return bool(self.uri)

    def __str__(self) -> str:
        return f"{self.number} ext. {self.extension}" if self.extension else self.number


def split_extension(written: str) -> tuple[str, str]:
    """(number, extension) of a number as written; extension empty when none."""
    match = _EXTENSION.search(written)
    if match and re.search(r"\d", written[:match.start()]):
        return written[:match.start()].strip(), match[1]
    return written.strip(), ""


def read_phone(written: str, countries: list[str | None]) -> Phone:
    """``written`` read with the first of ``countries`` that makes it a valid number."""
    import phonenumbers

    text, extension = split_extension(written)
    regions: list[str | None] = [c.upper() for c in countries if c] or [None]
    if text.startswith("00"):  # the international prefix of most of the world
        text = "+" + text[2:]
    if text.startswith("+"):
        regions = [None]
    for region in dict.fromkeys(regions):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        if number.extension and not extension:  # phonenumbers read "ext. 12" itself
            extension = number.extension
        number.extension = extension or None
        printed = phonenumbers.format_number(
            phonenumbers.PhoneNumber(country_code=number.country_code,
                                     national_number=number.national_number,
                                     italian_leading_zero=number.italian_leading_zero,
                                     number_of_leading_zeros=number.number_of_leading_zeros),
            phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        uri = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966)
        return Phone(printed, extension, uri)
    return Phone(written.strip())
