"""The node's routes over its member's records: what is due, extensions, who hit them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from policenet.domain.officers import Role
from policenet.node.auth import NodeDep, UserDep, require_role

router = APIRouter(prefix="/api/v1")


@router.get("/records/{register}/due")
async def records_due(
    register: str,
    node: NodeDep,
    user: UserDep,
    days: Annotated[int, Query(ge=0, le=3660)] = 183,
) -> Any:
    """This member's records expiring or due for review within ``days``."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    return await node.hub.get(
        f"/v1/records/{register}/due", officer=user.identity, params={"days": days}
    )


class Extension(BaseModel):
    expires: str = Field(description="the new expiry date, yyyy-mm-dd")
    reason: str = Field(min_length=1, max_length=500)


@router.post("/records/{register}/{key}/extend")
async def extend_record(
    register: str, key: str, body: Extension, node: NodeDep, user: UserDep
) -> Any:
    """Give one of this member's records a later expiry, with a reason."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    return await node.hub.post(
        f"/v1/records/{register}/{key}/extend", body.model_dump(), officer=user.identity
    )


@router.get("/oversight/enquiries")
async def oversight(
    node: NodeDep,
    user: UserDep,
    after: Annotated[int, Query(ge=-1)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Who searched and hit this member's records (an NCB: its agencies' too)."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    return await node.hub.get(
        "/v1/oversight/enquiries", officer=user.identity, params={"after": after, "limit": limit}
    )
