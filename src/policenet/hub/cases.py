"""Follow-up cases at the hub: opened by hits, moved by the NCBs, escalated at deadlines.

Every change to a case is one transaction with its timeline entry, its
audit entry and the events that tell the parties, so a crash never leaves a
case changed but untold, or told but unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.cases import (
    Case,
    CaseState,
    DeadlinePolicy,
    RejectionReason,
    move,
    open_case,
)
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName
from policenet.errors import NotFound
from policenet.hub.caller import Caller
from policenet.hub.enquiry import members_by_code
from policenet.registers.hits import Hit
from policenet.security.auditlog import AuditLog
from policenet.store.ports import NewEvent, TimelineEntry, UnitOfWork


def case_json(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "register": case.register.value,
        "record_key": case.record_key,
        "owner": case.owner,
        "owner_ncb": case.owner_ncb,
        "enquirer": case.enquirer,
        "enquirer_officer": case.enquirer_officer,
        "enquirer_ncb": case.enquirer_ncb,
        "urgent": case.urgent,
        "state": case.state.value,
        "opened": case.opened.isoformat(),
        "deadline": case.deadline.isoformat(),
        "updated": case.updated.isoformat(),
        "reason": case.reason.value if case.reason else None,
        "note": case.note,
        "escalated": case.escalated,
        "hit": dict(case.hit),
    }


def _news(case: Case, kind: str, skip: str | None = None) -> list[NewEvent]:
    """The events that tell every party (but ``skip``) of ``case``, in party order."""
    payload = case_json(case)
    return [NewEvent(party, kind, payload) for party in sorted(case.parties) if party != skip]


def _tell(uow: UnitOfWork, case: Case, kind: str, now: datetime, skip: str | None = None) -> None:
    uow.events.append_many(_news(case, kind, skip), now)


def _entry(
    member: str,
    officer: str | None,
    action: str,
    case: Case,
    now: datetime,
    outcome: str = Outcome.OK,
    **detail: str | int | bool | None,
) -> AuditEntry:
    return AuditEntry(
        time=now,
        member=member,
        officer=officer,
        action=action,
        outcome=outcome,
        target=case.number,
        detail={"state": case.state.value, **detail},
    )


def _audit(
    uow: UnitOfWork,
    audit: AuditLog,
    member: str,
    officer: str | None,
    action: str,
    case: Case,
    now: datetime,
    outcome: str = Outcome.OK,
    **detail: str | int | bool | None,
) -> None:
    audit.append(uow, _entry(member, officer, action, case, now, outcome, **detail))


def open_cases(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    register: RegisterName,
    hits: Sequence[Hit],
    now: datetime,
    policy: DeadlinePolicy,
    *,
    urgent: bool = False,
    members: Mapping[str, Member] | None = None,
) -> dict[str, str]:
    """Open (or find the open) case for each hit on another member's record.

    Returns record key -> case number. A check that hits the same record again
    while its case is still open adds to that case's timeline instead of
    opening a second one. ``members`` (every member by code) saves reading
    them again when the caller has. The store is written in batches (cases,
    timeline entries, audit entries, events), each in the order of one hit
    at a time.
    """
    if members is None:
        members = members_by_code(uow)
    enquirer = caller.member
    followed: dict[str, tuple[Hit, Member]] = {}  # record key -> its first hit, the owner
    for hit in hits:
        if hit.key in followed or hit.owner == enquirer.code:
            continue
        owner = members.get(hit.owner)
        if owner is not None:
            followed[hit.key] = (hit, owner)
    if not followed:
        return {}
    existing = uow.cases.open_for_many(register.value, list(followed), enquirer.code)
    fresh = [key for key in followed if key not in existing]
    fresh_numbers = dict(zip(fresh, uow.cases.next_numbers(now.year, len(fresh)), strict=True))
    cases: list[Case] = []
    timeline: list[TimelineEntry] = []
    entries: list[AuditEntry] = []
    events: list[NewEvent] = []
    numbers: dict[str, str] = {}
    for key, (hit, owner) in followed.items():
        detail = {"strength": hit.strength.value, "access": hit.access.value}
        found = existing.get(key)
        if found is not None:
            timeline.append(
                TimelineEntry(found.number, now, enquirer.code, caller.officer, "hit-again", detail)
            )
            numbers[key] = found.number
            continue
        number = fresh_numbers[key]
        case = open_case(
            number,
            register,
            key,
            owner,
            enquirer,
            caller.officer,
            urgent,
            {**detail, "explanation": list(hit.explanation), **dict(hit.details)},
            now,
            policy,
        )
        cases.append(case)
        timeline.append(TimelineEntry(number, now, enquirer.code, caller.officer, "opened", detail))
        entries.append(_entry(enquirer.code, caller.officer, "case.open", case, now, key=key))
        events.extend(_news(case, "case.opened"))
        numbers[key] = number
    uow.cases.add_many(cases)
    uow.cases.add_timeline_many(timeline)
    audit.append_many(uow, entries)
    uow.events.append_many(events, now)
    return numbers


def visible_case(uow: UnitOfWork, member: Member, number: str) -> Case:
    """The case, if ``member`` is a party (or the GS); NotFound otherwise (no existence leak)."""
    case = uow.cases.get(number)
    if case is None or not case.visible_to(member):
        raise NotFound(f"no case {number} among {member.code}'s cases")
    return case


def move_case(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    number: str,
    to: CaseState,
    now: datetime,
    *,
    reason: RejectionReason | None = None,
    note: str = "",
) -> Case:
    """Move a case for ``caller``; audited, on the timeline, and told to every party."""
    case = visible_case(uow, caller.member, number)
    moved = move(case, caller.member, to, now, reason=reason, note=note)
    uow.cases.update(moved)
    detail: dict[str, Any] = {"to": to.value}
    if reason:
        detail["reason"] = reason.value
    if note:
        detail["note"] = note
    uow.cases.add_timeline(
        TimelineEntry(number, now, caller.member.code, caller.officer, to.value, detail)
    )
    _audit(
        uow,
        audit,
        caller.member.code,
        caller.officer,
        f"case.{to.value}",
        moved,
        now,
        reason=reason.value if reason else None,
    )
    _tell(uow, moved, "case.changed", now)
    return moved


def escalate_due(uow: UnitOfWork, audit: AuditLog, now: datetime, limit: int = 200) -> int:
    """Escalate cases whose owner did not answer by the deadline; returns how many."""
    due = uow.cases.due(now, limit)
    for case in due:
        escalated = replace(case, escalated=True, updated=now)
        uow.cases.update(escalated)
        uow.cases.add_timeline(
            TimelineEntry(
                case.number, now, "hub", None, "escalated", {"deadline": case.deadline.isoformat()}
            )
        )
        _audit(uow, audit, "hub", None, "case.escalate", escalated, now)
        for ncb in sorted(escalated.ncbs):
            uow.events.append(ncb, "case.escalated", case_json(escalated), now)
    return len(due)


def refuse(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    action: str,
    number: str,
    reason: str,
    now: datetime,
) -> None:
    """Audit a refused case operation (in its own transaction, by the caller)."""
    audit.append(
        uow,
        AuditEntry(
            time=now,
            member=caller.member.code,
            officer=caller.officer,
            action=action,
            outcome=Outcome.REFUSED,
            target=number,
            detail={"reason": reason},
        ),
    )


__all__ = [
    "case_json",
    "escalate_due",
    "move_case",
    "open_cases",
    "refuse",
    "visible_case",
]
