"""Follow-up cases at the hub in process: opened by hits, moved by the NCBs, escalated.

The hub is the world of tests/integration/apps.py (certificates presented as
the ASGI TLS extension). Tests whose outcome rests on the store (numbering,
listing order, the escalation query, timelines) run on every backend (the
``store`` fixture of conftest.py).

The usual case: NCB Paris (``ncb-fr``) reports a stolen French passport, and
PC Jones of the Metropolitan Police (``gb-metropolitan-police``, under
``ncb-gb``) checks it at a border post. The parties are the Met, NCB London
and NCB Paris (owner and owner's NCB at once); Police Nationale
(``fr-police-nationale``) is an outsider to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from policenet.domain.access import Access
from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.registers import RegisterName
from policenet.hub.caller import Caller
from policenet.hub.cases import escalate_due, open_cases
from policenet.registers.base import MatchStrength
from policenet.registers.documents.index import DocumentProbe
from policenet.registers.hits import Hit
from policenet.store.ports import Store
from tests.integration.apps import T0, HubWorld, TestClient, build_hub

HUB_URL = "https://hub.test"
MET = "gb-metropolitan-police"
FRANCE_AGENCY = "fr-police-nationale"
PARTIES = {MET, "ncb-gb", "ncb-fr"}
OUTSIDERS = {FRANCE_AGENCY, "gs"}
PASSPORT = "14FR00001"
PASSPORT_KEY = f"FRA:passport:{PASSPORT}"


def doc(number: str, state: str = "FRA", **extra: Any) -> dict[str, Any]:
    return {
        "issuing_state": state,
        "document_type": "passport",
        "number": number,
        "status": "stolen-from-holder",
        **extra,
    }


@pytest.fixture
def world(tmp_path: Path, store: Store) -> HubWorld:
    # build_hub is typed for a MemoryStore; any store keeps the same port
    return build_hub(tmp_path, store=store)  # type: ignore[arg-type]


@pytest.fixture
def memory_world(tmp_path: Path) -> HubWorld:
    return build_hub(tmp_path)


@pytest.fixture
def hub(world: HubWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url=HUB_URL) as client:
        yield client


@pytest.fixture
def memory_hub(memory_world: HubWorld) -> Iterator[TestClient]:
    with TestClient(memory_world.app, base_url=HUB_URL) as client:
        yield client


# --- helpers ---------------------------------------------------------------------------


def report(client: TestClient, world: HubWorld, member: str, rows: list[dict[str, Any]]) -> None:
    got = client.post("/v1/documents/records", json={"rows": rows}, headers=world.as_member(member))
    assert got.status_code == 200, got.text
    assert got.json()["rejected_count"] == 0, got.json()


def check(
    client: TestClient,
    world: HubWorld,
    numbers: list[str],
    member: str = MET,
    officer: str = "pc.jones",
) -> list[list[dict[str, Any]]]:
    """Check documents by number; the hits of each, in order."""
    got = client.post(
        "/v1/documents/check",
        json={"documents": [{"number": n} for n in numbers]},
        headers=world.as_member(member, officer=officer),
    )
    assert got.status_code == 200, got.text
    return [list(a["hits"]) for a in got.json()["answers"]]


def hit_case(client: TestClient, world: HubWorld, number: str = PASSPORT) -> str:
    """The case number a check of ``number`` by the Met gives (opening or joining a case)."""
    ((hit,),) = check(client, world, [number])
    number = hit["case"]
    assert isinstance(number, str), hit
    return number


def move(
    client: TestClient,
    world: HubWorld,
    member: str,
    number: str,
    to: str,
    officer: str | None = "duty.operator",
    **body: Any,
) -> httpx.Response:
    got: httpx.Response = client.post(
        f"/v1/cases/{number}/transition",
        json={"to": to, **body},
        headers=world.as_member(member, officer=officer),
    )
    return got


def show(client: TestClient, world: HubWorld, member: str, number: str) -> dict[str, Any]:
    got = client.get(f"/v1/cases/{number}", headers=world.as_member(member))
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


def listed(
    client: TestClient, world: HubWorld, member: str, include_closed: bool = False
) -> list[str]:
    got = client.get(
        "/v1/cases",
        params={"include_closed": include_closed},
        headers=world.as_member(member),
    )
    assert got.status_code == 200, got.text
    return [c["number"] for c in got.json()]


def entries(world: HubWorld, action: str) -> list[AuditEntry]:
    return [e for e in world.audit_entries() if e.action == action]


def told(world: HubWorld, kind: str, number: str | None = None) -> dict[str, int]:
    """How many events of ``kind`` (about case ``number``) each member got."""
    counts: dict[str, int] = {}
    for code in PARTIES | OUTSIDERS:
        for event in world.events_for(code):
            if event.kind == kind and (number is None or event.payload.get("number") == number):
                counts[code] = counts.get(code, 0) + 1
    return counts


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    return str(body["message"])


# --- opening --------------------------------------------------------------------------


def test_a_hit_opens_a_case_that_the_hit_names_and_the_parties_are_told(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    ((hit,),) = check(hub, world, [PASSPORT])
    number = hit["case"]
    assert number == f"PN-{T0.year}-000001"
    assert f"Follow-up case {number} is open" in hit["advice"]
    case = show(hub, world, MET, number)
    assert case["state"] == "open"
    assert (case["owner"], case["owner_ncb"]) == ("ncb-fr", "ncb-fr")
    assert (case["enquirer"], case["enquirer_ncb"], case["enquirer_officer"]) == (
        MET,
        "ncb-gb",
        "pc.jones",
    )
    assert (case["register"], case["record_key"]) == ("documents", PASSPORT_KEY)
    assert case["urgent"] is False
    assert datetime.fromisoformat(case["opened"]) == T0
    assert datetime.fromisoformat(case["deadline"]) == T0 + timedelta(hours=48)
    assert [(e["action"], e["actor"], e["officer"]) for e in case["timeline"]] == [
        ("opened", MET, "pc.jones")
    ]
    assert told(world, "case.opened", number) == dict.fromkeys(PARTIES, 1)
    (audited,) = entries(world, "case.open")
    assert (audited.member, audited.officer, audited.target) == (MET, "pc.jones", number)
    assert audited.outcome == Outcome.OK and audited.detail["key"] == PASSPORT_KEY


def test_a_hit_on_ones_own_record_opens_no_case(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    ((hit,),) = check(hub, world, [PASSPORT], member="ncb-fr")
    assert hit["case"] is None
    assert listed(hub, world, "ncb-fr") == []
    assert entries(world, "case.open") == []


def test_an_own_country_hit_opens_a_case_with_one_ncb(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, "ncb-gb", [doc("GB0000001", state="GBR")])
    number = hit_case(hub, world, "GB0000001")
    case = show(hub, world, "ncb-gb", number)
    assert case["owner_ncb"] == case["enquirer_ncb"] == "ncb-gb"
    assert told(world, "case.opened", number) == {MET: 1, "ncb-gb": 1}
    assert move(hub, world, "ncb-gb", number, "confirmed").status_code == 200
    assert move(hub, world, "ncb-gb", number, "closed").status_code == 200


def test_a_repeated_check_joins_the_open_case(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    first = hit_case(hub, world)
    world.clock.advance(timedelta(minutes=10))
    again = hit_case(hub, world)
    both = check(hub, world, [PASSPORT, PASSPORT])  # twice in one request: joined once
    assert again == first
    assert [h["case"] for found in both for h in found] == [first, first]
    assert listed(hub, world, MET) == [first]
    case = show(hub, world, "ncb-fr", first)
    assert [e["action"] for e in case["timeline"]] == ["opened", "hit-again", "hit-again"]
    assert datetime.fromisoformat(case["timeline"][1]["at"]) == T0 + timedelta(minutes=10)
    assert told(world, "case.opened") == dict.fromkeys(PARTIES, 1)
    assert len(entries(world, "case.open")) == 1
    # once the case is closed, the next hit opens a new one
    assert move(hub, world, "ncb-gb", first, "closed").status_code == 200
    second = hit_case(hub, world)
    assert second != first
    assert second == f"PN-{T0.year}-000002"
    assert listed(hub, world, MET) == [second]
    assert listed(hub, world, MET, include_closed=True) == [first, second]  # by deadline


def test_another_enquirer_hitting_the_same_record_gets_its_own_case(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    met_case = hit_case(hub, world)
    ((hit,),) = check(hub, world, [PASSPORT], member="ncb-gb", officer="duty.operator")
    assert hit["case"] not in (None, met_case)
    assert sorted(listed(hub, world, "ncb-gb")) == sorted([met_case, hit["case"]])
    assert listed(hub, world, MET) == [met_case]


def test_concurrent_checks_of_the_same_document_open_one_case(
    world: HubWorld, hub: TestClient
) -> None:
    """Two border posts of the Met scan the same passport at once: one case, not two."""
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    caller = Caller(member=world.member(MET), officer="pc.jones", serial=0)
    probe = DocumentProbe(number=PASSPORT)

    def scan(_: int) -> str | None:
        with world.store.unit_of_work() as uow:
            found = world.hub.documents.check(
                uow, world.hub.audit, caller, [probe], world.clock(), world.hub.deadlines
            )
        return found[0][0].case

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = set(pool.map(scan, range(12)))
    (number,) = numbers
    assert number is not None
    assert listed(hub, world, MET) == [number]
    assert told(world, "case.opened") == dict.fromkeys(PARTIES, 1)
    timeline = show(hub, world, MET, number)["timeline"]
    assert [e["action"] for e in timeline] == ["opened"] + ["hit-again"] * 11


# --- reading -----------------------------------------------------------------------------


def urgent_case(world: HubWorld, key: str) -> str:
    """Open an urgent case for the Met on ``key`` (no route marks a hit urgent yet)."""
    hit = Hit(
        register=RegisterName.DOCUMENTS,
        key=key,
        owner="ncb-fr",
        owner_name="NCB Paris",
        owner_country="FR",
        access=Access.FULL,
        strength=MatchStrength.EXACT,
        score=1.0,
        explanation=(),
        record=None,
        caveats="",
    )
    caller = Caller(member=world.member(MET), officer="pc.jones", serial=0)
    with world.store.unit_of_work() as uow:
        numbers = open_cases(
            uow,
            world.hub.audit,
            caller,
            RegisterName.DOCUMENTS,
            [hit],
            world.clock(),
            world.hub.deadlines,
            urgent=True,
        )
    return numbers[key]


def test_the_list_holds_only_the_callers_cases_urgent_first_then_by_deadline(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, "ncb-fr", [doc("FR1"), doc("FR2")])
    report(hub, world, "ncb-gb", [doc("GB1", state="GBR")])
    early = hit_case(hub, world, "FR1")  # deadline T0 + 48 h
    world.clock.advance(timedelta(hours=1))
    later = hit_case(hub, world, "FR2")  # deadline T0 + 49 h
    world.clock.advance(timedelta(hours=60))
    urgent = urgent_case(world, "FRA:passport:URGENT1")  # deadline T0 + 62 h, but urgent
    ((french,),) = check(hub, world, ["GB1"], member=FRANCE_AGENCY, officer="brigadier.leroy")
    assert listed(hub, world, MET) == [urgent, early, later]
    assert listed(hub, world, "ncb-fr") == [urgent, early, later, french["case"]]
    assert listed(hub, world, "ncb-gb") == [urgent, early, later, french["case"]]
    assert listed(hub, world, FRANCE_AGENCY) == [french["case"]]
    assert listed(hub, world, "gs") == []
    assert show(hub, world, MET, urgent)["urgent"] is True
    assert datetime.fromisoformat(show(hub, world, MET, urgent)["deadline"]) == T0 + timedelta(
        hours=62
    )


def test_a_case_is_not_found_for_anyone_but_its_parties_and_the_gs(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    number = hit_case(hub, world)
    for party in PARTIES:
        assert show(hub, world, party, number)["number"] == number
    assert show(hub, world, "gs", number)["number"] == number
    hidden = hub.get(f"/v1/cases/{number}", headers=world.as_member(FRANCE_AGENCY))
    missing = hub.get("/v1/cases/PN-2026-999999", headers=world.as_member(FRANCE_AGENCY))
    # the answer for a case that exists reads like the answer for one that does not
    assert error_of(hidden, 404, "not_found").replace(number, "N") == error_of(
        missing, 404, "not_found"
    ).replace("PN-2026-999999", "N")
    assert listed(hub, world, FRANCE_AGENCY) == []


# --- moving -------------------------------------------------------------------------------


def test_the_owner_acknowledges_and_confirms_and_an_ncb_closes(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    number = hit_case(hub, world)
    world.clock.advance(timedelta(minutes=5))
    acknowledged = move(hub, world, "ncb-fr", number, "acknowledged", officer="op.durand")
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["state"] == "acknowledged"
    world.clock.advance(timedelta(minutes=5))
    note = "passport stolen from holder in Lyon; still outstanding"
    confirmed = move(hub, world, "ncb-fr", number, "confirmed", officer="op.durand", note=note)
    assert confirmed.json()["state"] == "confirmed"
    assert confirmed.json()["note"] == note
    world.clock.advance(timedelta(minutes=5))
    closed = move(hub, world, "ncb-gb", number, "closed", note="document seized")
    assert closed.status_code == 200, closed.text
    case = show(hub, world, MET, number)
    assert case["state"] == "closed"
    assert datetime.fromisoformat(case["updated"]) == T0 + timedelta(minutes=15)
    assert [(e["action"], e["actor"], e["officer"]) for e in case["timeline"]] == [
        ("opened", MET, "pc.jones"),
        ("acknowledged", "ncb-fr", "op.durand"),
        ("confirmed", "ncb-fr", "op.durand"),
        ("closed", "ncb-gb", "duty.operator"),
    ]
    assert case["timeline"][2]["detail"] == {"to": "confirmed", "note": note}
    for action, member in [
        ("case.acknowledged", "ncb-fr"),
        ("case.confirmed", "ncb-fr"),
        ("case.closed", "ncb-gb"),
    ]:
        (audited,) = entries(world, action)
        assert (audited.member, audited.target, audited.outcome) == (member, number, Outcome.OK)
    assert told(world, "case.changed", number) == dict.fromkeys(PARTIES, 3)
    changes = [e for e in world.events_for(MET) if e.kind == "case.changed"]
    assert [e.payload["state"] for e in changes] == ["acknowledged", "confirmed", "closed"]
    assert listed(hub, world, MET) == []


def test_a_rejection_carries_its_reason(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    number = hit_case(hub, world)
    rejected = move(hub, world, "ncb-fr", number, "rejected", reason="not-the-same")
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["reason"]) == ("rejected", "not-the-same")
    (audited,) = entries(world, "case.rejected")
    assert audited.detail["reason"] == "not-the-same"
    assert show(hub, world, MET, number)["timeline"][-1]["detail"] == {
        "to": "rejected",
        "reason": "not-the-same",
    }


REFUSALS = [
    # (who, first moves by ncb-fr, the refused move, status, error code)
    ("ncb-fr", ["acknowledged"], {"to": "acknowledged"}, 409, "conflict"),
    ("ncb-fr", ["confirmed", "closed"], {"to": "rejected", "reason": "other"}, 409, "conflict"),
    (MET, [], {"to": "confirmed"}, 403, "forbidden"),
    ("ncb-gb", ["acknowledged"], {"to": "rejected", "reason": "other"}, 403, "forbidden"),
    (MET, ["confirmed"], {"to": "closed"}, 403, "forbidden"),
    ("gs", [], {"to": "closed"}, 403, "forbidden"),
    ("ncb-fr", [], {"to": "rejected"}, 422, "invalid_field"),
    ("ncb-fr", [], {"to": "confirmed", "reason": "other"}, 422, "invalid_field"),
    (FRANCE_AGENCY, [], {"to": "acknowledged"}, 404, "not_found"),
]


@pytest.mark.parametrize(("who", "before", "body", "status", "code"), REFUSALS)
def test_a_refused_move_changes_nothing_and_is_audited(
    world: HubWorld,
    hub: TestClient,
    who: str,
    before: list[str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    number = hit_case(hub, world)
    for to in before:
        assert move(hub, world, "ncb-fr", number, to).status_code == 200
    state = show(hub, world, "ncb-fr", number)
    changes = told(world, "case.changed", number)
    world.clock.advance(timedelta(minutes=1))
    refused = move(hub, world, who, number, officer="op.x", **body)
    message = error_of(refused, status, code)
    assert show(hub, world, "ncb-fr", number) == state
    assert told(world, "case.changed", number) == changes
    (audited,) = [e for e in entries(world, f"case.{body['to']}") if e.outcome == Outcome.REFUSED]
    assert (audited.member, audited.officer, audited.target) == (who, "op.x", number)
    assert audited.detail["reason"] == message


def test_an_over_long_note_or_an_unknown_state_is_refused(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    world, hub = memory_world, memory_hub
    report(hub, world, "ncb-fr", [doc(PASSPORT)])
    number = hit_case(hub, world)
    long_note = move(hub, world, "ncb-fr", number, "confirmed", note="n" * 2001)
    assert "note" in error_of(long_note, 422, "invalid_input")
    assert "to" in error_of(move(hub, world, "ncb-fr", number, "reopened"), 422, "invalid_input")
    assert show(hub, world, MET, number)["state"] == "open"


# --- escalation --------------------------------------------------------------------------


def escalate(world: HubWorld, at: datetime) -> int:
    with world.store.unit_of_work() as uow:
        return escalate_due(uow, world.hub.audit, at)


def test_a_case_unanswered_at_its_deadline_is_escalated_once_to_both_ncbs(
    world: HubWorld,
) -> None:
    # no lifespan here: the hub's own escalation task must not race the test's clock
    hub = TestClient(world.app, base_url=HUB_URL)
    report(hub, world, "ncb-fr", [doc(PASSPORT), doc("FR2")])
    number = hit_case(hub, world)
    answered = hit_case(hub, world, "FR2")
    assert move(hub, world, "ncb-fr", answered, "confirmed").status_code == 200
    assert move(hub, world, "ncb-fr", number, "acknowledged").status_code == 200
    deadline = T0 + timedelta(hours=48)
    assert escalate(world, deadline - timedelta(seconds=1)) == 0
    assert escalate(world, deadline) == 1
    assert escalate(world, deadline + timedelta(hours=1)) == 0
    assert escalate(world, deadline + timedelta(days=5)) == 0
    case = show(hub, world, "ncb-gb", number)
    assert case["escalated"] is True and case["state"] == "acknowledged"
    assert case["timeline"][-1]["action"] == "escalated"
    assert case["timeline"][-1]["actor"] == "hub"
    assert told(world, "case.escalated") == {"ncb-gb": 1, "ncb-fr": 1}
    (audited,) = entries(world, "case.escalate")
    assert (audited.member, audited.target) == ("hub", number)
    assert show(hub, world, "ncb-gb", answered)["escalated"] is False
    # the owner may still answer after the escalation
    assert move(hub, world, "ncb-fr", number, "confirmed").status_code == 200


def test_an_urgent_case_escalates_after_an_hour(world: HubWorld) -> None:
    number = urgent_case(world, "FRA:passport:URGENT1")
    assert escalate(world, T0 + timedelta(minutes=59)) == 0
    assert escalate(world, T0 + timedelta(minutes=60)) == 1
    assert told(world, "case.escalated", number) == {"ncb-gb": 1, "ncb-fr": 1}


# --- oversight: who hit my records ----------------------------------------------------------


def oversight(client: TestClient, world: HubWorld, member: str) -> list[dict[str, Any]]:
    got = client.get("/v1/oversight/enquiries", headers=world.as_member(member))
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


def test_an_owner_sees_who_hit_its_records_and_nothing_of_other_owners(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    world, hub = memory_world, memory_hub
    scope = hub.put(
        f"/v1/members/{FRANCE_AGENCY}/scope",
        json={"registers": ["documents"], "may_report": True},
        headers=world.as_member("ncb-fr"),
    )
    assert scope.status_code == 200, scope.text
    report(hub, world, "ncb-fr", [doc("FRNCB1")])
    report(hub, world, FRANCE_AGENCY, [doc("FRAGENCY1")])
    report(hub, world, "ncb-gb", [doc("GBNCB1", state="GBR")])
    check(hub, world, ["FRNCB1", "GBNCB1", "FRAGENCY1", "NOTHING"])
    check(hub, world, ["NOTHING-EITHER"])  # no hit: nobody's business
    fr = oversight(hub, world, "ncb-fr")
    assert len(fr) == 1
    assert (fr[0]["member"], fr[0]["officer"], fr[0]["action"]) == (
        MET,
        "pc.jones",
        "enquiry.documents",
    )
    assert sorted(fr[0]["keys"]) == ["FRA:passport:FRAGENCY1", "FRA:passport:FRNCB1"]
    assert [i["keys"] for i in oversight(hub, world, FRANCE_AGENCY)] == [["FRA:passport:FRAGENCY1"]]
    assert [i["keys"] for i in oversight(hub, world, "ncb-gb")] == [["GBR:passport:GBNCB1"]]
    assert oversight(hub, world, MET) == []
    (audited, *_) = entries(world, "oversight.enquiries")
    assert audited.member == "ncb-fr" and audited.detail["count"] == 1


def test_oversight_resumes_after_the_last_item(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    world, hub = memory_world, memory_hub
    report(hub, world, "ncb-fr", [doc("FR1"), doc("FR2")])
    check(hub, world, ["FR1"])
    check(hub, world, ["FR2"])
    first = hub.get(
        "/v1/oversight/enquiries", params={"limit": 1}, headers=world.as_member("ncb-fr")
    ).json()
    assert [i["keys"] for i in first["items"]] == [["FRA:passport:FR1"]]
    rest = hub.get(
        "/v1/oversight/enquiries",
        params={"after": first["next"]},
        headers=world.as_member("ncb-fr"),
    ).json()
    assert [i["keys"] for i in rest["items"]] == [["FRA:passport:FR2"]]


def test_oversight_shows_every_owner_its_hits_after_a_large_check(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    world, hub = memory_world, memory_hub
    french = [f"FR{n:07d}" for n in range(250)]
    report(hub, world, "ncb-fr", [doc(n) for n in french])
    report(hub, world, "ncb-gb", [doc("GB0000001", state="GBR")])
    check(hub, world, [*french, "GB0000001"])
    assert [i["keys"] for i in oversight(hub, world, "ncb-gb")] == [["GBR:passport:GB0000001"]]
    (fr,) = oversight(hub, world, "ncb-fr")
    assert sorted(fr["keys"]) == sorted(f"FRA:passport:{n}" for n in french)


# --- retention routes ------------------------------------------------------------------------


def test_records_due_lists_the_owners_records_and_extension_keeps_a_record_matching(
    world: HubWorld, hub: TestClient
) -> None:
    expires = (T0 + timedelta(days=100)).date()
    report(hub, world, "ncb-fr", [doc(PASSPORT, expires=expires.isoformat()), doc("FRLATE")])
    due = hub.get("/v1/records/documents/due", headers=world.as_member("ncb-fr"))
    assert due.status_code == 200, due.text
    assert [r["key"] for r in due.json()] == [PASSPORT_KEY]
    assert due.json()[0]["expires"].startswith(expires.isoformat())
    # the review a year after reporting comes into a longer horizon
    year = hub.get(
        "/v1/records/documents/due", params={"days": 400}, headers=world.as_member("ncb-fr")
    )
    assert sorted(r["key"] for r in year.json()) == [PASSPORT_KEY, "FRA:passport:FRLATE"]
    for other in ("ncb-gb", MET, FRANCE_AGENCY):
        got = hub.get("/v1/records/documents/due", headers=world.as_member(other))
        assert got.json() == [], other

    # past its expiry the record no longer matches
    world.clock.advance(timedelta(days=101))
    assert check(hub, world, [PASSPORT]) == [[]]
    new_expiry = (T0 + timedelta(days=500)).date()
    extended = hub.post(
        f"/v1/records/documents/{PASSPORT_KEY}/extend",
        json={"expires": new_expiry.isoformat(), "reason": "holder still abroad"},
        headers=world.as_member("ncb-fr", officer="op.durand"),
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["expires"].startswith(new_expiry.isoformat())
    assert datetime.fromisoformat(extended.json()["review_due"]) == world.clock() + timedelta(
        days=365
    )
    (audited,) = entries(world, "record.documents.extend")
    assert (audited.member, audited.officer, audited.target) == (
        "ncb-fr",
        "op.durand",
        PASSPORT_KEY,
    )
    assert audited.detail == {"expires": new_expiry.isoformat(), "reason": "holder still abroad"}
    ((hit,),) = check(hub, world, [PASSPORT])
    assert hit["key"] == PASSPORT_KEY


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("ncb-gb", {"expires": "2027-06-01", "reason": "mine now"}, 404),
        (MET, {"expires": "2027-06-01", "reason": "mine now"}, 404),
        ("ncb-fr", {"expires": "2027-06-01", "reason": ""}, 422),
        ("ncb-fr", {"expires": "2027-06-01"}, 422),
        ("ncb-fr", {"expires": "2025-01-01", "reason": "too late"}, 422),
        ("ncb-fr", {"expires": "2026-05-01", "reason": "before the current expiry"}, 422),
    ],
)
def test_an_extension_is_refused_to_others_and_without_a_reason_or_a_later_date(
    memory_world: HubWorld, memory_hub: TestClient, who: str, body: dict[str, Any], status: int
) -> None:
    world, hub = memory_world, memory_hub
    report(hub, world, "ncb-fr", [doc(PASSPORT, expires=date(2026, 6, 10).isoformat())])
    got = hub.post(
        f"/v1/records/documents/{PASSPORT_KEY}/extend", json=body, headers=world.as_member(who)
    )
    assert got.status_code == status, got.text
    with world.store.unit_of_work() as uow:
        stored = uow.records.get_many("documents", [PASSPORT_KEY])[PASSPORT_KEY]
    assert stored.envelope.expires is not None
    assert stored.envelope.expires.date() == date(2026, 6, 10)
    assert entries(world, "record.documents.extend") == []
