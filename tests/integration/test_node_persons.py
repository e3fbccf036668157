"""The node's persons routes over a fake hub: who may do what, and what reaches the hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from policenet.domain.officers import Role
from tests.integration.apps import NodeWorld, TestClient, build_node

BASE_URL = "https://node.test"
ROW = (
    "reference,kind,name,dates_of_birth,charges,authority\n"
    "GB-RN-1,red,John Doe,1970,fraud,Crown Court\n"
    "GB-RN-2,red,,1970,fraud,Crown Court\n"
    "GB-RN-3,yellow,Jane Doe,1971-02-30,,\n"
    "GB-RN-4,yellow,Janet Doe,,,\n"
)


@pytest.fixture
def node(tmp_path: Path) -> NodeWorld:
    return build_node(tmp_path)


@pytest.fixture
def client(node: NodeWorld) -> Iterator[TestClient]:
    with TestClient(node.app, base_url=BASE_URL) as test_client:
        yield test_client


def login(client: TestClient, node: NodeWorld, username: str, role: Role) -> dict[str, str]:
    got = client.post("/api/v1/login", json=node.login_body(node.add_officer(username, role)))
    assert got.status_code == 200, got.text
    return {"authorization": f"Bearer {got.json()['token']}"}


def test_an_officers_search_reaches_the_hub_in_their_name(
    node: NodeWorld, client: TestClient
) -> None:
    headers = login(client, node, "pc.jones", Role.OFFICER)
    answer = {"searched_at": "2026-11-29T10:00:00+00:00", "query": "John Doe", "hits": []}
    node.hub.routes[("POST", "/v1/persons/search")] = answer
    got = client.post("/api/v1/persons/search", json={"name": "John Doe"}, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == answer
    ((method, path, officer, body),) = node.hub.calls
    assert (method, path, officer, body["name"], body["limit"]) == (
        "POST",
        "/v1/persons/search",
        "pc.jones",
        "John Doe",
        10,
    )


def test_a_screening_batch_over_the_limit_never_reaches_the_hub(
    node: NodeWorld, client: TestClient
) -> None:
    headers = login(client, node, "pc.jones", Role.OFFICER)
    batch = {"persons": [{"name": f"Person {i}"} for i in range(1001)]}
    got = client.post("/api/v1/persons/screen", json=batch, headers=headers)
    assert got.status_code == 422, got.text
    assert node.hub.calls == []


def test_an_officer_may_not_report_persons(node: NodeWorld, client: TestClient) -> None:
    headers = login(client, node, "pc.jones", Role.OFFICER)
    got = client.post(
        "/api/v1/persons/records", json={"rows": [{"reference": "X"}]}, headers=headers
    )
    assert got.status_code == 403, got.text
    assert "operator" in got.json()["message"]
    assert node.hub.calls == []


def test_a_load_is_checked_at_the_node_and_only_good_rows_go_on(
    node: NodeWorld, client: TestClient
) -> None:
    headers = login(client, node, "op.smith", Role.OPERATOR)
    node.hub.routes[("POST-STREAM", "/v1/persons/load")] = {
        "added": 2,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "absent": 0,
        "rejected_count": 0,
        "rejected": [],
        "committed": True,
    }
    got = client.post("/api/v1/persons/load?format=csv", content=ROW.encode(), headers=headers)
    assert got.status_code == 200, got.text
    report = got.json()
    assert {r["line"] for r in report["rejected"]} == {3, 4}
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert reasons[3].startswith("name:") and reasons[4].startswith("dates_of_birth:")
    ((_, path, officer, sent),) = node.hub.calls
    assert (path, officer) == ("/v1/persons/load", "op.smith")
    lines = [json.loads(line) for line in sent["body"].splitlines()]
    assert [(r["reference"], r["line"]) for r in lines] == [("GB-RN-1", 2), ("GB-RN-4", 5)]
