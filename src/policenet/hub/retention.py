"""Retention of records: reminders before expiry and review, extensions, removal on schedule.

Owners are reminded (an event to the owner and its NCB) a configurable time
before a record expires (six months by default, per register if set) and
before its review is due; a changed date reminds again. An owner (or its
NCB) may extend a record with a reason. An expired record stops matching at
once (the access decision) and is removed after a grace period.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from policenet.domain.access import is_owner_side
from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden, InvalidField, NotFound
from policenet.hub.caller import Caller
from policenet.security.auditlog import AuditLog
from policenet.store.ports import RecordPut, StoredRecord, UnitOfWork

RETAINED = (RegisterName.DOCUMENTS,)
"""Registers with records today; each new register joins this list."""


def _tell_owner(
    uow: UnitOfWork, stored: StoredRecord, kind: str, now: datetime, **payload: Any
) -> None:
    owner = uow.members.get(stored.envelope.owner)
    recipients = {stored.envelope.owner, owner.ncb_code if owner else None}
    body = {
        "register": stored.register,
        "key": stored.key,
        "owner": stored.envelope.owner,
        "expires": stored.envelope.expires.isoformat() if stored.envelope.expires else None,
        "review_due": (
            stored.envelope.review_due.isoformat() if stored.envelope.review_due else None
        ),
        **payload,
    }
    for recipient in sorted(r for r in recipients if r):
        uow.events.append(recipient, kind, body, now)


def remind(
    uow: UnitOfWork,
    now: datetime,
    expiry_notice: dict[RegisterName, timedelta],
    review_notice: timedelta,
    limit: int = 1000,
) -> int:
    """Send due expiry and review reminders; returns how many were sent."""
    sent = 0
    for register in RETAINED:
        notice = expiry_notice[register]
        for stored in uow.records.expiring(register.value, now + notice, limit):
            _tell_owner(uow, stored, "record.expiry-reminder", now)
            uow.records.mark_reminded(register.value, stored.key, expiry=True)
            sent += 1
        for stored in uow.records.reviews_due(register.value, now + review_notice, limit):
            _tell_owner(uow, stored, "record.review-reminder", now)
            uow.records.mark_reminded(register.value, stored.key, expiry=False)
            sent += 1
    return sent


def purge(
    uow: UnitOfWork, audit: AuditLog, now: datetime, grace: timedelta, limit: int = 5000
) -> int:
    """Remove records expired for longer than ``grace``; audited, owners told."""
    removed = 0
    for register in RETAINED:
        keys = uow.records.expired(register.value, now - grace, limit)
        if not keys:
            continue
        stored = uow.records.get_many(register.value, keys)
        uow.records.remove_many(register.value, keys, now)
        for record in stored.values():
            _tell_owner(uow, record, "record.removed", now, reason="expired")
        audit.append(
            uow,
            AuditEntry(
                time=now,
                member="hub",
                action=f"records.{register.value}.purge",
                outcome=Outcome.OK,
                detail={"removed": len(keys), "grace_days": grace.days},
            ),
        )
        removed += len(keys)
    return removed


def owned_record(uow: UnitOfWork, caller: Caller, register: RegisterName, key: str) -> StoredRecord:
    """The record, if the caller is its owner or the owner's NCB; NotFound otherwise."""
    stored = uow.records.get_many(register.value, [key]).get(key)
    if stored is None:
        raise NotFound(f"no {register.value} record {key}")
    owner = uow.members.get(stored.envelope.owner)
    if not is_owner_side(caller.member, stored.envelope, owner):
        raise NotFound(f"no {register.value} record {key} among {caller.member.code}'s records")
    return stored


def extend(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    register: RegisterName,
    key: str,
    expires: date,
    reason: str,
    now: datetime,
) -> StoredRecord:
    """Give a record a later expiry (and push its review a year on); audited with the reason."""
    reason = reason.strip()
    if not reason:
        raise InvalidField("reason", "an extension needs a reason")
    if len(reason) > 500:
        raise InvalidField("reason", f"{len(reason)} characters; at most 500")
    new_expiry = datetime.combine(expires, time(), tzinfo=UTC)
    if new_expiry <= now:
        raise InvalidField("expires", f"{expires.isoformat()} is not in the future")
    stored = owned_record(uow, caller, register, key)
    if stored.envelope.expires is None:
        raise InvalidField("expires", f"{key} does not expire: there is nothing to extend")
    if new_expiry <= stored.envelope.expires:
        raise InvalidField(
            "expires",
            f"{expires.isoformat()} is not after the current expiry "
            f"{stored.envelope.expires.date().isoformat()}",
        )
    envelope = replace(stored.envelope, expires=new_expiry, review_due=now + timedelta(days=365))
    uow.records.put_many(register.value, [RecordPut(key, stored.payload, envelope)], now)
    audit.append(
        uow,
        AuditEntry(
            time=now,
            member=caller.member.code,
            officer=caller.officer,
            action=f"record.{register.value}.extend",
            outcome=Outcome.OK,
            target=key,
            detail={"expires": expires.isoformat(), "reason": reason},
        ),
    )
    return replace(stored, envelope=envelope, updated=now)


def due_for(
    uow: UnitOfWork,
    caller: Caller,
    register: RegisterName,
    within: timedelta,
    now: datetime,
    limit: int = 500,
) -> list[StoredRecord]:
    """The caller's records (and its agencies') expiring or due for review within ``within``."""
    if within > timedelta(days=3660):
        raise InvalidField("days", "at most ten years ahead")
    members = {m.code: m for m in uow.members.list()}
    found: list[StoredRecord] = []
    horizon = now + within
    # a scan of the register: fine for the reminders page of one member, and the
    # reminder job itself uses the indexed queries (expiring, reviews_due)
    after = ""
    while keys := uow.records.keys(register.value, after, 5000):
        after = keys[-1]
        for stored in uow.records.get_many(register.value, keys).values():
            env = stored.envelope
            soon = (env.expires is not None and env.expires <= horizon) or (
                env.review_due is not None and env.review_due <= horizon
            )
            if soon and is_owner_side(caller.member, env, members.get(env.owner)):
                found.append(stored)

    def first_date(record: StoredRecord) -> datetime:
        dates = [d for d in (record.envelope.expires, record.envelope.review_due) if d]
        return min(dates) if dates else horizon

    return sorted(found, key=first_date)[:limit]


__all__ = ["Forbidden", "due_for", "extend", "owned_record", "purge", "remind"]
