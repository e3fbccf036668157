"""Country codes: ISO 3166-1 alpha-2 for members, with the names people use."""

from __future__ import annotations

import pycountry

from policenet.errors import InvalidField


def country_name(alpha2: str) -> str | None:
    """The English short name of an ISO 3166-1 alpha-2 code, or None if unknown."""
    found = pycountry.countries.get(alpha_2=alpha2)
    return None if found is None else str(found.name)


def validate_country(value: str, field: str = "country") -> str:
    """Return ``value`` as an upper-case ISO 3166-1 alpha-2 code.

    Raises InvalidField naming ``field`` when the value is not two letters or
    is not an assigned ISO 3166-1 code (``"UK"`` is refused: the code is ``"GB"``).
    """
    code = value.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidField(field, f"{value!r} is not a two-letter ISO 3166-1 code")
    if country_name(code) is None:
        raise InvalidField(field, f"{value!r} is not an assigned ISO 3166-1 alpha-2 code")
    return code
