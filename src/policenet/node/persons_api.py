"""The node's persons routes (``/api/v1/persons``): name searches and screening for officers
and national systems, notices and watchlists reported by operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from policenet.node.auth import NodeDep, UserDep
from policenet.node.reporting_routes import add_reporting_routes
from policenet.registers.persons.requests import ScreenRequest, SearchRequest
from policenet.registers.persons.rules import PersonRules

router = APIRouter(prefix="/api/v1/persons")


@router.post("/search")
async def search(body: SearchRequest, node: NodeDep, user: UserDep) -> Any:
    """Search one person by name; hits carry a score and an explanation."""
    return await node.hub.post("/v1/persons/search", body.model_dump(), officer=user.identity)


@router.post("/screen")
async def screen(body: ScreenRequest, node: NodeDep, user: UserDep) -> Any:
    """Screen up to 1,000 names (a passenger list) in one call; answers in order."""
    return await node.hub.post("/v1/persons/screen", body.model_dump(), officer=user.identity)


add_reporting_routes(router, PersonRules())
