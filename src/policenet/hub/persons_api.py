"""The hub's persons routes (``/v1/persons``): name searches, screening batches, reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from policenet.errors import PolicenetError
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.persons import MAX_SCREENING, PersonRules
from policenet.hub.reporting_routes import add_reporting_routes
from policenet.registers.persons.codec import to_row
from policenet.registers.persons.record import ROW_FIELDS
from policenet.registers.persons.scoring import PersonQuery, parse_query

router = APIRouter(prefix="/v1/persons")
RULES = PersonRules()


class Query(BaseModel):
    name: str = Field(description="the name as written, in any script", max_length=2000)
    date_of_birth: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    nationality: str | None = Field(None, description="ISO 3166-1 alpha-2")
    sex: str | None = Field(None, description="M, F or X")


class Search(Query):
    limit: int = Field(10, ge=1, le=100, description="most hits returned")


@router.post("/search")
def search(body: Search, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Search one person by name (and date of birth, nationality, sex); hits best first."""
    now = hub.clock()
    query = parse_query(body.model_dump(), now.date())
    with hub.store.unit_of_work() as uow:
        hits = hub.persons.search(
            uow, hub.audit, who, [query], now, hub.deadlines, limit=body.limit
        )
    hub.bell.ring()
    return {
        "searched_at": now.isoformat(),
        "query": query.describe(),
        "hits": [h.to_json() for h in hits[0]],
    }


class Screen(BaseModel):
    persons: list[Query] = Field(min_length=1, max_length=MAX_SCREENING)
    limit: int = Field(3, ge=1, le=20, description="most hits returned per name")


@router.post("/screen")
def screen(body: Screen, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Screen a batch of names (a passenger list); one answer per name, in order.

    A name that cannot be searched gets an ``error`` naming what is wrong;
    the others are searched all the same.
    """
    now = hub.clock()
    queries: list[PersonQuery] = []
    positions: list[int] = []
    answers: list[dict[str, Any]] = [{"index": i} for i in range(len(body.persons))]
    for i, item in enumerate(body.persons):
        try:
            queries.append(parse_query(item.model_dump(), now.date()))
            positions.append(i)
        except PolicenetError as exc:
            answers[i]["error"] = exc.message
    found = []
    if queries:
        with hub.store.unit_of_work() as uow:
            found = hub.persons.search(
                uow,
                hub.audit,
                who,
                queries,
                now,
                hub.deadlines,
                limit=body.limit,
                source="screening",
            )
        hub.bell.ring()
    for position, query, hits in zip(positions, queries, found, strict=True):
        answers[position]["query"] = query.describe()
        answers[position]["hits"] = [h.to_json() for h in hits]
    return {
        "screened_at": now.isoformat(),
        "hits": sum(len(a.get("hits", ())) for a in answers),
        "answers": answers,
    }


add_reporting_routes(router, RULES, ROW_FIELDS, to_row)
