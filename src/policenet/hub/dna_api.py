"""The hub's DNA routes (``/v1/dna``): search, kinship, reports and bulk loads of profiles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from policenet.hub.api import CallerDep, HubDep
from policenet.hub.dna import DnaRules
from policenet.hub.reporting_routes import add_reporting_routes
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


add_reporting_routes(router, RULES, ("reference", "category", "amelogenin", "mixture", *KNOWN_LOCI))
