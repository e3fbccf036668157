"""Follow-up cases as pure rules: states, who may move them, deadlines, escalation.

The oracle is written from the module docstring of :mod:`policenet.domain.cases`
(the state diagram and "the owner's side acknowledges, confirms or rejects;
either NCB closes") over the test's own table of who is who in a case, rather
than read back from ``Case`` properties.

The case under test: PC Jones of the Metropolitan Police (GB) hits a record
owned by the NYPD (US), so the parties are the Met, NCB London, the NYPD and
NCB Washington.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.cases import (
    Case,
    CaseState,
    DeadlinePolicy,
    RejectionReason,
    case_number,
    move,
    open_case,
    overdue,
)
from policenet.domain.members import Member, MemberKind
from policenet.domain.registers import RegisterName
from policenet.errors import Conflict, Forbidden, InvalidField, PolicenetError
from policenet.settings import HubSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = CaseState

# The test's own view of the network: code -> (kind, country, NCB code).
NETWORK: dict[str, tuple[MemberKind, str | None, str | None]] = {
    "gs": (MemberKind.GENERAL_SECRETARIAT, None, None),
    "ncb-gb": (MemberKind.NCB, "GB", None),
    "gb-met": (MemberKind.AGENCY, "GB", "ncb-gb"),
    "gb-border-force": (MemberKind.AGENCY, "GB", "ncb-gb"),
    "ncb-us": (MemberKind.NCB, "US", None),
    "us-nypd": (MemberKind.AGENCY, "US", "ncb-us"),
    "us-cbp": (MemberKind.AGENCY, "US", "ncb-us"),
    "ncb-fr": (MemberKind.NCB, "FR", None),
    "fr-police": (MemberKind.AGENCY, "FR", "ncb-fr"),
}

# Each role in the case under test, played by one member.
ROLES: dict[str, str] = {
    "owner": "us-nypd",
    "owner-ncb": "ncb-us",
    "enquirer": "gb-met",
    "enquirer-ncb": "ncb-gb",
    "general-secretariat": "gs",
    "owner-sibling": "us-cbp",  # same NCB as the owner, but not a party
    "enquirer-sibling": "gb-border-force",
    "outside-ncb": "ncb-fr",
    "outside-agency": "fr-police",
}
OWNER_SIDE = {"owner", "owner-ncb"}
CASE_NCBS = {"owner-ncb", "enquirer-ncb"}
PARTIES = OWNER_SIDE | {"enquirer", "enquirer-ncb"}
SEE_CASE = PARTIES | {"general-secretariat"}

# The diagram of the module docstring, edge by edge.
EDGES: dict[CaseState, set[CaseState]] = {
    S.OPEN: {S.ACKNOWLEDGED, S.CONFIRMED, S.REJECTED, S.CLOSED},
    S.ACKNOWLEDGED: {S.CONFIRMED, S.REJECTED, S.CLOSED},
    S.CONFIRMED: {S.CLOSED},
    S.REJECTED: {S.CLOSED},
    S.CLOSED: set(),
}
ANSWERS = {S.ACKNOWLEDGED, S.CONFIRMED, S.REJECTED}
"""What only the owner's side says; closing is for the NCBs."""


def member(code: str) -> Member:
    kind, country, ncb = NETWORK[code]
    return Member(code=code, kind=kind, name=code.upper(), country=country, parent=ncb)


def as_role(role: str) -> Member:
    return member(ROLES[role])


def new_case(
    owner: str = "us-nypd",
    enquirer: str = "gb-met",
    *,
    urgent: bool = False,
    register: RegisterName = RegisterName.DOCUMENTS,
    policy: DeadlinePolicy | None = None,
    now: datetime = T0,
) -> Case:
    return open_case(
        case_number(now.year, 1),
        register,
        "USA:passport:561204317",
        member(owner),
        member(enquirer),
        "pc.jones",
        urgent,
        {"strength": "exact", "access": "full"},
        now,
        policy or DeadlinePolicy(),
    )


def in_state(state: CaseState) -> Case:
    case = new_case()
    reason = RejectionReason.NOT_THE_SAME if state is S.REJECTED else None
    return replace(case, state=state, reason=reason)


def expected_refusal(role: str, start: CaseState, to: CaseState) -> type[PolicenetError] | None:
    """What the rules say about ``role`` moving a case from ``start`` to ``to``."""
    if role not in SEE_CASE:
        return Forbidden  # an outsider learns nothing, not even the case's state
    if to not in EDGES[start]:
        return Conflict
    if to in ANSWERS and role not in OWNER_SIDE:
        return Forbidden
    if to is S.CLOSED and role not in CASE_NCBS:
        return Forbidden
    return None


