"""The access decision, checked against every combination and by properties.

The oracle here is written from the rules in ``decide()``'s docstring as a
table of (condition, outcome) rows, first match wins, over facts the test
keeps in its own tables (who is whose NCB, which country) rather than reading
them back from the ``Member`` objects.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.access import Access, decide, is_owner_side
from policenet.domain.envelope import Envelope, Mode, Restrictions
from policenet.domain.members import Member, MemberKind, MemberStatus
from policenet.domain.registers import ALL_REGISTERS, RegisterName

CREATED = datetime(2025, 1, 1, tzinfo=UTC)
EXPIRES = CREATED + timedelta(days=30)
REGISTER = RegisterName.PERSONS

# The test's own view of the network: code -> (kind, country, NCB code).
NETWORK: dict[str, tuple[MemberKind, str | None, str | None]] = {
    "gs": (MemberKind.GENERAL_SECRETARIAT, None, None),
    "ncb-gb": (MemberKind.NCB, "GB", "ncb-gb"),
    "ncb-fr": (MemberKind.NCB, "FR", "ncb-fr"),
    "gb-met": (MemberKind.AGENCY, "GB", "ncb-gb"),
    "gb-border-force": (MemberKind.AGENCY, "GB", "ncb-gb"),
    "fr-prefecture": (MemberKind.AGENCY, "FR", "ncb-fr"),
}
OWNERS = ("ncb-gb", "gb-border-force")  # an NCB owning a record, and an agency owning one
RANK = {Access.INVISIBLE: 0, Access.REFERENCE_ONLY: 1, Access.FULL: 2}


def member(code: str, *, active: bool = True, in_scope: bool = True) -> Member:
    kind, country, ncb = NETWORK[code]
    return Member(
        code=code,
        kind=kind,
        name=code.upper(),
        country=country,
        parent=ncb if kind is MemberKind.AGENCY else None,
        registers=ALL_REGISTERS if in_scope else ALL_REGISTERS - {REGISTER},
        status=MemberStatus.ACTIVE if active else MemberStatus.REVOKED,
    )


# One side of a restriction: nothing, a member code (an NCB's code included),
# or a country.
Entry = tuple[str, str] | None
ENTRIES: list[Entry] = [
    None,
    *(("member", code) for code in NETWORK),
    ("country", "GB"),
    ("country", "FR"),
]


def restrictions(allow: Entry, deny: Entry) -> Restrictions:
    def pick(entry: Entry, kind: str) -> frozenset[str]:
        return frozenset({entry[1]}) if entry is not None and entry[0] == kind else frozenset()

    return Restrictions(
        allow_members=pick(allow, "member"),
        allow_countries=pick(allow, "country"),
        deny_members=pick(deny, "member"),
        deny_countries=pick(deny, "country"),
    )


@dataclass(frozen=True)
class Case:
    owner: str
    owner_known: bool
    member: str
    active: bool
    in_scope: bool
    mode: Mode
    expired: bool
    allow: Entry
    deny: Entry


def expected(c: Case) -> Access:
    """The docstring's rules as a table; the first row whose condition holds decides."""
    _, country, ncb = NETWORK[c.member]
    owner_kind, _, owner_ncb = NETWORK[c.owner]
    identities = {c.member} | ({ncb} if ncb else set())

    def matches(entry: Entry) -> bool:
        if entry is None:
            return False
        what, value = entry
        return value in identities if what == "member" else value == country

    owner_side = c.member == c.owner or (
        c.owner_known and owner_kind is MemberKind.AGENCY and c.member == owner_ncb
    )
    table = [
        (not c.active, Access.INVISIBLE),
        (owner_side, Access.FULL),
        (not c.in_scope, Access.INVISIBLE),
        (c.expired, Access.INVISIBLE),
        (matches(c.deny), Access.INVISIBLE),
        (c.allow is not None and not matches(c.allow), Access.INVISIBLE),
        (c.mode is Mode.REFERENCE_ONLY, Access.REFERENCE_ONLY),
        (True, Access.FULL),
    ]
    return next(outcome for condition, outcome in table if condition)


