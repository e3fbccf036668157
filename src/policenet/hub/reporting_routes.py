"""The reporting routes every register with records of its members' has, made once.

``POST <prefix>/records`` (up to 10,000 JSON rows), ``POST <prefix>/load``
(an NDJSON stream forwarded by a node) and ``GET <prefix>/export`` (the
caller's own records in the form the load reads) behave the same for every
register; what differs is in the register's rules and its export columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from policenet.domain.audit import AuditEntry, Outcome
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.export import Rows, csv_lines, ndjson_lines, own_records
from policenet.hub.reporting import apply_load, load_request, rows_from_json
from policenet.registers.base import RegisterRules


class Records(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    all_or_nothing: bool = Field(False, description="apply no row unless every row is good")


def add_reporting_routes(
    router: APIRouter,
    rules: RegisterRules,
    csv_fields: Sequence[str],
    to_row: Rows | None = None,
) -> None:
    """Add ``/records``, ``/load`` and ``/export`` for ``rules``' register to ``router``."""
    register = rules.register
    noun = rules.noun

    def records(body: Records, hub: HubDep, who: CallerDep) -> dict[str, Any]:
        report = apply_load(hub, who, rules, rows_from_json(body.rows), body.all_or_nothing)
        hub.bell.ring()
        return report.to_json()

    async def load(
        request: Request,
        hub: HubDep,
        who: CallerDep,
        all_or_nothing: Annotated[
            bool, Query(description="apply nothing if any row is bad")
        ] = False,
    ) -> dict[str, Any]:
        report = await load_request(request, hub, who, rules, all_or_nothing)
        return report.to_json()

    def export(
        hub: HubDep,
        who: CallerDep,
        format: Annotated[Literal["csv", "ndjson"], Query(description="csv or ndjson")] = "ndjson",
    ) -> StreamingResponse:
        with hub.store.unit_of_work() as uow:
            hub.audit.append(
                uow,
                AuditEntry(
                    time=hub.clock(),
                    member=who.member.code,
                    officer=who.officer,
                    action=f"records.{register.value}.export",
                    outcome=Outcome.OK,
                    detail={"format": format},
                ),
            )
        stored = own_records(hub.store, who, register)
        rows: dict[str, Any] = {"to_row": to_row} if to_row else {}
        if format == "csv":
            return StreamingResponse(csv_lines(stored, csv_fields, **rows), media_type="text/csv")
        return StreamingResponse(ndjson_lines(stored, **rows), media_type="application/x-ndjson")

    router.add_api_route(
        "/records",
        records,
        methods=["POST"],
        description=f"Report up to 10,000 {noun} rows (``op`` put or remove) as JSON objects.",
    )
    router.add_api_route(
        "/load",
        load,
        methods=["POST"],
        description=f"Apply an NDJSON stream of {noun} rows (a bulk load forwarded by a node).",
    )
    router.add_api_route(
        "/export",
        export,
        methods=["GET"],
        description=f"The caller's own {noun} records (an NCB: with its agencies'), "
        "in the form /load reads.",
    )
