"""The node's travel documents routes for officers and national systems (``/api/v1/documents``).

Checks go to the hub through the tunnel with the caller's identity. Reports
and bulk loads are for NCB operators, administrators and national systems
(a national stolen-documents database feeding the register); plain officers
check only. A bulk load is checked row by row here first
(:mod:`policenet.node.uploads`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from policenet.domain.officers import Role
from policenet.errors import Forbidden
from policenet.node.auth import NodeDep, NodeUser, UserDep
from policenet.node.uploads import upload_file
from policenet.registers.documents.requests import CheckRequest, RecordsRequest

router = APIRouter(prefix="/api/v1/documents")


def _may_report(user: NodeUser) -> None:
    if not (user.is_system or user.role in (Role.OPERATOR, Role.ADMIN)):
        raise Forbidden(
            f"reporting documents needs the operator or admin role, or a national-system "
            f"token; {user.identity} may only check"
        )


@router.post("/check")
async def check(body: CheckRequest, node: NodeDep, user: UserDep) -> Any:
    """Check up to 10,000 documents; the answers come back in the same order."""
    return await node.hub.post(
        "/v1/documents/check", body.model_dump(exclude_none=True), officer=user.identity
    )


@router.post("/records")
async def records(body: RecordsRequest, node: NodeDep, user: UserDep) -> Any:
    """Report up to 10,000 rows (put or remove) to the register."""
    _may_report(user)
    return await node.hub.post("/v1/documents/records", body.model_dump(), officer=user.identity)


@router.post("/load")
async def load(
    request: Request,
    node: NodeDep,
    user: UserDep,
    format: Annotated[Literal["csv", "ndjson"], Query(description="the body's format")] = "csv",
    all_or_nothing: Annotated[bool, Query(description="apply nothing if any row is bad")] = False,
) -> dict[str, Any]:
    """A bulk load (CSV or NDJSON body of any size): checked here, then streamed to the hub."""
    _may_report(user)
    spool_dir = node.settings.directory / "spool"
    spool_dir.mkdir(exist_ok=True, mode=0o700)
    with tempfile.NamedTemporaryFile(dir=spool_dir) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.flush()
        report = await upload_file(
            node.hub,
            Path(spool.name),
            format,
            all_or_nothing=all_or_nothing,
            today=node.clock().date(),
            officer=user.identity,
        )
    return report.to_json()
