"""The node's DNA routes (``/api/v1/dna``): searches for officers, reports for operators.

Profiles carry no names; a hit shows the owner, the reference, the rule,
the loci compared and the likelihood ratio.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from policenet.node.auth import NodeDep, UserDep
from policenet.node.reporting_routes import add_reporting_routes
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


add_reporting_routes(router, DnaRules())
