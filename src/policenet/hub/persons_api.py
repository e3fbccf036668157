"""The hub's persons routes (``/v1/persons``): name searches, screening batches, reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from policenet.errors import PolicenetError
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.persons import PersonRules
from policenet.hub.reporting_routes import add_reporting_routes
from policenet.registers.persons.codec import to_row
from policenet.registers.persons.record import ROW_FIELDS
from policenet.registers.persons.requests import ScreenRequest, SearchRequest
from policenet.registers.persons.scoring import PersonQuery, parse_query

router = APIRouter(prefix="/v1/persons")
RULES = PersonRules()


@router.post("/search")
def search(body: SearchRequest, hub: HubDep, who: CallerDep) -> dict[str, Any]:
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


@router.post("/screen")
def screen(body: ScreenRequest, hub: HubDep, who: CallerDep) -> dict[str, Any]:
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
