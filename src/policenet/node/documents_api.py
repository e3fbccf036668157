"""The node's travel documents routes for officers and national systems (``/api/v1/documents``).

Checks go to the hub through the tunnel with the caller's identity. Reports
and bulk loads are for NCB operators, administrators and national systems
(a national stolen-documents database feeding the register); plain officers
check only. A bulk load is checked row by row here first
(:mod:`policenet.node.uploads`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic_core
from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from policenet.errors import PolicenetError, Unavailable
from policenet.node.auth import NodeDep, NodeUser, UserDep
from policenet.node.context import NodeContext
from policenet.node.offline import OfflineCopy
from policenet.node.reporting_routes import add_reporting_routes
from policenet.registers.documents.index import DocumentProbe
from policenet.registers.documents.requests import CheckRequest, probe_for
from policenet.registers.documents.rules import DocumentRules

router = APIRouter(prefix="/api/v1/documents")


@router.post("/check")
async def check(body: CheckRequest, node: NodeDep, user: UserDep) -> Response:
    """Check up to 10,000 documents; the answers come back in the same order.

    Checks of one caller that arrive while another of its checks is with the hub
    go to the hub together (:mod:`policenet.node.coalescing`).

    When the hub cannot be reached and the node keeps an offline copy, the
    answer comes from the copy: ``source`` is ``"copy"`` and ``copy_age_seconds``
    says how old it is. Hits found there are re-checked with the hub later.
    """
    return Response(await answer_check(node, user, body), media_type="application/json")


async def answer_check(node: NodeContext, user: NodeUser, body: CheckRequest) -> bytes:
    """The answer to ``body`` for ``user`` as JSON: the hub's, passed on as it came, or
    the offline copy's when the hub cannot be reached (Unavailable if there is none)."""
    try:
        return await node.checks.check(user.identity, body.documents, tolerant=body.tolerant)
    except Unavailable as exc:
        if node.copy is None or node.copy.synced_at() is None:
            raise Unavailable(
                f"{exc.message}; this node has no offline copy to answer from"
            ) from None
        copy = node.copy
        answer = await run_in_threadpool(_from_copy, copy, body, user.identity, node.clock())
        return pydantic_core.to_json(answer)


def _from_copy(
    copy: OfflineCopy, body: CheckRequest, officer: str, now: datetime
) -> dict[str, Any]:
    answers: list[dict[str, Any]] = [{"index": i} for i in range(len(body.documents))]
    probes: list[DocumentProbe] = []
    items: list[dict[str, Any]] = []
    positions: list[int] = []
    for i, item in enumerate(body.documents):
        try:
            probes.append(probe_for(item, body.tolerant, now.date()))
            items.append({k: v for k, v in item.items() if v is not None})
            positions.append(i)
        except PolicenetError as exc:
            answers[i]["error"] = exc.message
    found = copy.answer(probes, items, officer, tolerant=body.tolerant)
    for position, hits in zip(positions, found, strict=True):
        answers[position]["hits"] = [h.to_json() for h in hits]
    synced = copy.synced_at()
    return {
        "checked_at": now.isoformat(),
        "source": "copy",
        "copy_synced_at": synced.isoformat() if synced else None,
        "copy_age_seconds": round((now - synced).total_seconds()) if synced else None,
        "answers": answers,
    }


add_reporting_routes(router, DocumentRules())