def all_cases() -> list[Case]:
    return [
        Case(*values)
        for values in itertools.product(
            OWNERS,
            (True, False),
            NETWORK,
            (True, False),
            (True, False),
            tuple(Mode),
            (True, False),
            ENTRIES,
            ENTRIES,
        )
    ]


def test_decide_matches_the_rules_for_every_combination() -> None:
    envelopes: dict[tuple[str, Mode, Entry, Entry], Envelope] = {}
    mismatches: list[tuple[Case, Access, Access]] = []
    cases = all_cases()
    seen: set[Access] = set()
    for c in cases:
        key = (c.owner, c.mode, c.allow, c.deny)
        if key not in envelopes:
            envelopes[key] = Envelope(
                owner=c.owner,
                created=CREATED,
                expires=EXPIRES,
                mode=c.mode,
                restrictions=restrictions(c.allow, c.deny),
            )
        now = EXPIRES if c.expired else EXPIRES - timedelta(microseconds=1)
        got = decide(
            member(c.member, active=c.active, in_scope=c.in_scope),
            envelopes[key],
            REGISTER,
            now,
            owner=member(c.owner) if c.owner_known else None,
        )
        want = expected(c)
        seen.add(got)
        if got is not want:
            mismatches.append((c, got, want))
    assert len(cases) == 2 * 2 * 6 * 2 * 2 * 2 * 2 * len(ENTRIES) ** 2
    assert seen == set(Access)
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"


def test_ncb_sees_its_agencys_expired_record_only_when_the_owner_is_known() -> None:
    envelope = Envelope(
        owner="gb-border-force",
        created=CREATED,
        expires=EXPIRES,
        restrictions=Restrictions(deny_countries=frozenset({"GB"})),
    )
    ncb = member("ncb-gb")
    owner = member("gb-border-force")
    assert decide(ncb, envelope, REGISTER, EXPIRES, owner=owner) is Access.FULL
    assert decide(ncb, envelope, REGISTER, EXPIRES) is Access.INVISIBLE


def test_an_owner_that_is_not_the_envelopes_owner_grants_nothing() -> None:
    # The record belongs to a French agency; passing a GB agency as "owner" by
    # mistake must not make NCB GB owner-side.
    envelope = Envelope(
        owner="fr-prefecture",
        created=CREATED,
        restrictions=Restrictions(allow_countries=frozenset({"FR"})),
    )
    ncb = member("ncb-gb")
    wrong_owner = member("gb-border-force")
    assert not is_owner_side(ncb, envelope, wrong_owner)
    assert decide(ncb, envelope, REGISTER, CREATED, owner=wrong_owner) is Access.INVISIBLE


def test_an_agency_is_not_owner_side_for_its_ncbs_records() -> None:
    envelope = Envelope(owner="ncb-gb", created=CREATED, mode=Mode.REFERENCE_ONLY)
    agency = member("gb-met")
    assert not is_owner_side(agency, envelope, member("ncb-gb"))
    assert decide(agency, envelope, REGISTER, CREATED, owner=member("ncb-gb")) is (
        Access.REFERENCE_ONLY
    )


# --- properties over a wider space --------------------------------------------------

codes = st.sampled_from(sorted(NETWORK))
countries = st.sampled_from(["GB", "FR", "DE"])
times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def members(draw: st.DrawFn, code: st.SearchStrategy[str] = codes) -> Member:
    m = member(draw(code), active=draw(st.booleans()))
    return replace(m, registers=draw(st.frozensets(st.sampled_from(list(RegisterName)))))


@st.composite
def envelopes(draw: st.DrawFn, owner: st.SearchStrategy[str] = codes) -> Envelope:
    created = draw(times)
    lifetime = draw(st.none() | st.timedeltas(timedelta(seconds=1), timedelta(days=3650)))
    return Envelope(
        owner=draw(owner),
        created=created,
        expires=None if lifetime is None else created + lifetime,
        mode=draw(st.sampled_from(list(Mode))),
        restrictions=Restrictions(
            allow_members=draw(st.frozensets(codes, max_size=3)),
            deny_members=draw(st.frozensets(codes, max_size=3)),
            allow_countries=draw(st.frozensets(countries, max_size=2)),
            deny_countries=draw(st.frozensets(countries, max_size=2)),
        ),
    )