# --- the state machine ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "start", "to"), list(itertools.product(ROLES, CaseState, CaseState))
)
def test_every_move_from_every_state_by_every_member(
    role: str, start: CaseState, to: CaseState
) -> None:
    case = in_state(start)
    later = T0 + timedelta(hours=3)
    reason = RejectionReason.OTHER if to is S.REJECTED else None
    refusal = expected_refusal(role, start, to)
    if refusal is None:
        moved = move(case, as_role(role), to, later, reason=reason)
        assert moved.state is to
        assert moved.updated == later
        assert moved.number == case.number and moved.opened == case.opened
        assert moved.deadline == case.deadline
    else:
        with pytest.raises(refusal) as raised:
            move(case, as_role(role), to, later, reason=reason)
        assert type(raised.value) is refusal
        # the refusal names the case, or whose move it would have been
        assert case.number in raised.value.message or case.owner_ncb in raised.value.message


def test_the_table_allows_what_the_docstring_draws() -> None:
    """A guard on the oracle: the owner's NCB may walk every edge of the diagram."""
    walks = [
        [S.ACKNOWLEDGED, S.CONFIRMED, S.CLOSED],
        [S.ACKNOWLEDGED, S.REJECTED, S.CLOSED],
        [S.CONFIRMED, S.CLOSED],
        [S.REJECTED, S.CLOSED],
        [S.CLOSED],
    ]
    for walk in walks:
        case = new_case()
        for step, to in enumerate(walk, start=1):
            reason = RejectionReason.OUT_OF_DATE if to is S.REJECTED else None
            case = move(case, member("ncb-us"), to, T0 + timedelta(minutes=step), reason=reason)
        assert case.state is S.CLOSED


def test_a_closed_case_never_moves_again() -> None:
    closed = move(new_case(), member("ncb-gb"), S.CLOSED, T0)
    for to, role in itertools.product(CaseState, PARTIES):
        reason = RejectionReason.OTHER if to is S.REJECTED else None
        with pytest.raises((Conflict, Forbidden)):
            move(closed, as_role(role), to, T0, reason=reason)


def test_the_refusal_names_the_moves_still_allowed() -> None:
    confirmed = in_state(S.CONFIRMED)
    with pytest.raises(Conflict) as raised:
        move(confirmed, member("ncb-us"), S.REJECTED, T0, reason=RejectionReason.OTHER)
    assert "confirmed" in raised.value.message
    assert "closed" in raised.value.message


# --- reasons and notes ------------------------------------------------------------------


@pytest.mark.parametrize("start", [S.OPEN, S.ACKNOWLEDGED])
def test_a_rejection_needs_a_reason(start: CaseState) -> None:
    with pytest.raises(InvalidField) as raised:
        move(in_state(start), member("ncb-us"), S.REJECTED, T0)
    assert raised.value.field == "reason"
    for reason in RejectionReason:
        assert reason.value in raised.value.reason  # tells the caller what to choose from


@pytest.mark.parametrize("reason", list(RejectionReason))
def test_a_rejection_keeps_its_reason_through_closing(reason: RejectionReason) -> None:
    rejected = move(new_case(), member("us-nypd"), S.REJECTED, T0, reason=reason)
    assert rejected.reason is reason
    closed = move(rejected, member("ncb-gb"), S.CLOSED, T0 + timedelta(hours=1))
    assert closed.state is S.CLOSED
    assert closed.reason is reason


@pytest.mark.parametrize(
    ("start", "to", "role"),
    [
        (S.OPEN, S.ACKNOWLEDGED, "owner"),
        (S.OPEN, S.CONFIRMED, "owner-ncb"),
        (S.ACKNOWLEDGED, S.CONFIRMED, "owner"),
        (S.OPEN, S.CLOSED, "enquirer-ncb"),
        (S.CONFIRMED, S.CLOSED, "owner-ncb"),
    ],
)
def test_other_moves_refuse_a_reason(start: CaseState, to: CaseState, role: str) -> None:
    with pytest.raises(InvalidField) as raised:
        move(in_state(start), as_role(role), to, T0, reason=RejectionReason.OTHER)
    assert raised.value.field == "reason"


def test_a_note_of_2000_characters_is_kept_and_2001_refused() -> None:
    case = new_case()
    kept = move(case, member("ncb-us"), S.ACKNOWLEDGED, T0, note="n" * 2000)
    assert kept.note == "n" * 2000
    with pytest.raises(InvalidField) as raised:
        move(case, member("ncb-us"), S.ACKNOWLEDGED, T0, note="n" * 2001)
    assert raised.value.field == "note"
    assert "2001" in raised.value.reason


def test_a_move_without_a_note_keeps_the_last_note() -> None:
    confirmed = move(new_case(), member("ncb-us"), S.CONFIRMED, T0, note="still outstanding")
    closed = move(confirmed, member("ncb-gb"), S.CLOSED, T0 + timedelta(hours=1))
    assert closed.note == "still outstanding"
    renoted = move(confirmed, member("ncb-gb"), S.CLOSED, T0, note="seized at Heathrow")
    assert renoted.note == "seized at Heathrow"


