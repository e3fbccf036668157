"""What every register's enquiry has in common: access, hits, audit, notifications.

An index finds candidates; this module turns them into hits. For each
candidate the stored record's envelope goes through
:func:`policenet.domain.access.decide`: an invisible record is dropped as if
the index had not found it, a reference-only record shows its reference,
owner and "contact your NCB" but no data. Every enquiry is one audit entry,
and each hit on another member's record is told to the owner's NCB and to
the enquirer's NCB (the follow-up starts there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from policenet.domain.access import Access, decide
from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden
from policenet.hub.caller import Caller
from policenet.registers.base import Candidate
from policenet.registers.hits import Hit
from policenet.security.auditlog import AuditLog
from policenet.store.ports import NewEvent, UnitOfWork

MAX_AUDITED_KEYS = 100
"""Hit keys in one ``hit.*`` audit entry; more keys of one owner take more entries."""


def require_register(member: Member, register: RegisterName) -> None:
    """Forbidden unless the member may search ``register``."""
    if register not in member.registers:
        raise Forbidden(
            f"{member.code} may not search the {register.value} register "
            "(its NCB sets which registers it may search)"
        )


def members_by_code(uow: UnitOfWork) -> dict[str, Member]:
    """Every member, by code: read once per check and passed to :func:`resolve`,
    :func:`record_enquiry` and :func:`policenet.hub.cases.open_cases`."""
    return {m.code: m for m in uow.members.list()}


def resolve(
    uow: UnitOfWork,
    member: Member,
    register: RegisterName,
    candidates: Sequence[Sequence[Candidate]],
    now: datetime,
    *,
    members: Mapping[str, Member] | None = None,
) -> list[list[Hit]]:
    """Turn each probe's candidates into the hits ``member`` may see, in the same order.

    ``members`` (every member by code) saves reading them again when the caller has.
    """
    keys = sorted({c.key for found in candidates for c in found})
    stored = uow.records.get_many(register.value, keys) if keys else {}
    if members is None:
        members = members_by_code(uow) if stored else {}
    answers: list[list[Hit]] = []
    for found in candidates:
        hits: list[Hit] = []
        for candidate in found:
            record = stored.get(candidate.key)
            if record is None:
                continue  # removed since the index was refreshed
            owner = members.get(record.envelope.owner)
            access = decide(member, record.envelope, register, now, owner)
            if access is Access.INVISIBLE:
                continue
            hits.append(
                Hit(
                    register=register,
                    key=candidate.key,
                    owner=record.envelope.owner,
                    owner_name=owner.name if owner else record.envelope.owner,
                    owner_country=owner.country if owner else None,
                    access=access,
                    strength=candidate.strength,
                    score=candidate.score,
                    explanation=candidate.explanation,
                    record=record.payload if access is Access.FULL else None,
                    caveats=record.envelope.caveats,
                )
            )
        answers.append(hits)
    return answers


def record_enquiry(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    register: RegisterName,
    probes: int,
    answers: Sequence[Sequence[Hit]],
    now: datetime,
    *,
    source: str = "live",
    members: Mapping[str, Member] | None = None,
    requests: int = 1,
) -> None:
    """Audit one enquiry and tell the NCBs concerned of each hit (in the caller's transaction).

    ``members`` (every member by code) saves reading them again when the caller has.
    ``requests`` is how many checks of the caller a node merged into this one (said in
    the entry's detail when more than one).
    The entries and the events are written in batches, in the order of one at a time.
    """
    hits = [h for found in answers for h in found]
    keys = sorted({h.key for h in hits})
    entries = [
        AuditEntry(
            time=now,
            member=caller.member.code,
            officer=caller.officer,
            action=f"enquiry.{register.value}",
            outcome=Outcome.HIT if hits else Outcome.NO_HIT,
            target=keys[0] if len(keys) == 1 else None,
            detail={
                "probes": probes,
                "hits": len(hits),
                "keys": ",".join(keys[:MAX_AUDITED_KEYS]),  # all of them are in the hit.* entries
                "owners": ",".join(sorted({h.owner for h in hits})),
                "source": source,
                **({"requests": requests} if requests > 1 else {}),
            },
        )
    ]
    # one entry per owner whose records were hit, so that every owner can list who hit
    # its records (GET /v1/oversight/enquiries) however many owners one check touched
    owned_by: dict[str, set[str]] = {}
    for hit in hits:
        owned_by.setdefault(hit.owner, set()).add(hit.key)
    for owner_code in sorted(owned_by):
        owned = sorted(owned_by[owner_code])
        for start in range(0, len(owned), MAX_AUDITED_KEYS):
            entries.append(
                AuditEntry(
                    time=now,
                    member=caller.member.code,
                    officer=caller.officer,
                    action=f"hit.{register.value}",
                    outcome=Outcome.HIT,
                    target=owner_code,
                    detail={
                        "count": len(owned),
                        "keys": ",".join(owned[start : start + MAX_AUDITED_KEYS]),
                        "source": source,
                    },
                )
            )
    audit.append_many(uow, entries)
    enquirer = caller.member
    if hits and members is None:
        members = members_by_code(uow)
    events: list[NewEvent] = []
    told: set[tuple[str, str]] = set()
    for hit in hits:
        payload: dict[str, Any] | None = None
        owner = members.get(hit.owner) if members else None
        recipients = {enquirer.ncb_code}
        if hit.owner != enquirer.code:
            recipients |= {hit.owner, owner.ncb_code if owner else None}
        for recipient in sorted(r for r in recipients if r and r != enquirer.code):
            if (recipient, hit.key) not in told:
                told.add((recipient, hit.key))
                if payload is None:
                    payload = {
                        "register": register.value,
                        "key": hit.key,
                        "owner": hit.owner,
                        "enquirer": enquirer.code,
                        "officer": caller.officer,
                        "strength": hit.strength.value,
                        "access": hit.access.value,
                    }
                events.append(NewEvent(recipient, "register.hit", payload))
    if enquirer.copy_enquiries_to_ncb and enquirer.parent:
        events.append(
            NewEvent(
                enquirer.parent,
                "agency.enquiry",
                {
                    "register": register.value,
                    "enquirer": enquirer.code,
                    "officer": caller.officer,
                    "probes": probes,
                    "hits": len(hits),
                },
            )
        )
    uow.events.append_many(events, now)
