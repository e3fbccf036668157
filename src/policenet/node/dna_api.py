"""The node's DNA routes (``/api/v1/dna``): searches for officers, reports for operators.

Profiles carry no names; a hit shows the owner, the reference, the rule,
the loci compared and the likelihood ratio.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from policenet.node.auth import NodeDep, UserDep
from policenet.node.documents_api import may_report
from policenet.node.uploads import upload_body
from policenet.registers.dna.rules import DnaRules

router = APIRouter(prefix="/api/v1/dna")


class Search(BaseModel):
    profile: dict[str, Any]
    stringency: str = Field("moderate", description="high, moderate or low")
    min_loci: int = Field(6, ge=1, le=40)
    limit: int = Field(20, ge=1, le=200)


@router.post("/search")
async def search(body: Search, node: NodeDep, user: UserDep) -> Any:
    """Search one profile against the DNA register."""
    return await node.hub.post("/v1/dna/search", body.model_dump(), officer=user.identity)


class Kinship(BaseModel):
    profile: dict[str, Any]
    relationship: str = Field("parent-child", description="parent-child, full siblings, ...")
    limit: int = Field(10, ge=1, le=100)


@router.post("/kinship")
async def kinship(body: Kinship, node: NodeDep, user: UserDep) -> Any:
    """Rank relatives' profiles by kinship likelihood ratio (missing persons, remains)."""
    return await node.hub.post("/v1/dna/kinship", body.model_dump(), officer=user.identity)


class Records(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    all_or_nothing: bool = False


@router.post("/records")
async def records(body: Records, node: NodeDep, user: UserDep) -> Any:
    """Report up to 10,000 profiles (put or remove)."""
    may_report(user)
    return await node.hub.post("/v1/dna/records", body.model_dump(), officer=user.identity)


@router.post("/load")
async def load(
    request: Request,
    node: NodeDep,
    user: UserDep,
    format: Annotated[Literal["csv", "ndjson"], Query(description="the body's format")] = "csv",
    all_or_nothing: Annotated[bool, Query(description="apply nothing if any row is bad")] = False,
) -> dict[str, Any]:
    """A bulk load of profiles (CSV or NDJSON): checked here, then streamed to the hub."""
    may_report(user)
    report = await upload_body(
        request.stream(),
        node.settings.directory / "spool",
        node.hub,
        format,
        all_or_nothing=all_or_nothing,
        today=node.clock().date(),
        officer=user.identity,
        rules=DnaRules(),
    )
    return report.to_json()


@router.get("/export")
async def export(
    node: NodeDep,
    user: UserDep,
    format: Annotated[Literal["csv", "ndjson"], Query(description="csv or ndjson")] = "ndjson",
) -> StreamingResponse:
    """This member's own profiles, in the form the load reads (operators, national systems)."""
    may_report(user)
    stream = node.hub.get_stream(f"/v1/dna/export?format={format}", officer=user.identity)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(stream, media_type=media)