# One attempted move: who, to what, whether a reason is given, how long the note is.
attempts = st.tuples(
    st.sampled_from(sorted(ROLES)),
    st.sampled_from(list(CaseState)),
    st.booleans(),
    st.sampled_from([0, 1, 2000, 2001]),
)


@given(st.lists(attempts, max_size=12))
def test_a_move_is_refused_exactly_when_a_rule_is_broken(
    walk: list[tuple[str, CaseState, bool, int]],
) -> None:
    """Random walks: each refusal is one of the errors of the rules it breaks."""
    case = new_case()
    now = T0
    for role, to, with_reason, note_length in walk:
        now += timedelta(minutes=5)
        broken: set[type[PolicenetError]] = set()
        side = expected_refusal(role, case.state, to)
        if side is not None:
            broken.add(side)
        if with_reason != (to is S.REJECTED) or note_length > 2000:
            broken.add(InvalidField)
        reason = RejectionReason.OTHER if with_reason else None
        try:
            moved = move(case, as_role(role), to, now, reason=reason, note="x" * note_length)
        except PolicenetError as exc:
            assert broken, f"{role} -> {to} from {case.state} refused: {exc.message}"
            assert type(exc) in broken, (type(exc), broken)
            continue
        assert not broken, f"{role} -> {to} from {case.state} was allowed"
        assert to in EDGES[case.state]
        assert moved.state is to and moved.updated == now
        case = moved


# --- who sees a case ----------------------------------------------------------------------


def test_the_parties_and_the_general_secretariat_see_the_case_and_nobody_else() -> None:
    case = new_case()
    assert case.parties == {"us-nypd", "ncb-us", "gb-met", "ncb-gb"}
    assert case.ncbs == {"ncb-us", "ncb-gb"}
    for role, code in ROLES.items():
        assert case.visible_to(member(code)) is (role in SEE_CASE), role
        assert case.owner_side(member(code)) is (role in OWNER_SIDE), role


def test_opening_records_who_hit_what_and_when() -> None:
    hit: dict[str, Any] = {"strength": "exact", "explanation": ["number matches"]}
    case = open_case(
        "PN-2026-000007",
        RegisterName.DOCUMENTS,
        "USA:passport:561204317",
        member("us-nypd"),
        member("gb-met"),
        "pc.jones",
        False,
        hit,
        T0,
        DeadlinePolicy(),
    )
    hit["strength"] = "possible"  # the caller's dict is not the case's
    assert case.state is S.OPEN
    assert (case.owner, case.owner_ncb) == ("us-nypd", "ncb-us")
    assert (case.enquirer, case.enquirer_ncb, case.enquirer_officer) == (
        "gb-met",
        "ncb-gb",
        "pc.jones",
    )
    assert case.opened == case.updated == T0
    assert case.hit["strength"] == "exact"
    assert case.reason is None and case.note == "" and not case.escalated


def test_a_hit_on_ones_own_record_opens_no_case() -> None:
    for code in ("gb-met", "ncb-gb"):
        with pytest.raises(Conflict):
            new_case(owner=code, enquirer=code)


@pytest.mark.parametrize("owner", ["ncb-gb", "gb-border-force"])
def test_an_own_country_hit_has_one_ncb_which_answers_and_closes(owner: str) -> None:
    case = new_case(owner=owner, enquirer="gb-met")
    assert case.ncbs == {"ncb-gb"}
    assert case.parties == {"gb-met", "ncb-gb", owner}
    with pytest.raises(Forbidden):
        move(case, member("gb-met"), S.CONFIRMED, T0)  # the enquirer does not answer itself
    confirmed = move(case, member("ncb-gb"), S.CONFIRMED, T0)
    with pytest.raises(Forbidden):
        move(confirmed, member("gb-met"), S.CLOSED, T0)
    assert move(confirmed, member("ncb-gb"), S.CLOSED, T0).state is S.CLOSED


def test_an_ncb_enquiring_itself_is_its_own_side() -> None:
    case = new_case(owner="us-nypd", enquirer="ncb-gb")
    assert (case.enquirer, case.enquirer_ncb) == ("ncb-gb", "ncb-gb")
    assert case.parties == {"ncb-gb", "us-nypd", "ncb-us"}


# --- deadlines ------------------------------------------------------------------------------


def test_default_deadlines_are_48_hours_and_one_hour_for_urgent_hits() -> None:
    assert new_case().deadline == T0 + timedelta(hours=48)
    assert new_case(urgent=True).deadline == T0 + timedelta(hours=1)