registers = st.sampled_from(list(RegisterName))


def owner_side(m: Member, e: Envelope, owner: Member | None) -> bool:
    return m.code == e.owner or (
        owner is not None
        and owner.kind is MemberKind.AGENCY
        and owner.code == e.owner
        and NETWORK[owner.code][2] == m.code
    )


def owner_member(e: Envelope, known: bool) -> Member | None:
    return member(e.owner) if known else None


@given(envelopes(), st.frozensets(registers), registers, times)
def test_the_active_owner_always_sees_everything(
    e: Envelope, scope: frozenset[RegisterName], register: RegisterName, now: datetime
) -> None:
    owner = replace(member(e.owner), registers=scope)
    assert decide(owner, e, register, now, owner=owner) is Access.FULL
    assert decide(owner, e, register, now) is Access.FULL


@given(envelopes(), registers, times)
def test_a_revoked_owner_sees_nothing(e: Envelope, register: RegisterName, now: datetime) -> None:
    owner = replace(member(e.owner), status=MemberStatus.REVOKED)
    assert decide(owner, e, register, now, owner=owner) is Access.INVISIBLE


@given(members(), envelopes(), registers, times, st.booleans())
def test_a_denied_member_off_the_owner_side_sees_nothing(
    m: Member, e: Envelope, register: RegisterName, now: datetime, known: bool
) -> None:
    owner = owner_member(e, known)
    r = e.restrictions
    denied = (
        m.code in r.deny_members
        or NETWORK[m.code][2] in r.deny_members
        or NETWORK[m.code][1] in r.deny_countries
    )
    if denied and not owner_side(m, e, owner):
        assert decide(m, e, register, now, owner=owner) is Access.INVISIBLE


@given(members(), envelopes(), registers, times, st.booleans())
def test_reference_only_is_never_full_off_the_owner_side(
    m: Member, e: Envelope, register: RegisterName, now: datetime, known: bool
) -> None:
    owner = owner_member(e, known)
    e = replace(e, mode=Mode.REFERENCE_ONLY)
    if not owner_side(m, e, owner):
        assert decide(m, e, register, now, owner=owner) is not Access.FULL


@given(
    members(),
    envelopes(),
    registers,
    times,
    st.booleans(),
    st.sampled_from(["code", "ncb", "country"]),
)
def test_allowing_a_member_never_reduces_its_access(
    m: Member, e: Envelope, register: RegisterName, now: datetime, known: bool, how: str
) -> None:
    owner = owner_member(e, known)
    r = e.restrictions
    _, country, ncb = NETWORK[m.code]
    if how == "code":
        wider = replace(r, allow_members=r.allow_members | {m.code})
    elif how == "ncb" and ncb is not None:
        wider = replace(r, allow_members=r.allow_members | {ncb})
    elif how == "country" and country is not None:
        wider = replace(r, allow_countries=r.allow_countries | {country})
    else:
        wider = replace(r, allow_members=r.allow_members | {m.code})
    before = decide(m, e, register, now, owner=owner)
    after = decide(m, replace(e, restrictions=wider), register, now, owner=owner)
    assert RANK[after] >= RANK[before]


@given(members(), envelopes(), registers, times)
def test_knowing_the_owner_never_reduces_access(
    m: Member, e: Envelope, register: RegisterName, now: datetime
) -> None:
    unknown = decide(m, e, register, now)
    known = decide(m, e, register, now, owner=member(e.owner))
    assert RANK[known] >= RANK[unknown]


@given(members(), envelopes(), registers, times, st.booleans())
def test_an_expired_record_is_seen_only_from_the_owner_side(
    m: Member, e: Envelope, register: RegisterName, now: datetime, known: bool
) -> None:
    owner = owner_member(e, known)
    if e.expires is not None and now >= e.expires and not owner_side(m, e, owner):
        assert decide(m, e, register, now, owner=owner) is Access.INVISIBLE
