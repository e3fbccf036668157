"""The person record: a person (or, for a purple notice, a modus operandi) and its notice.

One record is one notice, diffusion or watchlist entry on one person, as
its owner reported it. The person has one or more names in any script (the
first is the main name; the rest are aliases and other scripts), dates of
birth (full, year and month, or year only; several where sources disagree),
place of birth, nationalities, sex and identifying documents, which are keys
of the travel documents register (``ISSUING_STATE:type:NUMBER``): a check of
such a document also reports the person.

The notice says why the person is in the register (:class:`NoticeKind`),
whether it still stands (:class:`NoticeStatus`: only active notices are
searched) and, for a red notice, the charges and the judicial authority that
issued the warrant. A diffusion is addressed to chosen countries: the
envelope's ``allow_countries`` names them, and the access rules show it to
nobody else (:func:`check_diffusion`). Validity and review are the
envelope's ``expires`` and ``review_due``, as for every register.

Rows (CSV columns or NDJSON keys; lists separated by ``;``):
``reference`` (required, the key), ``name`` and/or ``given_names``,
``surname``, ``patronymic``; ``aliases``; ``dates_of_birth``;
``place_of_birth``; ``nationalities`` (ISO 3166-1 alpha-2); ``sex`` (M, F,
X); ``documents``; ``kind``; ``status``; ``charges``; ``authority``;
``list_name``; ``remarks``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from policenet.domain.countries import validate_country
from policenet.domain.envelope import Envelope
from policenet.errors import InvalidField
from policenet.registers.documents.countries import validate_issuing_state
from policenet.registers.documents.record import DocumentType, normalise_number
from policenet.registers.persons.names import MAX_NAME_CHARS, ParsedName, Part, Token, parse_name

MAX_NAMES = 50
"""Names (main name and aliases) one record may carry."""
MAX_TEXT_CHARS = 2000
MAX_REFERENCE_CHARS = 64
EARLIEST_BIRTH_YEAR = 1900

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}")


class NoticeKind(enum.StrEnum):
    """Why a person is in the register."""

    RED = "red"
    """Wanted for arrest with a view to extradition (charges and authority required)."""
    YELLOW = "yellow"
    """Missing person."""
    BLUE = "blue"
    """More information wanted on the person (identity, location, activities)."""
    BLACK = "black"
    """Unidentified body."""
    GREEN = "green"
    """Warning about a person's criminal activities."""
    ORANGE = "orange"
    """Imminent threat from a person, object or event."""
    PURPLE = "purple"
    """Modus operandi, objects, devices or concealment methods: may name no person."""
    UN_SPECIAL = "un-special"
    """INTERPOL–UN Security Council special notice (sanctioned person or entity)."""
    DIFFUSION = "diffusion"
    """A request sent by one NCB to chosen countries only (``allow_countries``)."""
    WATCHLIST = "watchlist"
    """An entry of a list a member shares (``list_name``: e.g. a sanctions list)."""


class NoticeStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    """The reason is gone (the person was arrested, found, cleared)."""
    WITHDRAWN = "withdrawn"
    """The owner took it back (the request should not have been made)."""


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"
    OTHER = "X"


@dataclass(frozen=True, slots=True, order=True)
class BirthDate:
    """A date of birth known to the year, the month or the day (``month``/``day`` 0: unknown)."""

    year: int
    month: int = 0
    day: int = 0

    def __str__(self) -> str:
        if not self.month:
            return f"{self.year:04d}"
        if not self.day:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def agrees(self, other: BirthDate) -> bool:
        """True when the two could be the same date (unknown parts agree with anything)."""
        if self.year != other.year:
            return False
        if self.month and other.month and self.month != other.month:
            return False
        return not (self.day and other.day and self.day != other.day)


