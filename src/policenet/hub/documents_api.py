"""The hub's travel documents routes (under ``/v1/documents``).

- ``POST /v1/documents/check``: up to 10,000 documents (numbers or pasted
  MRZs) in one request, answered in the same order; an answer also lists,
  under ``persons``, the persons whose records name the document (for a
  caller that may search the persons register);
- ``POST /v1/documents/records``, ``POST /v1/documents/load`` and
  ``GET /v1/documents/export``: reports, bulk loads (NDJSON of any length,
  applied in batches as it arrives, or in one transaction with
  ``all_or_nothing=true``) and the caller's own records, as for every register
  (:mod:`policenet.hub.reporting_routes`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, Query, Response

from policenet.domain.audit import AuditEntry, Outcome
from policenet.errors import PolicenetError, Unavailable
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.caller import Caller
from policenet.hub.context import HubContext
from policenet.hub.documents import DocumentRules
from policenet.hub.documents_copy import COPY_LABEL, delta_page, snapshot_page
from policenet.hub.reporting_routes import add_reporting_routes
from policenet.registers.documents.index import DocumentProbe
from policenet.registers.documents.record import ROW_FIELDS
from policenet.registers.documents.requests import CheckRequest, probe_for
from policenet.security.signed import sign

router = APIRouter(prefix="/v1/documents")
RULES = DocumentRules()


@router.post("/check", response_class=Response)
def check(body: CheckRequest, hub: HubDep, who: CallerDep) -> Response:
    """Check documents against the register; one answer per document, in order.

    The answer is encoded here, in one call to pydantic's encoder: FastAPI would
    first validate the 10,000 answers of a batch against the return type.
    """
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
        found = hub.documents.check(
            uow, hub.audit, who, probes, now, hub.deadlines, source=source, requests=body.requests
        )
        persons = hub.persons.linked(uow, hub.audit, who, probes, now, hub.deadlines)
    for position, hits, linked in zip(positions, found, persons, strict=True):
        answers[position]["hits"] = [h.to_json() for h in hits]
        if linked:
            answers[position]["persons"] = [h.to_json() for h in linked]
    answer = {"checked_at": now.isoformat(), "source": "live", "answers": answers}
    return Response(pydantic_core.to_json(answer), media_type="application/json")


add_reporting_routes(router, RULES, ROW_FIELDS)


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
    # read without the write lock (a page is thousands of records); the page goes out
    # only once its audit entry is stored
    with hub.store.reading() as view:
        body = snapshot_page(view, who.member, after_key, as_of, now)
    with hub.store.unit_of_work() as uow:
        hub.audit.append(uow, _copy_audit(who, "copy.documents.snapshot", body, now))
    return _signed(hub, body)


@router.get("/copy/delta")
def copy_delta(hub: HubDep, who: CallerDep, after: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
    """A signed page of changes after ``after`` for the caller's offline copy."""
    now = hub.clock()
    with hub.store.reading() as view:
        body = delta_page(view, who.member, after, now)
    if body["records"] or body["removed"]:
        with hub.store.unit_of_work() as uow:
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
