"""Follow-up cases: what happens between two NCBs after a hit.

A hit on another member's record opens a case at once. Its parties are the
enquiring member (and the officer), the enquirer's NCB, the record's owner and
the owner's NCB; for a hit on one's own country's record the two NCBs are the
same and the case goes to that NCB only. The owner's side acknowledges, then
confirms the hit (the record is current and is the same document or person)
or rejects it with a reason, before a deadline; either NCB closes the case.

::

    open ──> acknowledged ──> confirmed ──> closed
      │            │      └──> rejected ──> closed
      └────────────┴──────────────────────> closed

The owner's side answers within the deadline: 48 hours by default, one hour
for an urgent hit, both configurable per register. A case still open or
acknowledged at its deadline is escalated once (an event to both NCBs).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from policenet.domain.members import Member, MemberKind
from policenet.domain.registers import RegisterName
from policenet.errors import Conflict, Forbidden, InvalidField


class CaseState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CLOSED = "closed"


class RejectionReason(enum.StrEnum):
    NOT_THE_SAME = "not-the-same"
    """Not the same document or person."""
    OUT_OF_DATE = "record-out-of-date"
    OTHER = "other"


NEXT_STATES: Mapping[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset(
        {CaseState.ACKNOWLEDGED, CaseState.CONFIRMED, CaseState.REJECTED, CaseState.CLOSED}
    ),
    CaseState.ACKNOWLEDGED: frozenset({CaseState.CONFIRMED, CaseState.REJECTED, CaseState.CLOSED}),
    CaseState.CONFIRMED: frozenset({CaseState.CLOSED}),
    CaseState.REJECTED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}
OWNER_MOVES = frozenset({CaseState.ACKNOWLEDGED, CaseState.CONFIRMED, CaseState.REJECTED})
"""States only the owner's side may move a case to."""
AWAITING_OWNER = frozenset({CaseState.OPEN, CaseState.ACKNOWLEDGED})


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long the owner's side has to answer, by urgency and register."""

    routine: timedelta = timedelta(hours=48)
    urgent: timedelta = timedelta(hours=1)
    per_register: Mapping[RegisterName, tuple[timedelta, timedelta]] = field(default_factory=dict)

    def deadline(self, register: RegisterName, urgent: bool, opened: datetime) -> datetime:
        routine, urgent_span = self.per_register.get(register, (self.routine, self.urgent))
        return opened + (urgent_span if urgent else routine)


@dataclass(frozen=True, slots=True)
class Case:
    """One follow-up between NCBs. ``number`` is what people quote (``PN-2026-000042``)."""

    number: str
    register: RegisterName
    record_key: str
    owner: str
    owner_ncb: str
    enquirer: str
    enquirer_officer: str | None
    enquirer_ncb: str
    urgent: bool
    state: CaseState
    opened: datetime
    deadline: datetime
    updated: datetime
    hit: Mapping[str, Any] = field(default_factory=dict)
    reason: RejectionReason | None = None
    note: str = ""
    escalated: bool = False

    @property
    def parties(self) -> frozenset[str]:
        return frozenset({self.enquirer, self.enquirer_ncb, self.owner, self.owner_ncb})

    @property
    def ncbs(self) -> frozenset[str]:
        """The NCBs working the case (one when the hit was on one's own country's record)."""
        return frozenset({self.enquirer_ncb, self.owner_ncb})

    def visible_to(self, member: Member) -> bool:
        return member.code in self.parties or member.kind is MemberKind.GENERAL_SECRETARIAT

    def owner_side(self, member: Member) -> bool:
        return member.code in (self.owner, self.owner_ncb)


def case_number(year: int, sequence: int) -> str:
    return f"PN-{year}-{sequence:06d}"


def open_case(
    number: str,
    register: RegisterName,
    record_key: str,
    owner: Member,
    enquirer: Member,
    officer: str | None,
    urgent: bool,
    hit: Mapping[str, Any],
    now: datetime,
    policy: DeadlinePolicy,
) -> Case:
    """The case a hit opens. Conflict if the enquirer owns the record (no follow-up needed)."""
    if owner.code == enquirer.code:
        raise Conflict("a hit on one's own record opens no case")
    owner_ncb = owner.ncb_code or owner.code
    enquirer_ncb = enquirer.ncb_code or enquirer.code
    return Case(
        number=number,
        register=register,
        record_key=record_key,
        owner=owner.code,
        owner_ncb=owner_ncb,
        enquirer=enquirer.code,
        enquirer_officer=officer,
        enquirer_ncb=enquirer_ncb,
        urgent=urgent,
        state=CaseState.OPEN,
        opened=now,
        deadline=policy.deadline(register, urgent, now),
        updated=now,
        hit=dict(hit),
    )


def move(
    case: Case,
    actor: Member,
    to: CaseState,
    now: datetime,
    *,
    reason: RejectionReason | None = None,
    note: str = "",
) -> Case:
    """Move ``case`` to ``to`` on behalf of ``actor``; the rules in the module docstring.

    Raises Forbidden when the actor may not make this move, Conflict when the
    move is not allowed from the current state, InvalidField for a missing or
    unexpected reason or an over-long note.
    """
    if not case.visible_to(actor):
        raise Forbidden(f"{actor.code} is not a party to case {case.number}")
    if to not in NEXT_STATES[case.state]:
        allowed = ", ".join(sorted(s.value for s in NEXT_STATES[case.state])) or "none"
        raise Conflict(
            f"case {case.number} is {case.state.value}; it cannot become {to.value} "
            f"(allowed next: {allowed})"
        )
    if to in OWNER_MOVES and not case.owner_side(actor):
        raise Forbidden(f"only the owner's side ({case.owner_ncb}) may mark the hit {to.value}")
    if to is CaseState.CLOSED and actor.code not in case.ncbs:
        raise Forbidden(f"only {' or '.join(sorted(case.ncbs))} may close case {case.number}")
    if to is CaseState.REJECTED and reason is None:
        raise InvalidField("reason", "a rejection needs a reason: " + ", ".join(RejectionReason))
    if to is not CaseState.REJECTED and reason is not None:
        raise InvalidField("reason", f"only a rejection takes a reason, not {to.value}")
    if len(note) > 2000:
        raise InvalidField("note", f"{len(note)} characters; at most 2000")
    return replace(
        case,
        state=to,
        updated=now,
        reason=reason if reason else case.reason,
        note=note or case.note,
    )


def overdue(case: Case, now: datetime) -> bool:
    """True when the owner's side has not answered by the deadline and nobody was told yet."""
    return case.state in AWAITING_OWNER and now >= case.deadline and not case.escalated
