"""The node's case routes (``/api/v1/cases``): the NCB's operators work their cases here.

Every officer may read the cases of their own member (the case number comes
with a hit); moving a case is for operators and administrators.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from policenet.domain.officers import Role
from policenet.node.auth import NodeDep, UserDep, require_role

router = APIRouter(prefix="/api/v1/cases")


@router.get("")
async def list_cases(
    node: NodeDep,
    user: UserDep,
    include_closed: Annotated[bool, Query(description="closed cases too")] = False,
) -> Any:
    """This member's cases, urgent first, then by deadline."""
    return await node.hub.get(
        "/v1/cases", officer=user.identity, params={"include_closed": include_closed}
    )


@router.get("/{number}")
async def show_case(number: str, node: NodeDep, user: UserDep) -> Any:
    """One case with its timeline."""
    return await node.hub.get(f"/v1/cases/{number}", officer=user.identity)


class Transition(BaseModel):
    to: str = Field(description="acknowledged, confirmed, rejected or closed")
    reason: str | None = Field(None, description="not-the-same, record-out-of-date or other")
    note: str = Field("", max_length=2000)


@router.post("/{number}/transition")
async def transition(number: str, body: Transition, node: NodeDep, user: UserDep) -> Any:
    """Move a case (operators and administrators)."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    return await node.hub.post(
        f"/v1/cases/{number}/transition", body.model_dump(exclude_none=True), officer=user.identity
    )
