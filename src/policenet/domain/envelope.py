"""The envelope every record carries, whatever its register.

The envelope says who owns a record, how long it lives and who may see what
of it. Registers hold their own payloads; access, retention and ownership are
decided on the envelope alone (see :mod:`policenet.domain.access`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from policenet.domain.countries import validate_country
from policenet.domain.members import MEMBER_CODE_PATTERN as _MEMBER_CODE
from policenet.errors import InvalidField

MAX_CAVEATS_CHARS = 2000


class Mode(enum.StrEnum):
    """What a member who may see a record sees of it."""

    FULL = "full"
    REFERENCE_ONLY = "reference-only"


@dataclass(frozen=True, slots=True)
class Restrictions:
    """Who may see a record beyond its owner.

    Empty allow-lists mean "every member"; a deny entry always wins over an
    allow entry. Members are named by code, countries by ISO 3166-1 alpha-2
    (given in either case, kept upper-case; an unassigned code or a malformed
    member code raises InvalidField naming the list). An agency is matched by
    its own code, its NCB's code, or its country.
    """

    allow_members: frozenset[str] = frozenset()
    deny_members: frozenset[str] = frozenset()
    allow_countries: frozenset[str] = frozenset()
    deny_countries: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # A deny entry that silently fails to match ("gb" for "GB") would open
        # the record to those it was meant to keep out, so entries are checked
        # here: countries made upper-case ISO codes, member codes refused if malformed.
        for name in ("allow_countries", "deny_countries"):
            countries = frozenset(validate_country(c, name) for c in getattr(self, name))
            object.__setattr__(self, name, countries)
        for name in ("allow_members", "deny_members"):
            codes = frozenset(getattr(self, name))
            for code in codes:
                if not isinstance(code, str) or not _MEMBER_CODE.fullmatch(code):
                    raise InvalidField(name, f"{code!r} is not a member code")
            object.__setattr__(self, name, codes)

    @property
    def open_to_all(self) -> bool:
        return not (self.allow_members or self.allow_countries)


@dataclass(frozen=True, slots=True)
class Envelope:
    """Ownership, lifetime and handling of one record.

    ``owner`` is a member code. ``expires`` is when the record stops matching
    (None: it does not expire). ``review_due`` is when the owner must confirm
    the record is still current. ``caveats`` are handling conditions shown with
    the data. All times are timezone-aware UTC.
    """

    owner: str
    created: datetime
    expires: datetime | None = None
    review_due: datetime | None = None
    mode: Mode = Mode.FULL
    restrictions: Restrictions = field(default_factory=Restrictions)
    caveats: str = ""

    def __post_init__(self) -> None:
        for name in ("created", "expires", "review_due"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() != timedelta(0):
                raise InvalidField(name, "must be a UTC time with its offset")
        if self.expires is not None and self.expires <= self.created:
            raise InvalidField("expires", "must be after the record was created")
        if len(self.caveats) > MAX_CAVEATS_CHARS:
            raise InvalidField("caveats", f"longer than {MAX_CAVEATS_CHARS} characters")

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


def restrictions_to_dict(r: Restrictions) -> dict[str, list[str]]:
    """Restrictions as JSON-ready lists (sorted, so equal restrictions serialise equally)."""
    return {
        "allow_members": sorted(r.allow_members),
        "deny_members": sorted(r.deny_members),
        "allow_countries": sorted(r.allow_countries),
        "deny_countries": sorted(r.deny_countries),
    }


def restrictions_from_dict(data: dict[str, list[str]]) -> Restrictions:
    """The inverse of :func:`restrictions_to_dict`; missing lists are empty."""
    return Restrictions(
        allow_members=frozenset(data.get("allow_members", ())),
        deny_members=frozenset(data.get("deny_members", ())),
        allow_countries=frozenset(data.get("allow_countries", ())),
        deny_countries=frozenset(data.get("deny_countries", ())),
    )
