"""The hub's DNA routes (``/v1/dna``): search, kinship, reports and bulk loads of profiles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.registers import RegisterName
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.dna import DnaRules
from policenet.hub.export import csv_lines, ndjson_lines, own_records
from policenet.hub.reporting import apply_load, load_request, rows_from_json
from policenet.registers.dna.kinship import Relationship
from policenet.registers.dna.matching import Stringency
from policenet.registers.dna.profile import KNOWN_LOCI, MIN_LOCI, validate

router = APIRouter(prefix="/v1/dna")
RULES = DnaRules()


class Search(BaseModel):
    profile: dict[str, Any] = Field(
        description="reference, category, optional amelogenin and mixture, one key per locus"
    )
    stringency: Stringency = Field(Stringency.MODERATE, description="high, moderate or low")
    min_loci: int = Field(MIN_LOCI, ge=1, le=40, description="loci a match must compare")
    limit: int = Field(20, ge=1, le=200)


@router.post("/search")
def search(body: Search, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Search one profile; hits carry the rule, the loci compared and the likelihood ratio."""
    probe = validate(body.profile)
    now = hub.clock()
    with hub.store.unit_of_work() as uow:
        hits = hub.dna.search(
            uow,
            hub.audit,
            who,
            probe,
            now,
            hub.deadlines,
            stringency=body.stringency,
            min_loci=body.min_loci,
            limit=body.limit,
        )
    hub.bell.ring()
    return {"searched_at": now.isoformat(), "hits": [h.to_json() for h in hits]}


class Kinship(BaseModel):
    profile: dict[str, Any] = Field(
        description="unidentified remains, or a relative of a missing person"
    )
    relationship: Relationship = Field(Relationship.PARENT_CHILD)
    limit: int = Field(10, ge=1, le=100)


@router.post("/kinship")
def kinship(body: Kinship, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Rank relatives' profiles by kinship likelihood ratio against the profile given."""
    probe = validate(body.profile)
    with hub.store.unit_of_work() as uow:
        ranked = hub.dna.kinship(
            uow, hub.audit, who, probe, body.relationship, hub.clock(), limit=body.limit
        )
    return {"relationship": body.relationship.value, "candidates": ranked}


class Records(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    all_or_nothing: bool = Field(False, description="apply no row unless every row is good")


@router.post("/records")
def records(body: Records, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Report up to 10,000 profiles (``op`` put or remove) as JSON objects."""
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
    """Apply an NDJSON stream of profile rows (a bulk load forwarded by a node)."""
    report = await load_request(request, hub, who, RULES, all_or_nothing)
    return report.to_json()


@router.get("/export")
def export(
    hub: HubDep,
    who: CallerDep,
    format: Annotated[Literal["csv", "ndjson"], Query(description="csv or ndjson")] = "ndjson",
) -> StreamingResponse:
    """The caller's own profiles (an NCB: with its agencies'), in the form /load reads."""
    with hub.store.unit_of_work() as uow:
        hub.audit.append(
            uow,
            AuditEntry(
                time=hub.clock(),
                member=who.member.code,
                officer=who.officer,
                action="records.dna.export",
                outcome=Outcome.OK,
                detail={"format": format},
            ),
        )
    records = own_records(hub.store, who, RegisterName.DNA)
    if format == "csv":
        fields = ("reference", "category", "amelogenin", "mixture", *KNOWN_LOCI)
        return StreamingResponse(csv_lines(records, fields), media_type="text/csv")
    return StreamingResponse(ndjson_lines(records), media_type="application/x-ndjson")
