"""The hub's HTTP API (version 1). Every route needs a member certificate.

Handlers are thin: they read the caller set by :class:`~policenet.hub.app.MemberGate`,
call the store or a service inside one unit of work together with the audit
entry, and shape the answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.members import MemberKind
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden, InvalidInput, NotFound
from policenet.hub.admission import apply_scope, public_member
from policenet.hub.caller import Caller
from policenet.hub.context import HubContext
from policenet.security.auditlog import proof_to_json, tree_head_to_json

router = APIRouter(prefix="/v1")


def hub(request: Request) -> HubContext:
    context: HubContext = request.app.state.hub
    return context


def caller(request: Request) -> Caller:
    found: Caller = request.scope["state"]["caller"]
    return found


HubDep = Annotated[HubContext, Depends(hub)]
CallerDep = Annotated[Caller, Depends(caller)]


def _audit(
    hub: HubContext,
    who: Caller,
    action: str,
    outcome: str = Outcome.OK,
    target: str | None = None,
    **detail: str | int | bool | None,
) -> AuditEntry:
    return AuditEntry(
        time=hub.clock(),
        member=who.member.code,
        officer=who.officer,
        action=action,
        outcome=outcome,
        target=target,
        detail=detail,
    )


@router.get("/whoami")
def whoami(hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """The member the presented certificate names, and the officer the node vouched for."""
    with hub.store.unit_of_work() as uow:
        hub.audit.append(uow, _audit(hub, who, "member.whoami", target=who.member.code))
    return {"member": public_member(who.member), "officer": who.officer, "serial": str(who.serial)}


@router.get("/members")
def list_members(hub: HubDep, who: CallerDep) -> list[dict[str, Any]]:
    """The network's directory: every member, with its kind, country, parent and scope."""
    with hub.store.unit_of_work() as uow:
        members = uow.members.list()
        hub.audit.append(uow, _audit(hub, who, "member.list", count=len(members)))
    return [public_member(m) for m in members]


