"""The hub's case routes (``/v1/cases``): a party lists, reads and moves its cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from policenet.domain.cases import CaseState, RejectionReason
from policenet.errors import Conflict, Forbidden, InvalidInput, NotFound
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.cases import case_json, move_case, refuse, visible_case

router = APIRouter(prefix="/v1/cases")


@router.get("")
def list_cases(
    hub: HubDep,
    who: CallerDep,
    include_closed: Annotated[bool, Query(description="closed cases too")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """The caller's cases, urgent first, then by deadline."""
    with hub.store.unit_of_work() as uow:
        cases = uow.cases.for_member(who.member.code, include_closed, limit)
    return [case_json(c) for c in cases]


@router.get("/{number}")
def show_case(number: str, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """One case with its timeline, to a party (or the General Secretariat)."""
    with hub.store.unit_of_work() as uow:
        case = visible_case(uow, who.member, number)
        timeline = uow.cases.timeline(number)
    return {
        **case_json(case),
        "timeline": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "officer": e.officer,
                "action": e.action,
                "detail": dict(e.detail),
            }
            for e in timeline
        ],
    }


class Transition(BaseModel):
    to: CaseState = Field(description="acknowledged, confirmed, rejected or closed")
    reason: RejectionReason | None = Field(None, description="why a hit is rejected")
    note: str = Field("", max_length=2000, description="free text for the timeline")


@router.post("/{number}/transition")
def transition(number: str, body: Transition, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Move a case: the owner's side acknowledges, confirms or rejects; an NCB closes."""
    now = hub.clock()
    try:
        with hub.store.unit_of_work() as uow:
            moved = move_case(
                uow, hub.audit, who, number, body.to, now, reason=body.reason, note=body.note
            )
    except (Forbidden, Conflict, InvalidInput, NotFound) as exc:
        with hub.store.unit_of_work() as uow:
            refuse(uow, hub.audit, who, f"case.{body.to.value}", number, exc.message, now)
        raise
    hub.bell.ring()
    return case_json(moved)