_BIRTH = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_birth_date(text: str, today: date, field: str = "dates_of_birth") -> BirthDate:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; InvalidField for a malformed or impossible date
    (February 30th, a date in the future, a year before 1900)."""
    match = _BIRTH.fullmatch(text.strip())
    if match is None:
        raise InvalidField(field, f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if year < EARLIEST_BIRTH_YEAR:
        raise InvalidField(field, f"{text!r}: a year before {EARLIEST_BIRTH_YEAR}")
    if month and not 1 <= month <= 12:
        raise InvalidField(field, f"{text!r}: there is no month {month}")
    if day:
        try:
            full = date(year, month, day)
        except ValueError:
            raise InvalidField(field, f"{text!r} is not a date that exists") from None
        if full > today:
            raise InvalidField(field, f"{text!r} is in the future")
    elif (year, month) > (today.year, today.month):
        raise InvalidField(field, f"{text!r} is in the future")
    return BirthDate(year, month, day)


@dataclass(frozen=True, slots=True)
class PersonName:
    """One written name of the person, with its parts where the owner marked them."""

    text: str
    given: str = ""
    surname: str = ""
    patronymic: str = ""
    alias: bool = False

    def parsed(self) -> ParsedName:
        """The name ready for comparison (parts marked where they were given)."""
        if not (self.given or self.surname or self.patronymic):
            return parse_name(self.text)
        tokens: list[Token] = []
        for value, part in (
            (self.given, Part.GIVEN),
            (self.patronymic, Part.PATRONYMIC),
            (self.surname, Part.SURNAME),
        ):
            if value:
                tokens.extend(parse_name(value, part).tokens)
        whole = parse_name(self.text)
        return ParsedName(whole.original, whole.script, tuple(tokens))


@dataclass(frozen=True, slots=True)
class Person:
    """A record of the persons register (see the module docstring)."""

    reference: str
    kind: NoticeKind
    names: tuple[PersonName, ...]
    status: NoticeStatus = NoticeStatus.ACTIVE
    dates_of_birth: tuple[BirthDate, ...] = ()
    place_of_birth: str = ""
    nationalities: tuple[str, ...] = ()
    sex: Sex | None = None
    documents: tuple[str, ...] = ()
    charges: str = ""
    authority: str = ""
    list_name: str = ""
    remarks: str = ""

    @property
    def searchable(self) -> bool:
        """Searched by name: an active notice that names someone."""
        return self.status is NoticeStatus.ACTIVE and bool(self.names)


def natural_key(person: Person) -> str:
    """The owner's reference: one notice, one key (a second load of it changes nothing)."""
    return person.reference


def _text(raw: Mapping[str, str], name: str, limit: int = MAX_TEXT_CHARS) -> str:
    value = str(raw.get(name) or "").strip()
    if any(ord(c) < 32 and c not in "\t\n" for c in value):
        raise InvalidField(name, "contains control characters")
    if len(value) > limit:
        raise InvalidField(name, f"longer than {limit} characters ({len(value)})")
    return value


def split_list(value: object) -> list[str]:
    """A list field: a JSON list, or text separated by ``;``; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in str(value).split(";") if p.strip()]


_E = TypeVar("_E", bound=enum.StrEnum)


def _enum(kind: type[_E], raw: Mapping[str, str], name: str, default: _E | None) -> _E:
    text = str(raw.get(name) or "").strip()
    if not text:
        if default is None:
            known = ", ".join(k.value for k in kind)
            raise InvalidField(name, f"is required ({known})")
        return default
    try:
        return kind(text.lower() if kind is not Sex else text.upper())
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise InvalidField(name, f"{text!r} is not one of {known}") from None


def validate_document_key(text: str, field: str = "documents") -> str:
    """A travel documents register key, ``ISSUING_STATE:type:NUMBER`` (number normalised)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise InvalidField(field, f"{text!r} is not ISSUING_STATE:type:NUMBER")
    state = validate_issuing_state(parts[0].strip(), field)
    try:
        kind = DocumentType(parts[1].strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in DocumentType)
        raise InvalidField(field, f"{parts[1]!r} is not a document type ({known})") from None
    return f"{state}:{kind.value}:{normalise_number(parts[2], field)}"


