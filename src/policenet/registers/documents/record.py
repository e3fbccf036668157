"""The travel document record: one stolen, lost, revoked or invalidated document.

A record names the document (issuing state, type, number), says what
happened to it (status) and carries the reporting member's reference. It
holds no personal data: the holder's name stays in the member's national
system and reaches an enquirer only through the follow-up between NCBs.

The natural key is ``ISSUING_STATE:document-type:NORMALISED_NUMBER``, so the
same document reported twice (``"L 898-902 C3"`` and ``"L898902C3"``) has
one key and loading it again changes nothing.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from policenet.errors import InvalidField
from policenet.registers.documents.countries import validate_issuing_state

MAX_NUMBER_CHARS = 35
MAX_REFERENCE_CHARS = 64
MAX_REMARKS_CHARS = 500
# Dates are the reporting member's local dates: up to 14 hours ahead of UTC
# (UTC+14), so "today" at the hub may be a day behind the reporter's today.
_CLOCK_SLACK = timedelta(days=1)
# Characters that may separate groups of a number as people write it; dropped.
_SEPARATORS = frozenset(" \t-<")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class DocumentType(enum.StrEnum):
    """The kind of document, as the register keys on it."""

    PASSPORT = "passport"
    ID_CARD = "id-card"
    VISA = "visa"
    RESIDENCE_PERMIT = "residence-permit"
    OTHER = "other"


class DocumentStatus(enum.StrEnum):
    """Why the document is in the register.

    ``STOLEN_BLANK``: stolen before it was issued to anyone (a blank);
    ``STOLEN_FROM_HOLDER``: stolen after issue; ``LOST``: lost by its holder;
    ``REVOKED``: withdrawn by the issuing state; ``INVALIDATED``: declared
    invalid (e.g. reported lost and then found, cancelled on renewal).
    """

    STOLEN_BLANK = "stolen-blank"
    STOLEN_FROM_HOLDER = "stolen-from-holder"
    LOST = "lost"
    REVOKED = "revoked"
    INVALIDATED = "invalidated"


@dataclass(frozen=True, slots=True)
class TravelDocument:
    """One reported travel document.

    ``issuing_state`` is an ICAO 9303 code (``D`` for Germany, ``UTO`` for
    specimens). ``number`` is the number as reported (surrounding whitespace
    removed); :attr:`normalised_number` is what the register matches on.
    ``reported_date`` is the date of the theft or loss. ``reference`` is the
    reporting member's own reference (at most 64 characters); ``remarks`` is
    free text for handling (at most 500 characters, no control characters,
    never personal data of the holder).
    """

    issuing_state: str
    document_type: DocumentType
    number: str
    status: DocumentStatus
    issue_date: date | None = None
    expiry_date: date | None = None
    reported_date: date | None = None
    reference: str = ""
    remarks: str = ""

    @property
    def normalised_number(self) -> str:
        return normalise_number(self.number)


def normalise_number(number: str, field: str = "number") -> str:
    """The document number as the register matches it: ``A-Z0-9`` only, 1 to 35 characters.

    Letters are upper-cased; spaces, tabs, hyphens and MRZ fillers (``<``)
    are dropped. Anything else (``.``, ``/``, letters outside ASCII such as
    the Cyrillic ``А`` that looks like a Latin ``A``) raises InvalidField
    naming ``field`` and the character, because a number that only looks the
    same would never match.
    """
    if number.isascii() and number.isalnum() and len(number) <= MAX_NUMBER_CHARS:
        return number.upper()  # the common case, without a loop in Python
    kept: list[str] = []
    for ch in number:
        if ch in _SEPARATORS:
            continue
        if not (ch.isascii() and ch.isalnum()):
            name = unicodedata.name(ch, "unnamed character")
            raise InvalidField(
                field, f"{ch!r} (U+{ord(ch):04X} {name}) is not allowed; use A-Z and 0-9"
            )
        kept.append(ch.upper())
    if not kept:
        raise InvalidField(field, "empty")
    if len(kept) > MAX_NUMBER_CHARS:
        raise InvalidField(field, f"{len(kept)} characters; at most {MAX_NUMBER_CHARS}")
    return "".join(kept)


def natural_key(doc: TravelDocument) -> str:
    """``ISSUING_STATE:document-type:NORMALISED_NUMBER``, e.g. ``UTO:passport:L898902C3``."""
    return f"{doc.issuing_state}:{doc.document_type.value}:{doc.normalised_number}"


_E = TypeVar("_E", bound=enum.StrEnum)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REQUIRED = ("issuing_state", "document_type", "number", "status")
_OPTIONAL = ("issue_date", "expiry_date", "reported_date", "reference", "remarks")
ROW_FIELDS = _REQUIRED + _OPTIONAL
"""A record's fields as a row of a load file or an export, in this order."""


