"""The hub's travel documents routes (under ``/v1/documents``).

- ``POST /v1/documents/check``: up to 10,000 documents (numbers or pasted
  MRZs) in one request, answered in the same order; an answer also lists,
  under ``persons``, the persons whose records name the document (for a
  caller that may search the persons register);
- ``POST /v1/documents/records``: up to 10,000 rows reported (put or remove) in
  one JSON request;
- ``POST /v1/documents/load``: a stream of NDJSON rows of any length (a bulk
  load forwarded by a node), applied in batches as it arrives, or in one
  transaction with ``all_or_nothing=true``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from policenet.domain.audit import AuditEntry, Outcome
from policenet.errors import PolicenetError, Unavailable
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.caller import Caller
from policenet.hub.context import HubContext
from policenet.hub.documents import DocumentRules
from policenet.hub.documents_copy import COPY_LABEL, delta_page, snapshot_page
from policenet.hub.reporting import apply_load, load_request, rows_from_json
from policenet.registers.documents.index import DocumentProbe
from policenet.registers.documents.requests import CheckRequest, RecordsRequest, probe_for
from policenet.security.signed import sign

router = APIRouter(prefix="/v1/documents")
RULES = DocumentRules()


@router.post("/check")
def check(body: CheckRequest, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Check documents against the register; one answer per document, in order."""
    now = hub.clock()
    probes: list[DocumentProbe] = []
    positions: list[int] = []
    answers: list[dict[str, Any]] = [{"index": i} for i in range(len(body.documents))]
    for i, item in enumerate(body.documents):
        try:
            probes.append(probe_for(item, body.tolerant, now.date()))
            positions.append(i)
        except PolicenetError as exc:
            answers[i]["error"] = exc.message
    with hub.store.unit_of_work() as uow:
        source = (
            f"offline-recheck (answered offline at {body.answered_offline_at.isoformat()})"
            if body.answered_offline_at
            else "live"
        )
        found = hub.documents.check(uow, hub.audit, who, probes, now, hub.deadlines, source=source)
        persons = hub.persons.linked(uow, hub.audit, who, probes, now, hub.deadlines)
    for position, hits, linked in zip(positions, found, persons, strict=True):
        answers[position]["hits"] = [h.to_json() for h in hits]
        if linked:
            answers[position]["persons"] = [h.to_json() for h in linked]
    return {"checked_at": now.isoformat(), "source": "live", "answers": answers}


@router.post("/records")
def records(body: RecordsRequest, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Report up to 10,000 rows (``op`` put or remove) as JSON objects."""
    report = apply_load(hub, who, RULES, rows_from_json(body.rows), body.all_or_nothing)
    hub.bell.ring()
    return report.to_json()


@router.post("/load")
async def load(
    request: Request,
    hub: HubDep,
    who: CallerDep,
    all_or_nothing: Annotated[bool, Query(description="apply nothing if any row is bad")] = False,
) -> dict[str, Any]:
    """Apply an NDJSON stream of rows (each may carry its file ``line``); report what happened.

    The body is spooled to a temporary file as it arrives, so a load of any
    size uses bounded memory; a connection lost mid-upload applies nothing.
    """
    report = await load_request(request, hub, who, RULES, all_or_nothing)
    return report.to_json()


def _signed(hub: HubContext, body: dict[str, Any]) -> dict[str, Any]:
    if hub.signing_key is None:
        raise Unavailable("this hub cannot sign copies (no signing key loaded)")
    return {"body": body, "signature": sign(hub.signing_key, COPY_LABEL, body)}


@router.get("/copy/snapshot")
def copy_snapshot(
    hub: HubDep,
    who: CallerDep,
    after_key: Annotated[str, Query(max_length=160)] = "",
    as_of: Annotated[int | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    """A signed page of the documents the caller may see, for its node's offline copy."""
    now = hub.clock()
    if hub.signing_key is None:
        raise Unavailable("this hub cannot sign copies (no signing key loaded)")
    with hub.store.unit_of_work() as uow:
        body = snapshot_page(uow, who.member, after_key, as_of, now)
        hub.audit.append(uow, _copy_audit(who, "copy.documents.snapshot", body, now))
    return _signed(hub, body)


@router.get("/copy/delta")
def copy_delta(hub: HubDep, who: CallerDep, after: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
    """A signed page of changes after ``after`` for the caller's offline copy."""
    now = hub.clock()
    with hub.store.unit_of_work() as uow:
        body = delta_page(uow, who.member, after, now)
        if body["records"] or body["removed"]:
            hub.audit.append(uow, _copy_audit(who, "copy.documents.delta", body, now))
    return _signed(hub, body)


def _copy_audit(who: Caller, action: str, body: dict[str, Any], now: datetime) -> AuditEntry:
    return AuditEntry(
        time=now,
        member=who.member.code,
        officer=who.officer,
        action=action,
        outcome=Outcome.OK,
        detail={"records": len(body["records"]), "removed": len(body.get("removed", ()))},
    )