def _names(raw: Mapping[str, str]) -> tuple[PersonName, ...]:
    given = _text(raw, "given_names", MAX_NAME_CHARS)
    surname = _text(raw, "surname", MAX_NAME_CHARS)
    patronymic = _text(raw, "patronymic", MAX_NAME_CHARS)
    text = _text(raw, "name", MAX_NAME_CHARS * 4)
    names: list[PersonName] = []
    if text or given or surname:
        whole = text or " ".join(p for p in (given, patronymic, surname) if p)
        parse_name(whole, field="name")  # refuse an unusable name here, naming the field
        for value, part, field in (
            (given, Part.GIVEN, "given_names"),
            (surname, Part.SURNAME, "surname"),
            (patronymic, Part.PATRONYMIC, "patronymic"),
        ):
            if value:
                parse_name(value, part, field)
        names.append(PersonName(whole, given, surname, patronymic))
    aliases = split_list(raw.get("aliases"))
    if aliases and not names:
        raise InvalidField("name", "is required when aliases are given (the main name first)")
    for alias in aliases:
        parse_name(alias, field="aliases")
        names.append(PersonName(alias, alias=True))
    if len(names) > MAX_NAMES:
        raise InvalidField("aliases", f"{len(names)} names; at most {MAX_NAMES}")
    return tuple(names)


ROW_FIELDS = (
    "reference",
    "kind",
    "status",
    "name",
    "given_names",
    "surname",
    "patronymic",
    "aliases",
    "dates_of_birth",
    "place_of_birth",
    "nationalities",
    "sex",
    "documents",
    "charges",
    "authority",
    "list_name",
    "remarks",
)
"""The fields of a load row, in the order exports write them."""
KNOWN_FIELDS = frozenset(ROW_FIELDS)


def validate(raw: Mapping[str, str], today: date) -> Person:
    """The record a row describes, or InvalidField naming the first wrong field."""
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise InvalidField(unknown[0], f"is not a field of a person record ({', '.join(unknown)})")
    reference = _text(raw, "reference", MAX_REFERENCE_CHARS)
    if not reference:
        raise InvalidField("reference", "is required (the owner's reference for the notice)")
    if not _REFERENCE.fullmatch(reference):
        raise InvalidField("reference", f"{reference!r}: letters, digits and / . _ : - only")
    kind = _enum(NoticeKind, raw, "kind", None)
    names = _names(raw)
    if not names and kind is not NoticeKind.PURPLE:
        raise InvalidField("name", f"is required for a {kind.value} notice")
    charges, authority = _text(raw, "charges"), _text(raw, "authority", 500)
    if kind is NoticeKind.RED and not (charges and authority):
        raise InvalidField(
            "charges" if not charges else "authority",
            "a red notice names the charges and the judicial authority of the warrant",
        )
    list_name = _text(raw, "list_name", 200)
    if kind is NoticeKind.WATCHLIST and not list_name:
        raise InvalidField("list_name", "a watchlist entry names its list")
    births = tuple(
        sorted({parse_birth_date(t, today) for t in split_list(raw.get("dates_of_birth"))})
    )
    nationalities = tuple(
        sorted({validate_country(c, "nationalities") for c in split_list(raw.get("nationalities"))})
    )
    documents = tuple(sorted({validate_document_key(d) for d in split_list(raw.get("documents"))}))
    return Person(
        reference=reference,
        kind=kind,
        names=names,
        status=_enum(NoticeStatus, raw, "status", NoticeStatus.ACTIVE),
        dates_of_birth=births,
        place_of_birth=_text(raw, "place_of_birth", 200),
        nationalities=nationalities,
        sex=_enum(Sex, raw, "sex", None) if str(raw.get("sex") or "").strip() else None,
        documents=documents,
        charges=charges,
        authority=authority,
        list_name=list_name,
        remarks=_text(raw, "remarks"),
    )


def check_diffusion(person: Person, envelope: Envelope) -> None:
    """A diffusion must name the countries it is sent to (InvalidField otherwise)."""
    if person.kind is NoticeKind.DIFFUSION and not envelope.restrictions.allow_countries:
        raise InvalidField(
            "allow_countries", "a diffusion names the countries it is sent to (e.g. GB;US)"
        )
