"""The persons register's hub API in process: notices, diffusions, searches, screening, links.

The hub is the world of tests/integration/apps.py. NCB Paris (``ncb-fr``,
documents and persons in scope) reports notices; DS Khan of the Metropolitan
Police (``gb-metropolitan-police``, an agency of NCB London that may search
every register) searches them. The Police Nationale (``fr-police-nationale``)
has only the documents register.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policenet.domain.audit import AuditEntry
from tests.integration.apps import HubWorld, TestClient, build_hub

HUB_URL = "https://hub.test"
MET = "gb-metropolitan-police"
RECORDS = "/v1/persons/records"
SEARCH = "/v1/persons/search"

RED = {
    "reference": "FR-2026-RN-0042",
    "kind": "red",
    "given_names": "Muammar",
    "surname": "Qaddafi",
    "aliases": "Муаммар Каддафи;معمر القذافي",
    "dates_of_birth": "1942-06-07",
    "nationalities": "LY",
    "sex": "M",
    "documents": "FRA:passport:12AB34567",
    "charges": "murder (Penal Code art. 221-1)",
    "authority": "Tribunal judiciaire de Paris, juge d'instruction",
}


@pytest.fixture
def world(tmp_path: Path) -> HubWorld:
    return build_hub(tmp_path)


@pytest.fixture
def hub(world: HubWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url=HUB_URL) as client:
        yield client


def report(
    client: TestClient, world: HubWorld, rows: list[dict[str, Any]], member: str = "ncb-fr"
) -> dict[str, Any]:
    got = client.post(RECORDS, json={"rows": rows}, headers=world.as_member(member))
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


def search(client: TestClient, world: HubWorld, member: str = MET, **query: Any) -> httpx.Response:
    return client.post(SEARCH, json=query, headers=world.as_member(member, officer="ds.khan"))


def hits_for(client: TestClient, world: HubWorld, member: str = MET, **query: Any) -> list[Any]:
    got = search(client, world, member, **query)
    assert got.status_code == 200, got.text
    hits: list[Any] = got.json()["hits"]
    return hits


def entries(world: HubWorld, action: str) -> list[AuditEntry]:
    return [e for e in world.audit_entries() if e.action == action]


def test_a_name_written_another_way_hits_the_red_notice_with_an_explanation_and_a_case(
    world: HubWorld, hub: TestClient
) -> None:
    assert report(hub, world, [RED])["added"] == 1
    (hit,) = hits_for(hub, world, name="Moammar GADHAFI", date_of_birth="1942")
    assert (hit["key"], hit["owner"], hit["strength"]) == ("FR-2026-RN-0042", "ncb-fr", "possible")
    assert 0.7 <= hit["score"] < 1
    text = "\n".join(hit["explanation"])
    assert "'Moammar' ~ 'Muammar'" in text and "date of birth agrees" in text
    assert hit["record"]["kind"] == "red" and hit["record"]["charges"].startswith("murder")
    assert hit["case"], "a hit on another member's notice opens a case"
    (enquiry,) = entries(world, "enquiry.persons")
    assert enquiry.detail["hits"] == 1 and enquiry.officer == "ds.khan"
    (owner_entry,) = entries(world, "hit.persons")
    assert owner_entry.target == "ncb-fr"


def test_the_same_person_in_cyrillic_and_arabic_script_is_found(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, [RED])
    for written in ("Муаммар Каддафи", "Muammar al-Qaddafi", "QADDAFI, Muammar"):
        keys = [h["key"] for h in hits_for(hub, world, name=written)]
        assert keys == ["FR-2026-RN-0042"], written


def test_another_date_of_birth_or_another_surname_is_no_hit(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, [RED])
    assert hits_for(hub, world, name="Muammar Qaddafi", date_of_birth="1971-02-03") == []
    assert hits_for(hub, world, name="Muammar Rahimi") == []
    answer = search(hub, world, name="Muammar Qaddafi", date_of_birth="1971")
    assert answer.json()["query"] == "Muammar Qaddafi, born 1971"


def test_a_diffusion_must_name_its_countries_and_is_seen_only_there(
    world: HubWorld, hub: TestClient
) -> None:
    base = {**RED, "kind": "diffusion", "charges": "", "authority": "", "documents": ""}
    refused = report(hub, world, [{**base, "reference": "FR-D-1"}])
    (row,) = refused["rejected"]
    assert row["line"] == 1 and row["reason"].startswith("allow_countries:")
    to_us = {**base, "reference": "FR-D-2", "allow_countries": "US"}
    to_gb = {**base, "reference": "FR-D-3", "allow_countries": "GB;US", "given_names": "Ali"}
    to_gb["aliases"] = ""
    assert report(hub, world, [to_us, to_gb])["added"] == 2
    assert [h["key"] for h in hits_for(hub, world, name="Muammar Qaddafi")] == []
    assert [h["key"] for h in hits_for(hub, world, name="Ali Qaddafi")] == ["FR-D-3"]
    # the owner sees its own diffusion whatever the countries
    own = hits_for(hub, world, member="ncb-fr", name="Muammar Qaddafi")
    assert [h["key"] for h in own] == ["FR-D-2"]


def test_a_cancelled_notice_is_not_found_and_a_reference_only_one_shows_no_data(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, [{**RED, "status": "cancelled"}])
    assert hits_for(hub, world, name="Muammar Qaddafi") == []
    report(hub, world, [{**RED, "status": "active", "mode": "reference-only"}])
    (hit,) = hits_for(hub, world, name="Muammar Qaddafi")
    assert hit["access"] == "reference-only" and hit["record"] is None
    assert "contact your NCB" in hit["advice"]


def test_a_member_without_the_persons_register_may_not_search(
    world: HubWorld, hub: TestClient
) -> None:
    got = search(hub, world, member="fr-police-nationale", name="Muammar Qaddafi")
    assert got.status_code == 403, got.text
    assert "may not search the persons register" in got.json()["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "X"}, "name"),
        ({"name": "-- ."}, "name"),
        ({"name": "John Smith", "date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"name": "John Smith", "date_of_birth": "2999"}, "date_of_birth"),
        ({"name": "John Smith", "nationality": "XY"}, "nationality"),
        ({"name": "John Smith", "sex": "Q"}, "sex"),
        ({"name": "J" * 1000}, "name"),
        ({"name": "J" * 10_000}, "name"),
    ],
)
def test_bad_queries_are_refused_naming_the_field(
    world: HubWorld, hub: TestClient, query: dict[str, Any], field: str
) -> None:
    got = search(hub, world, **query)
    assert got.status_code == 422, got.text
    assert field in got.text


def test_control_characters_and_mixed_scripts_are_searched_not_refused(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, [RED])
    hits = hits_for(hub, world, name="Muammar\x00\tКаддафи")
    assert [h["key"] for h in hits] == ["FR-2026-RN-0042"]


def test_screening_answers_every_name_in_order_with_errors_named(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, [RED])
    passengers = [{"name": f"Passenger Number{i}"} for i in range(20)]
    passengers[7] = {"name": "Gaddafi Muammar", "date_of_birth": "1942-06-07"}
    passengers[11] = {"name": "Z"}
    got = hub.post(
        "/v1/persons/screen",
        json={"persons": passengers},
        headers=world.as_member(MET, officer="border.gate"),
    )
    assert got.status_code == 200, got.text
    answers = got.json()["answers"]
    assert [a["index"] for a in answers] == list(range(20))
    assert [h["key"] for h in answers[7]["hits"]] == ["FR-2026-RN-0042"]
    assert "too short" in answers[11]["error"]
    assert all(a["hits"] == [] for i, a in enumerate(answers) if i not in (7, 11))
    (entry,) = entries(world, "enquiry.persons")
    assert entry.detail["probes"] == 19 and entry.detail["source"] == "screening"


def test_a_document_check_also_reports_the_person_whose_record_names_it(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, [RED])
    got = hub.post(
        "/v1/documents/check",
        json={"documents": [{"number": "12AB34567", "issuing_state": "FRA"}, {"number": "X1"}]},
        headers=world.as_member(MET, officer="ds.khan"),
    )
    assert got.status_code == 200, got.text
    first, second = got.json()["answers"]
    assert first["hits"] == [] and "persons" not in second
    (person,) = first["persons"]
    assert person["key"] == "FR-2026-RN-0042" and person["strength"] == "exact"
    (entry,) = entries(world, "enquiry.persons")
    assert entry.detail["source"] == "document"


def test_bad_rows_are_reported_by_line_while_good_ones_land(
    world: HubWorld, hub: TestClient
) -> None:
    rows = [
        {**RED, "reference": "FR-1"},
        {**RED, "reference": "FR-2", "charges": ""},
        {**RED, "reference": "FR-3", "nationalities": "LY;ZZ"},
        {**RED, "reference": "FR-4", "dates_of_birth": "1942-13"},
        {**RED, "reference": "FR-5", "name": "", "given_names": "", "surname": ""},
        {**RED, "reference": "FR-6", "documents": "FRA:passport:12/34"},
        {**RED, "reference": "FR-7", "kind": "pink"},
        {**RED, "reference": "FR-8"},
    ]
    answer = report(hub, world, rows)
    assert answer["added"] == 2
    reasons = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert reasons[2].startswith("charges:") and reasons[3].startswith("nationalities:")
    assert reasons[4].startswith("dates_of_birth:") and reasons[5].startswith("name:")
    assert reasons[6].startswith("documents:") and reasons[7].startswith("kind:")


def test_an_export_loads_back_unchanged(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, [RED, {**RED, "reference": "FR-9", "kind": "yellow", "charges": ""}])
    got = hub.get("/v1/persons/export?format=ndjson", headers=world.as_member("ncb-fr"))
    assert got.status_code == 200, got.text
    rows = [httpx.Response(200, content=line).json() for line in got.content.splitlines()]
    assert [r["reference"] for r in rows] == ["FR-2026-RN-0042", "FR-9"]
    assert rows[0]["aliases"] == RED["aliases"] and rows[0]["surname"] == "Qaddafi"
    again = report(hub, world, rows)
    assert (again["unchanged"], again["rejected_count"]) == (2, 0)