def validate(raw: Mapping[str, object], today: date) -> TravelDocument:
    """Turn ``raw`` (a CSV row or a JSON object) into a :class:`TravelDocument`.

    Values are strings (dates ISO ``yyyy-mm-dd``; ``date`` objects are taken
    too); empty strings and None stand for an absent optional field. Enum
    values are read case-insensitively with ``_`` for ``-``. Raises
    InvalidField naming the field for: an unknown field, a missing required
    field, a value of the wrong type or form, a ``reported_date`` or
    ``issue_date`` after ``today`` (one day of slack for members ahead of
    UTC), an ``issue_date`` after the ``expiry_date``, over-long or
    control-character ``reference`` and ``remarks``.
    """
    unknown = sorted(str(name) for name in raw if name not in ROW_FIELDS)
    if unknown:
        also = f" (also unknown: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
        raise InvalidField(unknown[0], f"unknown field{also}; known: {', '.join(ROW_FIELDS)}")
    missing = [name for name in _REQUIRED if _text(raw, name) == ""]
    if missing:
        also = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise InvalidField(missing[0], f"required{also}")
    number = _text(raw, "number")
    normalise_number(number)
    doc = TravelDocument(
        issuing_state=validate_issuing_state(_text(raw, "issuing_state"), "issuing_state"),
        document_type=_enum(DocumentType, raw, "document_type"),
        number=number,
        status=_enum(DocumentStatus, raw, "status"),
        issue_date=_date(raw, "issue_date"),
        expiry_date=_date(raw, "expiry_date"),
        reported_date=_date(raw, "reported_date"),
        reference=_free_text(raw, "reference", MAX_REFERENCE_CHARS),
        remarks=_free_text(raw, "remarks", MAX_REMARKS_CHARS),
    )
    latest = today + _CLOCK_SLACK
    for name in ("reported_date", "issue_date"):
        value = getattr(doc, name)
        if value is not None and value > latest:
            raise InvalidField(name, f"{value.isoformat()} is in the future")
    if doc.issue_date and doc.expiry_date and doc.issue_date > doc.expiry_date:
        raise InvalidField(
            "issue_date",
            f"{doc.issue_date.isoformat()} is after the expiry date {doc.expiry_date.isoformat()}",
        )
    return doc


def _text(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidField(name, f"must be text, not {type(value).__name__}")
    return value.strip()


def _enum(kind: type[_E], raw: Mapping[str, object], name: str) -> _E:
    text = _text(raw, name).lower().replace("_", "-")
    try:
        return kind(text)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InvalidField(name, f"{text!r} is not one of {known}") from None


def _date(raw: Mapping[str, object], name: str) -> date | None:
    value = raw.get(name)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = _text(raw, name)
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidField(name, f"{text!r} is not a date yyyy-mm-dd")


def _free_text(raw: Mapping[str, object], name: str, limit: int) -> str:
    text = _text(raw, name)
    if len(text) > limit:
        raise InvalidField(name, f"{len(text)} characters; at most {limit}")
    for ch in text:
        if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS:
            raise InvalidField(name, f"control character U+{ord(ch):04X} is not allowed")
    return text