def test_a_per_register_deadline_applies_to_that_register_only() -> None:
    policy = DeadlinePolicy(
        per_register={RegisterName.PERSONS: (timedelta(hours=24), timedelta(minutes=30))}
    )
    persons = RegisterName.PERSONS
    assert new_case(register=persons, policy=policy).deadline == T0 + timedelta(hours=24)
    assert new_case(register=persons, policy=policy, urgent=True).deadline == T0 + timedelta(
        minutes=30
    )
    assert new_case(policy=policy).deadline == T0 + timedelta(hours=48)
    assert new_case(policy=policy, urgent=True).deadline == T0 + timedelta(hours=1)


spans = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30))


@given(
    routine=spans,
    urgent_span=spans,
    register=st.sampled_from(list(RegisterName)),
    overridden=st.sets(st.sampled_from(list(RegisterName))),
    urgent=st.booleans(),
    opened=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_the_deadline_is_the_opening_time_plus_the_span_for_register_and_urgency(
    routine: timedelta,
    urgent_span: timedelta,
    register: RegisterName,
    overridden: set[RegisterName],
    urgent: bool,
    opened: datetime,
) -> None:
    special = (routine * 2, urgent_span * 3)
    policy = DeadlinePolicy(
        routine=routine, urgent=urgent_span, per_register=dict.fromkeys(overridden, special)
    )
    spans_for = special if register in overridden else (routine, urgent_span)
    case = new_case(register=register, policy=policy, urgent=urgent, now=opened)
    assert case.deadline - case.opened == spans_for[1 if urgent else 0]


def test_settings_give_the_deadline_policy() -> None:
    settings = HubSettings(
        directory=Path("."),
        db_url="sqlite://",
        case_deadline_hours=72,
        urgent_case_deadline_minutes=20,
        case_deadlines_by_register=("persons=24/30",),
    )
    policy = settings.deadline_policy()
    assert policy.deadline(RegisterName.DOCUMENTS, False, T0) == T0 + timedelta(hours=72)
    assert policy.deadline(RegisterName.DOCUMENTS, True, T0) == T0 + timedelta(minutes=20)
    assert policy.deadline(RegisterName.PERSONS, False, T0) == T0 + timedelta(hours=24)
    assert policy.deadline(RegisterName.PERSONS, True, T0) == T0 + timedelta(minutes=30)


@pytest.mark.parametrize("entry", ["persons", "persons=24", "nonsense=24/30", "persons=a/b"])
def test_a_malformed_per_register_deadline_is_refused(entry: str) -> None:
    settings = HubSettings(
        directory=Path("."),
        db_url="sqlite://",
        case_deadlines_by_register=(entry,),
    )
    with pytest.raises(InvalidField) as raised:
        settings.deadline_policy()
    assert raised.value.field == "case_deadlines_by_register"


def test_a_negative_per_register_deadline_is_refused() -> None:
    settings = HubSettings(
        directory=Path("."),
        db_url="sqlite://",
        case_deadlines_by_register=("persons=-1/30",),
    )
    with pytest.raises(InvalidField):
        settings.deadline_policy()


# --- escalation -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.OPEN, S.ACKNOWLEDGED])
def test_a_case_awaiting_the_owner_is_overdue_from_the_deadline_on(state: CaseState) -> None:
    case = in_state(state)
    tick = timedelta(microseconds=1)
    assert not overdue(case, case.deadline - tick)
    assert overdue(case, case.deadline)  # exactly at the deadline counts
    assert overdue(case, case.deadline + timedelta(days=3))


@pytest.mark.parametrize("state", [S.CONFIRMED, S.REJECTED, S.CLOSED])
def test_an_answered_or_closed_case_is_never_overdue(state: CaseState) -> None:
    case = in_state(state)
    assert not overdue(case, case.deadline)
    assert not overdue(case, case.deadline + timedelta(days=365))


def test_an_escalated_case_is_not_overdue_a_second_time() -> None:
    case = new_case(urgent=True)
    assert overdue(case, case.deadline)
    escalated = replace(case, escalated=True)
    assert not overdue(escalated, case.deadline)
    assert not overdue(escalated, case.deadline + timedelta(days=10))
    # acknowledging does not rearm it
    acknowledged = move(escalated, member("ncb-us"), S.ACKNOWLEDGED, case.deadline)
    assert acknowledged.escalated
    assert not overdue(acknowledged, case.deadline + timedelta(days=10))


def test_case_numbers_are_quoted_with_year_and_six_digits() -> None:
    assert case_number(2026, 42) == "PN-2026-000042"
    assert case_number(2027, 1) == "PN-2027-000001"
    numbers = {case_number(2026, n) for n in range(1, 1001)}
    assert len(numbers) == 1000
    assert sorted(numbers) == [case_number(2026, n) for n in range(1, 1001)]
