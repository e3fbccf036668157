"""Issuing states and nationalities as ICAO Doc 9303 writes them.

A travel document names its issuing state (and its holder's nationality) with
three letters: the ISO 3166-1 alpha-3 code of the state, with a few exceptions
and additions that ICAO Doc 9303 Part 3 ("Codes for nationality, place of
birth, location of issuing state/authority and other purposes") defines:

- Germany is ``D`` (written ``D<<`` in the MRZ), not ``DEU``;
- British nationality categories ``GBD``, ``GBN``, ``GBO``, ``GBP``, ``GBS``;
- organisations that issue travel documents: ``EUE`` (European Union),
  ``UNO``, ``UNA``, ``UNK`` (United Nations and its agencies, UNMIK),
  ``XBA``, ``XIM``, ``XCC``, ``XCE``, ``XCO``, ``XEC``, ``XPO`` (INTERPOL),
  ``XES``, ``XMP``, ``XOM`` (Sovereign Military Order of Malta), ``XDC``;
- persons without a nationality: ``XXA`` (stateless, 1954 Convention), ``XXB``
  (refugee, 1951 Convention), ``XXC`` (other refugee), ``XXX`` (unspecified).

Two codes outside that list are kept because real documents carry them:
``UTO``, the fictional state of every ICAO specimen (test documents), and
``RKS``, which Kosovo writes in its passports (Kosovo has no ISO 3166-1 code).
Codes seen in the wild but not justified by Doc 9303 (``ZIM``, ISO 3166-3
historic codes) are refused on purpose: a record keyed on them would never
match a document read from an MRZ.

:func:`validate_issuing_state` returns the code as the register keys on it
(``DEU`` and ``D<<`` both become ``D``), so one document has one key.
"""

from __future__ import annotations

from functools import cache

import pycountry

from policenet.errors import InvalidField

GERMANY = "D"

# code -> (what it stands for, ISO 3166-1 alpha-2 of the NCB that may own it).
# The owner is None where no single member country issues the document.
ICAO_SPECIAL_CODES: dict[str, tuple[str, str | None]] = {
    GERMANY: ("Germany", "DE"),
    "GBD": ("British Overseas Territories citizen", "GB"),
    "GBN": ("British National (Overseas)", "GB"),
    "GBO": ("British Overseas citizen", "GB"),
    "GBP": ("British protected person", "GB"),
    "GBS": ("British subject", "GB"),
    "EUE": ("European Union", None),
    "UNO": ("United Nations Organization", None),
    "UNA": ("United Nations specialized agency", None),
    "UNK": ("United Nations Interim Administration Mission in Kosovo", None),
    "XBA": ("African Development Bank", None),
    "XIM": ("African Export-Import Bank", None),
    "XCC": ("Caribbean Community (CARICOM)", None),
    "XCE": ("Council of Europe", None),
    "XCO": ("Common Market for Eastern and Southern Africa (COMESA)", None),
    "XEC": ("Economic Community of West African States (ECOWAS)", None),
    "XPO": ("International Criminal Police Organization (INTERPOL)", None),
    "XES": ("Organisation of Eastern Caribbean States (OECS)", None),
    "XMP": ("Parliamentary Assembly of the Mediterranean", None),
    "XOM": ("Sovereign Military Order of Malta", None),
    "XDC": ("Southern African Development Community (SADC)", None),
    "XXA": ("stateless person (1954 Convention)", None),
    "XXB": ("refugee (1951 Convention)", None),
    "XXC": ("refugee (other than the 1951 Convention)", None),
    "XXX": ("unspecified nationality", None),
    "UTO": ("Utopia, the ICAO specimen state", None),
    "RKS": ("Kosovo", None),
}

# ISO codes that Doc 9303 replaces by its own: accepted as input, keyed as the ICAO code.
_ISO_TO_ICAO = {"DEU": GERMANY}


@cache
def _iso_alpha3() -> dict[str, str]:
    """ISO 3166-1 alpha-3 -> alpha-2 for every assigned country code."""
    return {str(c.alpha_3): str(c.alpha_2) for c in pycountry.countries}


def is_issuing_state(code: str) -> bool:
    """True when ``code`` (already upper-case, no fillers) is a code this register accepts."""
    return code in ICAO_SPECIAL_CODES or code in _iso_alpha3()


def validate_issuing_state(code: str, field: str = "country") -> str:
    """Return ``code`` as the register keys on it, or raise InvalidField naming ``field``.

    Surrounding whitespace and MRZ fillers (``<``) are stripped and letters
    upper-cased, so ``"D<<"``, ``"d"`` and ``" uto "`` are accepted. ``"DEU"``
    becomes ``"D"`` (the code Germany writes in its documents). Anything that
    is not an ISO 3166-1 alpha-3 code or a Doc 9303 code listed in
    :data:`ICAO_SPECIAL_CODES` is refused, naming the value.
    """
    cleaned = code.strip().strip("<").upper()
    if not cleaned or not cleaned.isascii() or not cleaned.isalpha() or len(cleaned) > 3:
        raise InvalidField(field, f"{code!r} is not a three-letter ICAO 9303 state code")
    cleaned = _ISO_TO_ICAO.get(cleaned, cleaned)
    if not is_issuing_state(cleaned):
        raise InvalidField(field, f"{code!r} is not an ICAO 9303 state or organisation code")
    return cleaned


def owning_country(icao_code: str) -> str | None:
    """The ISO 3166-1 alpha-2 country whose NCB may own documents issued under ``icao_code``.

    ``D`` gives ``DE``; the British categories give ``GB``; an ISO alpha-3
    code gives its own alpha-2 (a dependent territory with its own code, such
    as ``BMU``, gives its own code, not the sovereign's). Organisations,
    persons without nationality, ``UTO``, ``RKS`` and unknown codes give None:
    no single member country issues those documents.
    """
    code = icao_code.strip().strip("<").upper()
    code = _ISO_TO_ICAO.get(code, code)
    special = ICAO_SPECIAL_CODES.get(code)
    if special is not None:
        return special[1]
    return _iso_alpha3().get(code)