@router.get("/members/{code}")
def show_member(code: str, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    with hub.store.unit_of_work() as uow:
        member = uow.members.get(code)
        outcome = Outcome.OK if member else Outcome.FAILED
        hub.audit.append(uow, _audit(hub, who, "member.show", outcome, target=code))
    if member is None:
        raise NotFound(f"no member with code {code!r}")
    return public_member(member)


class ScopeChange(BaseModel):
    registers: list[RegisterName] = Field(description="registers the agency may search")
    copy_enquiries_to_ncb: bool = Field(False, description="tell the NCB of each enquiry")
    may_report: bool | None = Field(
        None, description="may report records of its country for the NCB (omit to keep)"
    )


@router.put("/members/{code}/scope")
def set_scope(code: str, change: ScopeChange, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """An NCB sets which registers one of its agencies may search."""
    try:
        with hub.store.unit_of_work() as uow:
            changed = apply_scope(
                uow,
                hub.audit,
                who.member.code,
                code,
                frozenset(change.registers),
                change.copy_enquiries_to_ncb,
                hub.clock(),
                officer=who.officer,
                may_report=change.may_report,
            )
    except (Forbidden, NotFound, InvalidInput) as exc:
        with hub.store.unit_of_work() as refusal:
            hub.audit.append(
                refusal,
                _audit(hub, who, "member.scope", Outcome.REFUSED, target=code, reason=exc.message),
            )
        raise
    hub.bell.ring()
    return public_member(changed)


@router.get("/audit/tree-head")
def tree_head(hub: HubDep) -> dict[str, Any]:
    """The latest signed tree head, signing a new one when the log has grown.

    Reading tree heads and proofs is not itself audited: they carry only
    hashes, and auditing them would grow the log on every poll.
    """
    with hub.store.unit_of_work() as uow:
        head = hub.audit.sign_if_grown(uow, hub.clock())
    return tree_head_to_json(head)


@router.get("/audit/public-key")
def audit_public_key(hub: HubDep) -> dict[str, str]:
    """The Ed25519 key that signs tree heads (raw, base64)."""
    raw = hub.audit_public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"algorithm": "Ed25519", "key": base64.b64encode(raw).decode()}


@router.get("/audit/proofs/inclusion")
def inclusion_proof(
    hub: HubDep,
    seq: Annotated[int, Query(ge=0)],
    size: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """Proof that entry ``seq`` is in the tree of ``size`` entries (RFC 9162 2.1.3)."""
    with hub.store.unit_of_work() as uow:
        proof = hub.audit.inclusion_proof(uow, seq, size)
        leaf = uow.audit.entries(seq, seq + 1)[0].leaf_hash
    return {
        "seq": seq,
        "size": size,
        "leaf_hash": base64.b64encode(leaf).decode(),
        "proof": proof_to_json(proof),
    }


@router.get("/audit/proofs/consistency")
def consistency_proof(
    hub: HubDep,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """Proof that the tree of ``first`` entries is a prefix of that of ``second`` (2.1.4)."""
    with hub.store.unit_of_work() as uow:
        proof = hub.audit.consistency_proof(uow, first, second)
    return {"first": first, "second": second, "proof": proof_to_json(proof)}


@router.get("/audit/entries/{seq}")
def audit_entry(seq: int, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """One entry, to a member it concerns: its actor, the actor's NCB, or the GS."""
    with hub.store.unit_of_work() as uow:
        stored = uow.audit.entries(seq, seq + 1)
        if not stored:
            raise NotFound(f"no audit entry {seq}")
        entry = AuditEntry.from_canonical(stored[0].canonical)
        actor = uow.members.get(entry.member) if entry.member else None
        allowed = (
            who.member.kind is MemberKind.GENERAL_SECRETARIAT
            or entry.member == who.member.code
            or (actor is not None and actor.parent == who.member.code)
        )
        outcome = Outcome.OK if allowed else Outcome.REFUSED
        hub.audit.append(uow, _audit(hub, who, "audit.entry", outcome, target=str(seq)))
    if not allowed:
        raise Forbidden(f"audit entry {seq} does not concern {who.member.code}")
    return {
        "seq": seq,
        "leaf_hash": base64.b64encode(stored[0].leaf_hash).decode(),
        "canonical": stored[0].canonical.decode(),
    }


@router.get("/crl")
def crl(hub: HubDep) -> Response:
    """The current certificate revocation list (PEM)."""
    path = hub.settings.ca_dir / "crl.pem"
    return Response(path.read_bytes(), media_type="application/pkix-crl")


@router.get("/events")
async def events(
    hub: HubDep, who: CallerDep, after: Annotated[int, Query(ge=0)] = 0
) -> StreamingResponse:
    """The member's events with ids above ``after``, as a never-ending NDJSON stream.

    Each line is one event (see :class:`policenet.domain.events.Event`) or a
    heartbeat ``{"heartbeat": time}``. A consumer resumes by reconnecting with
    the last id it applied.
    """

    def subscribe() -> None:
        with hub.store.unit_of_work() as uow:
            hub.audit.append(uow, _audit(hub, who, "events.subscribe", after=after))

    await run_in_threadpool(subscribe)
    return StreamingResponse(_event_lines(hub, who, after), media_type="application/x-ndjson")


async def _event_lines(hub: HubContext, who: Caller, after: int) -> AsyncIterator[str]:
    last = after
    quiet = 0.0
    poll = 0.5

    def fetch() -> list[str]:
        with hub.store.reading() as uow:
            member = uow.members.get(who.member.code)
            cert = uow.certificates.get(who.serial)
            if member is None or not member.active or cert is None or cert.revoked_at:
                raise Forbidden(f"member {who.member.code} or its certificate is revoked")
            return [e.to_json() for e in uow.events.after(who.member.code, last, 200)]

    # a heartbeat at once tells the node the stream is open, even with nothing new to send
    yield json.dumps({"heartbeat": hub.clock().isoformat()}) + "\n"
    while True:
        try:
            lines = await run_in_threadpool(fetch)
        except Forbidden:
            return
        for line in lines:
            last = json.loads(line)["id"]
            yield line + "\n"
        if lines:
            quiet = 0.0
            continue
        await hub.bell.wait(poll)
        quiet += poll
        if quiet >= hub.settings.event_heartbeat_seconds:
            quiet = 0.0
            yield json.dumps({"heartbeat": hub.clock().isoformat()}) + "\n"
        await asyncio.sleep(0)
