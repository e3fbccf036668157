"""Members of the network and the rules for admitting them.

A member is one node operator: the General Secretariat (runs the hub), a
country's National Central Bureau (NCB: one per country, owns its country's
records) or a national agency connected directly under its NCB (a city police
force, a border agency). Each member is named by a short ``code`` that appears
in its certificate (``urn:policenet:member:<code>``), the audit log and every
record it owns.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from policenet.domain.countries import validate_country
from policenet.domain.registers import ALL_REGISTERS, RegisterName
from policenet.errors import Conflict, Forbidden, InvalidField, NotFound

MEMBER_URI_PREFIX = "urn:policenet:member:"
GENERAL_SECRETARIAT_CODE = "gs"
MEMBER_CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


class MemberKind(enum.StrEnum):
    GENERAL_SECRETARIAT = "gs"
    NCB = "ncb"
    AGENCY = "agency"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the network.

    ``country`` is an ISO 3166-1 alpha-2 code, None only for the General
    Secretariat. ``parent`` is the code of the agency's NCB (None otherwise).
    ``registers`` are the registers the member may search. ``copy_enquiries_to_ncb``
    is set by an NCB on one of its agencies to be told of the agency's enquiries;
    ``may_report`` lets an agency add, change and remove records of its
    country on the NCB's behalf (an NCB always may).
    """

    code: str
    kind: MemberKind
    name: str
    country: str | None
    parent: str | None = None
    registers: frozenset[RegisterName] = ALL_REGISTERS
    status: MemberStatus = MemberStatus.ACTIVE
    copy_enquiries_to_ncb: bool = False
    may_report: bool = False

    @property
    def reports_for_country(self) -> str | None:
        """The country whose records this member may add, or None if it may add none."""
        if self.kind is MemberKind.NCB or (self.kind is MemberKind.AGENCY and self.may_report):
            return self.country
        return None

    @property
    def uri(self) -> str:
        """The SAN URI that names this member in its certificate."""
        return member_uri(self.code)

    @property
    def ncb_code(self) -> str | None:
        """The code of the NCB that speaks for this member (itself for an NCB)."""
        if self.kind is MemberKind.NCB:
            return self.code
        return self.parent

    @property
    def active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


def member_uri(code: str) -> str:
    return f"{MEMBER_URI_PREFIX}{code}"


def code_from_uri(uri: str) -> str:
    """The member code named by a certificate SAN URI; InvalidField if it is not one of ours."""
    if not uri.startswith(MEMBER_URI_PREFIX):
        raise InvalidField("certificate", f"SAN URI {uri!r} does not name a policenet member")
    code = uri[len(MEMBER_URI_PREFIX) :]
    validate_code(code)
    return code


def validate_code(code: str) -> str:
    if not MEMBER_CODE_PATTERN.fullmatch(code):
        raise InvalidField(
            "code", f"{code!r} is not a member code (2-63 characters: a-z, 0-9 and '-')"
        )
    return code


def ncb_code_for(country: str) -> str:
    """The code of a country's NCB: ``ncb-`` and the lower-case country code."""
    return f"ncb-{country.lower()}"


# Letters that NFKD does not decompose into an ASCII base letter; without this table
# "Straße" would become "strae" and "Ærø" "r".
_LATIN_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i"}
)

# ZWNJ and ZWJ are part of the spelling of words in Persian, Arabic and Indic
# scripts; every other format character (bidi overrides above all) can make a
# name display as something it is not.
_JOINERS = frozenset({"\u200c", "\u200d"})


def is_reserved_code(code: str) -> bool:
    """True for codes only the hub assigns: the General Secretariat's and every NCB's."""
    return code == GENERAL_SECRETARIAT_CODE or code.startswith("ncb-")


def agency_code_for(country: str, name: str) -> str:
    """A code for an agency: the country and a slug of its name ("gb-metropolitan-police").

    Accented Latin letters lose their accents ("Police Cantonale Genève" gives
    "ch-police-cantonale-geneve"); letters of other scripts are dropped, and a
    name left with no letters or digits raises InvalidField("name") so that the
    administrator chooses a code. The code is cut to 63 characters.
    """
    latin = name.lower().translate(_LATIN_LETTERS)
    ascii_name = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    if not slug:
        raise InvalidField("name", f"{name!r} has no letters or digits to form a member code")
    return validate_code(f"{country.lower()}-{slug}"[:63].rstrip("-"))


def _clean_name(name: str) -> str:
    """The name with runs of white space made one space; refuses control characters.

    Control characters are refused wherever they are (a tab or line break
    included) rather than silently turned into spaces.
    """
    bad = next(
        (c for c in name if unicodedata.category(c).startswith("C") and c not in _JOINERS), None
    )
    if bad is not None:
        raise InvalidField("name", f"must not contain control characters (U+{ord(bad):04X})")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidField("name", "must not be empty")
    if len(cleaned) > 200:
        raise InvalidField("name", f"is {len(cleaned)} characters long; the limit is 200")
    return cleaned


@dataclass(frozen=True, slots=True)
class Admission:
    """A request to admit a member, as typed by the hub administrator."""

    kind: MemberKind
    name: str
    country: str | None = None
    parent: str | None = None
    registers: frozenset[RegisterName] | None = None
    code: str | None = field(default=None)


