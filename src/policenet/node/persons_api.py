"""The node's persons routes (``/api/v1/persons``): name searches and screening for officers
and national systems, notices and watchlists reported by operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from policenet.node.auth import NodeDep, UserDep
from policenet.node.reporting_routes import add_reporting_routes
from policenet.registers.persons.rules import PersonRules

router = APIRouter(prefix="/api/v1/persons")

MAX_SCREENING = 1_000


class Query(BaseModel):
    name: str = Field(max_length=2000)
    date_of_birth: str | None = None
    nationality: str | None = None
    sex: str | None = None


class Search(Query):
    limit: int = Field(10, ge=1, le=100)


@router.post("/search")
async def search(body: Search, node: NodeDep, user: UserDep) -> Any:
    """Search one person by name; hits carry a score and an explanation."""
    return await node.hub.post("/v1/persons/search", body.model_dump(), officer=user.identity)


class Screen(BaseModel):
    persons: list[Query] = Field(min_length=1, max_length=MAX_SCREENING)
    limit: int = Field(3, ge=1, le=20)


@router.post("/screen")
async def screen(body: Screen, node: NodeDep, user: UserDep) -> Any:
    """Screen up to 1,000 names (a passenger list) in one call; answers in order."""
    return await node.hub.post("/v1/persons/screen", body.model_dump(), officer=user.identity)


add_reporting_routes(router, PersonRules())
