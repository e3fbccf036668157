"""The node's reporting routes, the same for every register with members' records.

``POST <prefix>/records`` (JSON rows, passed to the hub), ``POST <prefix>/load``
(a CSV or NDJSON upload checked here row by row, then streamed to the hub)
and ``GET <prefix>/export`` (this member's own records). Reporting needs the
operator or admin role, or a national-system token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from policenet.node.auth import NodeDep, UserDep, may_report
from policenet.node.uploads import upload_body
from policenet.registers.base import RegisterRules


class Records(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    all_or_nothing: bool = False


def add_reporting_routes(router: APIRouter, rules: RegisterRules) -> None:
    """Add ``/records``, ``/load`` and ``/export`` for ``rules``' register to ``router``."""
    hub_prefix = f"/v1/{rules.register.value}"
    noun = rules.noun

    async def records(body: Records, node: NodeDep, user: UserDep) -> Any:
        may_report(user)
        return await node.hub.post(
            f"{hub_prefix}/records", body.model_dump(), officer=user.identity
        )

    async def load(
        request: Request,
        node: NodeDep,
        user: UserDep,
        format: Annotated[Literal["csv", "ndjson"], Query(description="the body's format")] = "csv",
        all_or_nothing: Annotated[
            bool, Query(description="apply nothing if any row is bad")
        ] = False,
    ) -> dict[str, Any]:
        may_report(user)
        report = await upload_body(
            request.stream(),
            node.settings.directory / "spool",
            node.hub,
            format,
            all_or_nothing=all_or_nothing,
            today=node.clock().date(),
            officer=user.identity,
            rules=rules,
        )
        return report.to_json()

    async def export(
        node: NodeDep,
        user: UserDep,
        format: Annotated[Literal["csv", "ndjson"], Query(description="csv or ndjson")] = "ndjson",
    ) -> StreamingResponse:
        may_report(user)
        stream = node.hub.get_stream(f"{hub_prefix}/export?format={format}", officer=user.identity)
        media = "text/csv" if format == "csv" else "application/x-ndjson"
        return StreamingResponse(stream, media_type=media)

    router.add_api_route(
        "/records",
        records,
        methods=["POST"],
        description=f"Report up to 10,000 {noun} rows (put or remove).",
    )
    router.add_api_route(
        "/load",
        load,
        methods=["POST"],
        description=f"A bulk load of {noun} rows (CSV or NDJSON): checked here, then streamed "
        "to the hub.",
    )
    router.add_api_route(
        "/export",
        export,
        methods=["GET"],
        description=f"This member's own {noun} records, in the form the load reads.",
    )