def admit(request: Admission, existing: Iterable[Member]) -> Member:
    """Check an admission against the members already admitted and return the new member.

    Rules: one General Secretariat; one NCB per country (ISO 3166-1 alpha-2,
    checked); an agency sits under exactly one NCB, which must be active and of
    the agency's own country; codes are unique. An agency's registers default to
    its NCB's and may not exceed them. The hub assigns the codes of the General
    Secretariat (``gs``) and of NCBs (``ncb-<country>``): an agency may not take
    one, and a General Secretariat or NCB admission naming another code is
    refused. Raises InvalidField, NotFound, Conflict or Forbidden (revoked
    parent, registers beyond the NCB's) naming what was wrong.
    """
    members = {m.code: m for m in existing}
    name = _clean_name(request.name)
    country: str | None = None
    parent: str | None = None
    registers = request.registers if request.registers is not None else ALL_REGISTERS

    if request.kind is MemberKind.GENERAL_SECRETARIAT:
        if request.parent:
            raise InvalidField("parent", "the General Secretariat has no parent")
        if request.country:
            raise InvalidField("country", "the General Secretariat belongs to no country")
        code = _fixed_code(request, GENERAL_SECRETARIAT_CODE)
        for m in members.values():
            if m.kind is MemberKind.GENERAL_SECRETARIAT:
                raise Conflict(f"the network already has a General Secretariat: {m.code}")
    elif request.kind is MemberKind.NCB:
        if request.parent:
            raise InvalidField("parent", "an NCB has no parent; only agencies sit under an NCB")
        country = validate_country(request.country or "")
        code = _fixed_code(request, ncb_code_for(country))
        for m in members.values():
            if m.kind is MemberKind.NCB and m.country == country:
                raise Conflict(f"country {country} already has an NCB: {m.code} ({m.name})")
    else:
        country = validate_country(request.country or "")
        if not request.parent:
            raise InvalidField("parent", "an agency must name its NCB (for example ncb-gb)")
        ncb = members.get(request.parent)
        if ncb is None:
            raise NotFound(f"parent {request.parent!r} is not a member")
        if ncb.kind is not MemberKind.NCB:
            raise InvalidField("parent", f"{ncb.code} is not an NCB; an agency sits under an NCB")
        if ncb.country != country:
            raise InvalidField(
                "parent",
                f"{ncb.code} is the NCB of {ncb.country}; an agency of {country} "
                f"must sit under its own country's NCB",
            )
        if not ncb.active:
            raise Forbidden(f"parent {ncb.code} is revoked and cannot take new agencies")
        parent = ncb.code
        if request.registers is None:
            registers = ncb.registers
        elif not registers <= ncb.registers:
            extra = ", ".join(sorted(r.value for r in registers - ncb.registers))
            raise Forbidden(f"{ncb.code} may not search {extra}, so its agencies may not either")
        if not request.code:
            code = agency_code_for(country, name)
        else:
            code = validate_code(request.code)
            # Restrictions name members by code: an agency holding "ncb-fr" would be
            # let in wherever France's NCB is.
            if is_reserved_code(code):
                raise InvalidField(
                    "code", f"{code!r} is reserved for the General Secretariat or an NCB"
                )

    if code in members:
        raise Conflict(f"member code {code!r} is taken by {members[code].name}")
    return Member(
        code=code,
        kind=request.kind,
        name=name,
        country=country,
        parent=parent,
        registers=registers,
    )


def _fixed_code(request: Admission, code: str) -> str:
    """The hub-assigned ``code``; InvalidField if the request asked for another one."""
    if request.code and request.code != code:
        raise InvalidField("code", f"a {request.kind.value} member's code is always {code!r}")
    return code


def set_agency_scope(
    actor: Member,
    agency: Member,
    registers: frozenset[RegisterName],
    copy_enquiries_to_ncb: bool,
    *,
    ncb: Member | None = None,
    may_report: bool | None = None,
) -> Member:
    """An NCB sets which registers one of its agencies may search.

    ``may_report`` (None keeps the current value) lets the agency report
    records of its country on the NCB's behalf.

    Only the agency's own NCB (or the General Secretariat) may do this, and an
    agency never gets a register its NCB lacks. ``actor`` must be active.
    ``ncb`` is the agency's NCB: an NCB actor is its own, the General
    Secretariat must pass it (InvalidField("ncb") otherwise) so that the
    NCB's registers bound the agency's. Returns the changed member.
    """
    if agency.kind is not MemberKind.AGENCY:
        raise InvalidField("member", f"{agency.code} is not an agency")
    if not actor.active:
        raise Forbidden(f"{actor.code} is revoked")
    if actor.kind is not MemberKind.GENERAL_SECRETARIAT and actor.code != agency.parent:
        raise Forbidden(f"only {agency.parent} sets the scope of {agency.code}")
    bound = actor if actor.kind is MemberKind.NCB else ncb
    if bound is None:
        raise InvalidField("ncb", f"the NCB of {agency.code} is needed to bound its registers")
    if bound.code != agency.parent:
        raise InvalidField("ncb", f"{bound.code} is not the NCB of {agency.code}")
    if not registers <= bound.registers:
        extra = ", ".join(sorted(r.value for r in registers - bound.registers))
        raise Forbidden(f"{bound.code} may not search {extra}, so its agencies may not either")
    return Member(
        code=agency.code,
        kind=agency.kind,
        name=agency.name,
        country=agency.country,
        parent=agency.parent,
        registers=registers,
        status=agency.status,
        copy_enquiries_to_ncb=copy_enquiries_to_ncb,
        may_report=agency.may_report if may_report is None else may_report,
    )
