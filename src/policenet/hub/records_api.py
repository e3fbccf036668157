"""Owners' routes over their records: retention and oversight.

- ``GET /v1/records/{register}/due``: the caller's records expiring or due
  for review soon (the "records the NCB owns" list with its reminders);
- ``POST /v1/records/{register}/{key}/extend``: a later expiry, with a reason;
- ``GET /v1/oversight/enquiries``: who searched and hit the caller's records
  (read from the audit log).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.members import MemberKind
from policenet.domain.registers import RegisterName
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.retention import due_for, extend
from policenet.store.ports import StoredRecord

router = APIRouter(prefix="/v1")


def _record_json(stored: StoredRecord) -> dict[str, Any]:
    env = stored.envelope
    return {
        "register": stored.register,
        "key": stored.key,
        "owner": env.owner,
        "record": dict(stored.payload),
        "created": env.created.isoformat(),
        "updated": stored.updated.isoformat(),
        "expires": env.expires.isoformat() if env.expires else None,
        "review_due": env.review_due.isoformat() if env.review_due else None,
        "mode": env.mode.value,
        "caveats": env.caveats,
    }


@router.get("/records/{register}/due")
def records_due(
    register: RegisterName,
    hub: HubDep,
    who: CallerDep,
    days: Annotated[int, Query(ge=0, le=3660, description="look this far ahead")] = 183,
) -> list[dict[str, Any]]:
    """The caller's records (an NCB: with its agencies') expiring or due for review soon."""
    now = hub.clock()
    with hub.store.unit_of_work() as uow:
        found = due_for(uow, who, register, timedelta(days=days), now)
        hub.audit.append(
            uow,
            AuditEntry(
                time=now,
                member=who.member.code,
                officer=who.officer,
                action=f"records.{register.value}.due",
                outcome=Outcome.OK,
                detail={"count": len(found), "days": days},
            ),
        )
    return [_record_json(r) for r in found]


class Extension(BaseModel):
    expires: date = Field(description="the new expiry date")
    reason: str = Field(min_length=1, max_length=500, description="why the record stays")


@router.post("/records/{register}/{key}/extend")
def extend_record(
    register: RegisterName, key: str, body: Extension, hub: HubDep, who: CallerDep
) -> dict[str, Any]:
    """Give one of the caller's records a later expiry; the reason goes into the audit log."""
    with hub.store.unit_of_work() as uow:
        stored = extend(uow, hub.audit, who, register, key, body.expires, body.reason, hub.clock())
    hub.bell.ring()
    return _record_json(stored)


@router.get("/oversight/enquiries")
def enquiries_on_my_records(
    hub: HubDep,
    who: CallerDep,
    after: Annotated[int, Query(ge=-1, description="audit entries after this seq")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Who searched and hit the caller's records (an NCB: its agencies' too), from the audit log.

    Each item is one enquiry that hit: when, which member and officer, and
    which of the caller's records it hit. ``next`` resumes the listing.
    """
    now = hub.clock()
    with hub.store.unit_of_work() as uow:
        mine = {who.member.code}
        if who.member.kind is MemberKind.NCB:
            mine |= {m.code for m in uow.members.list() if m.parent == who.member.code}
        size = uow.audit.size()
        items: list[dict[str, Any]] = []
        seq = after + 1
        while seq < size and len(items) < limit:
            for stored in uow.audit.entries(seq, min(size, seq + 1000)):
                seq = stored.seq + 1
                entry = AuditEntry.from_canonical(stored.canonical)
                keys = _keys_of(entry, mine)
                if not keys:
                    continue
                last = items[-1] if items else None
                if last and (last["member"], last["officer"], last["time"]) == (
                    entry.member,
                    entry.officer,
                    entry.time.isoformat(),
                ):
                    last["keys"] += keys  # the same enquiry hit more of the caller's records
                    continue
                items.append(
                    {
                        "seq": stored.seq,
                        "time": entry.time.isoformat(),
                        "member": entry.member,
                        "officer": entry.officer,
                        "action": "enquiry." + entry.action.removeprefix("hit."),
                        "keys": keys,
                    }
                )
                if len(items) >= limit:
                    break
        hub.audit.append(
            uow,
            AuditEntry(
                time=now,
                member=who.member.code,
                officer=who.officer,
                action="oversight.enquiries",
                outcome=Outcome.OK,
                detail={"after": after, "count": len(items)},
            ),
        )
    return {"items": items, "next": seq - 1}


def _keys_of(entry: AuditEntry, owners: set[str]) -> list[str]:
    """The keys an enquiry hit among ``owners``' records (its per-owner ``hit.*`` entries)."""
    if not entry.action.startswith("hit.") or entry.target not in owners:
        return []
    return [k for k in str(entry.detail.get("keys") or "").split(",") if k]
