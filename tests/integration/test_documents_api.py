"""The travel documents API in process: the hub's /v1/documents and the node's /api/v1/documents.

The hub is the world of tests/integration/apps.py (certificates presented as
the ASGI TLS extension); the tests that depend on transactions run on every
store backend (the ``store`` fixture of conftest.py). The node talks to a
scripted fake hub, or, in the last tests, to the real hub app in process.

Members used here: ncb-gb and its agency gb-metropolitan-police (MET), and
ncb-fr, which reports French (FRA) documents that MET then checks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.officers import Role
from policenet.hub import reporting
from policenet.hub.identity import OFFICER_HEADER
from policenet.node.uploads import upload_file
from policenet.registers.documents.mrz import MachineReadableZone, MrzFormat, format_mrz
from policenet.registers.documents.requests import MAX_CHECK_BATCH
from policenet.settings import HubSettings
from policenet.store.ports import Store
from tests.integration.apps import (
    PRESENT_HEADER,
    HubWorld,
    NodeWorld,
    OfficerAccount,
    TestClient,
    build_hub,
    build_node,
)

HUB_URL = "https://hub.test"
NODE_URL = "https://node.test"
MET = "gb-metropolitan-police"
CHECK = "/v1/documents/check"
RECORDS = "/v1/documents/records"
LOAD = "/v1/documents/load"


def doc(number: str, state: str = "FRA", **extra: Any) -> dict[str, Any]:
    return {
        "issuing_state": state,
        "document_type": "passport",
        "number": number,
        "status": "stolen-from-holder",
        **extra,
    }


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    return str(body["message"])


def entries(world: HubWorld, action: str) -> list[AuditEntry]:
    return [e for e in world.audit_entries() if e.action == action]


def record_count(world: HubWorld) -> int:
    with world.store.unit_of_work() as uow:
        return uow.records.count("documents")


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


def report(
    client: TestClient, world: HubWorld, member: str, rows: list[dict[str, Any]], **body: Any
) -> dict[str, Any]:
    got = client.post(RECORDS, json={"rows": rows, **body}, headers=world.as_member(member))
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


def check(
    client: TestClient, world: HubWorld, documents: list[dict[str, Any]], **body: Any
) -> list[dict[str, Any]]:
    got = client.post(
        CHECK,
        json={"documents": documents, **body},
        headers=world.as_member(MET, officer="pc.jones"),
    )
    assert got.status_code == 200, got.text
    answers: list[dict[str, Any]] = got.json()["answers"]
    assert [a["index"] for a in answers] == list(range(len(documents)))
    return answers


def td3(number: str, state: str = "FRA") -> str:
    return format_mrz(
        MachineReadableZone(
            format=MrzFormat.TD3,
            document_code="P",
            issuing_state=state,
            document_number=number,
            primary_identifier="MARTIN",
            secondary_identifiers="CLAIRE",
            nationality=state,
            birth_date=date(1984, 5, 17),
            sex="F",
            expiry_date=date(2030, 1, 9),
        )
    )


# --- checks ------------------------------------------------------------------------


def test_check_by_number_finds_the_record_and_is_audited(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, "ncb-fr", [doc("14FR00001", caveats="seized at Calais")])
    (answer, miss) = check(hub, world, [{"number": "14fr 00001"}, {"number": "99XX"}])
    (hit,) = answer["hits"]
    assert hit["key"] == "FRA:passport:14FR00001"
    assert (hit["owner"], hit["owner_country"], hit["access"]) == ("ncb-fr", "FR", "full")
    assert hit["strength"] == "exact" and hit["score"] == 1.0
    assert hit["record"]["status"] == "stolen-from-holder"
    assert hit["caveats"] == "seized at Calais"
    assert hit["advice"].startswith("Hit.")
    assert "Confirm with NCB Paris (FR) through your NCB" in hit["advice"]
    assert miss == {"index": 1, "hits": []}
    (audited,) = entries(world, "enquiry.documents")
    assert (audited.member, audited.officer, audited.outcome) == (MET, "pc.jones", Outcome.HIT)
    assert audited.detail["probes"] == 2
    kinds = {(e.recipient, e.kind) for e in world.events_for("ncb-fr")}
    assert ("ncb-fr", "register.hit") in kinds
    assert [e.kind for e in world.events_for("ncb-gb")].count("register.hit") == 1


def test_a_check_merged_by_a_node_says_so_in_the_audit_entry(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    body = {"documents": [{"number": "A1"}, {"number": "B2"}, {"number": "C3"}], "requests": 3}
    got = memory_hub.post(
        CHECK, json=body, headers=memory_world.as_member(MET, officer="sys.gates")
    )
    assert got.status_code == 200, got.text
    assert len(got.json()["answers"]) == 3
    (audited,) = entries(memory_world, "enquiry.documents")
    assert (audited.officer, audited.detail["probes"], audited.detail["requests"]) == (
        "sys.gates",
        3,
        3,
    )
    single = memory_hub.post(
        CHECK, json={"documents": [{"number": "A1"}]}, headers=memory_world.as_member(MET)
    )
    assert single.status_code == 200, single.text
    assert "requests" not in entries(memory_world, "enquiry.documents")[-1].detail


def test_check_by_mrz_finds_the_record(world: HubWorld, hub: TestClient) -> None:
    report(hub, world, "ncb-fr", [doc("14FR00001")])
    zone = td3("14FR00001")
    assert len(zone.splitlines()) == 2 and all(len(x) == 44 for x in zone.splitlines())
    (answer, run_together) = check(hub, world, [{"mrz": zone}, {"mrz": zone.replace("\n", "")}])
    assert [h["key"] for h in answer["hits"]] == ["FRA:passport:14FR00001"]
    assert [h["key"] for h in run_together["hits"]] == ["FRA:passport:14FR00001"]


def test_an_mrz_with_a_wrong_check_digit_is_an_error_for_that_item(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    zone = td3("14FR00001")
    line1, line2 = zone.splitlines()
    broken = line1 + "\n" + line2[:9] + str((int(line2[9]) + 1) % 10) + line2[10:]
    (bad, good) = check(memory_hub, memory_world, [{"mrz": broken}, {"mrz": zone}])
    assert "hits" not in bad
    assert bad["error"].startswith("document_number: check digit expected")
    assert good["hits"] == []


def test_a_tolerant_check_gives_a_possible_hit_with_the_mismatch_explained(
    world: HubWorld, hub: TestClient
) -> None:
    report(hub, world, "ncb-fr", [doc("B0123456")])
    (strict,) = check(hub, world, [{"number": "BO123456", "issuing_state": "FRA"}])
    assert strict["hits"] == []
    (tolerant,) = check(hub, world, [{"number": "BO123456", "issuing_state": "FRA"}], tolerant=True)
    (hit,) = tolerant["hits"]
    assert hit["strength"] == "possible"
    assert hit["score"] == pytest.approx(0.9)
    assert "position 2: read 'O', register has '0'" in hit["explanation"]
    assert hit["advice"].startswith("Possible hit only")


def test_a_batch_of_ten_thousand_is_answered_in_order(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    world, hub = memory_world, memory_hub
    registered = [f"FR{i:07d}" for i in range(0, MAX_CHECK_BATCH, 97)]
    report(hub, world, "ncb-fr", [doc(n) for n in registered])
    documents: list[dict[str, Any]] = [{"number": f"FR{i:07d}"} for i in range(MAX_CHECK_BATCH)]
    bad_at = 4321
    documents[bad_at] = {"number": "FR.4321"}
    answers = check(hub, world, documents)
    assert len(answers) == MAX_CHECK_BATCH
    for i, answer in enumerate(answers):
        if i == bad_at:
            assert "hits" not in answer and answer["error"].startswith("number: ")
            continue
        assert "error" not in answer
        expected = [f"FRA:passport:FR{i:07d}"] if i % 97 == 0 else []
        assert [h["key"] for h in answer["hits"]] == expected, i
    (audited,) = entries(world, "enquiry.documents")
    assert audited.detail["hits"] == len(registered)


def test_a_batch_over_the_limit_is_refused_whole(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    documents = [{"number": f"FR{i:07d}"} for i in range(MAX_CHECK_BATCH + 1)]
    got = memory_hub.post(CHECK, json={"documents": documents}, headers=memory_world.as_member(MET))
    assert "documents" in error_of(got, 422, "invalid_input")
    assert entries(memory_world, "enquiry.documents") == []


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({}, "number: give a document number or an mrz"),
        ({"number": "A1", "issuing_state": "ZZZ"}, "issuing_state: "),
        ({"number": "A1", "document_type": "passport-card"}, "document_type: "),
    ],
)
def test_a_bad_item_is_answered_with_its_error(
    memory_world: HubWorld, memory_hub: TestClient, item: dict[str, Any], reason: str
) -> None:
    (bad, good) = check(memory_hub, memory_world, [item, {"number": "A1"}])
    assert bad["error"].startswith(reason)
    assert good == {"index": 1, "hits": []}


def test_a_member_without_documents_in_scope_is_forbidden(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    got = memory_hub.put(
        f"/v1/members/{MET}/scope",
        json={"registers": ["persons"]},
        headers=memory_world.as_member("ncb-gb"),
    )
    assert got.status_code == 200, got.text
    got = memory_hub.post(
        CHECK, json={"documents": [{"number": "A1"}]}, headers=memory_world.as_member(MET)
    )
    assert "documents register" in error_of(got, 403, "forbidden")
    assert entries(memory_world, "enquiry.documents") == []


# --- reports as JSON ----------------------------------------------------------------


def test_records_best_effort_applies_the_good_rows(world: HubWorld, hub: TestClient) -> None:
    answer = report(
        hub,
        world,
        "ncb-fr",
        [doc("A1"), doc("A2", status="misplaced"), doc("A3", state="GBR"), doc("A4")],
    )
    assert (answer["added"], answer["rejected_count"], answer["committed"]) == (2, 2, True)
    assert [r["line"] for r in answer["rejected"]] == [2, 3]
    assert "NCB of GB" in answer["rejected"][1]["reason"]
    assert record_count(world) == 2
    (audited,) = entries(world, "records.documents")
    assert (audited.member, audited.outcome) == ("ncb-fr", Outcome.OK)
    assert audited.detail["added"] == 2 and audited.detail["rejected"] == 2


def test_records_all_or_nothing_applies_nothing_when_a_row_is_bad(
    world: HubWorld, hub: TestClient
) -> None:
    answer = report(
        hub,
        world,
        "ncb-fr",
        [doc("A1"), doc("A2"), {**doc("A3"), "line": 40, "status": ""}],
        all_or_nothing=True,
    )
    assert answer["committed"] is False
    assert answer["added"] == 0
    assert answer["rejected"] == [{"line": 40, "reason": "status: required"}]
    assert record_count(world) == 0
    (audited,) = entries(world, "records.documents")
    assert audited.outcome == Outcome.REFUSED
    assert audited.detail["rejected"] == 1 and audited.detail["added"] == 0
    (nothing,) = check(hub, world, [{"number": "A1"}])
    assert nothing["hits"] == []


def test_records_all_or_nothing_with_good_rows_applies_them_all(
    world: HubWorld, hub: TestClient
) -> None:
    answer = report(hub, world, "ncb-fr", [doc("A1"), doc("A2")], all_or_nothing=True)
    assert (answer["added"], answer["committed"]) == (2, True)
    assert record_count(world) == 2
    removed = report(
        hub,
        world,
        "ncb-fr",
        [{"op": "remove", "issuing_state": "FRA", "document_type": "passport", "number": "A1"}],
    )
    assert removed["removed"] == 1
    assert record_count(world) == 1


# --- streamed loads -----------------------------------------------------------------


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def chunked(data: bytes, size: int = 65_536) -> Iterator[bytes]:
    """The body as a stream of chunks (no Content-Length), as a node sends a load."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def load(
    client: TestClient, world: HubWorld, body: bytes, *, all_or_nothing: bool = False
) -> dict[str, Any]:
    got = client.post(
        LOAD,
        content=chunked(body),
        params={"all_or_nothing": str(all_or_nothing).lower()},
        headers={**world.as_member("ncb-fr", officer="op.durand")},
    )
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


SMALL_BATCH = 40
"""The hub's rows per transaction in these tests: a few hundred rows span several batches."""


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(reporting, "LOAD_BATCH", SMALL_BATCH)
    return SMALL_BATCH


def many_rows(count: int, bad: Mapping[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """``count`` rows numbered as lines 2, 3, ... of the member's file; ``bad`` by index."""
    rows = [{"line": i + 2, **doc(f"L{i:08d}")} for i in range(count)]
    for i, change in bad.items():
        rows[i] = {**rows[i], **change}
    return rows


def test_a_streamed_load_reports_bad_lines_by_their_line_field(
    world: HubWorld, hub: TestClient, small_batches: int
) -> None:
    count = small_batches + 30  # two batches
    rows = many_rows(count, {3: {"status": "gone"}, small_batches + 7: {"issuing_state": "GBR"}})
    # a line without a "line" field is numbered by its position in the stream
    body = b"not json\n" + ndjson(rows)
    answer = load(hub, world, body)
    assert answer["added"] == count - 2
    assert answer["committed"] is True
    reasons = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert sorted(reasons) == [1, 5, small_batches + 9]
    assert reasons[1].startswith("not valid JSON")
    assert reasons[5].startswith("status: 'gone'")
    assert "NCB of GB" in reasons[small_batches + 9]
    assert record_count(world) == count - 2
    audited = entries(world, "records.documents")
    assert len(audited) == 2  # one per batch, each landing whole
    assert {(e.member, e.officer) for e in audited} == {("ncb-fr", "op.durand")}


def test_an_all_or_nothing_load_with_one_bad_line_rolls_back_everything(
    world: HubWorld, hub: TestClient, small_batches: int
) -> None:
    # the bad line is in the third batch: the first two were applied, then undone
    rows = many_rows(2 * small_batches + 10, {2 * small_batches + 5: {"number": "L/1"}})
    answer = load(hub, world, ndjson(rows), all_or_nothing=True)
    assert answer["committed"] is False
    assert answer["added"] == 0
    assert [r["line"] for r in answer["rejected"]] == [2 * small_batches + 7]
    assert record_count(world) == 0
    (audited,) = entries(world, "records.documents")
    assert audited.outcome == Outcome.REFUSED


def test_an_all_or_nothing_load_of_good_lines_lands_whole(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    answer = load(memory_hub, memory_world, ndjson(many_rows(300, {})), all_or_nothing=True)
    assert (answer["added"], answer["committed"], answer["rejected_count"]) == (300, True, 0)
    assert record_count(memory_world) == 300


def test_an_empty_load_is_reported(memory_world: HubWorld, memory_hub: TestClient) -> None:
    answer = load(memory_hub, memory_world, b"")
    assert answer["rejected"] == [{"line": 1, "reason": "the upload is empty: no rows"}]


def test_a_load_over_the_limit_is_refused_with_413(tmp_path: Path) -> None:
    settings = HubSettings(
        directory=tmp_path, db_url="sqlite://", max_request_bytes=4_096, max_load_bytes=20_000
    )
    world = build_hub(tmp_path, settings=settings)
    body = ndjson(many_rows(400, {}))
    assert len(body) > 20_000
    with TestClient(world.app, base_url=HUB_URL) as client:
        declared = client.post(LOAD, content=body, headers=world.as_member("ncb-fr"))
        assert "20000 bytes" in error_of(declared, 413, "too_large")
        streamed = client.post(
            LOAD, content=chunked(body, 1_000), headers=world.as_member("ncb-fr")
        )
        error_of(streamed, 413, "too_large")
        assert record_count(world) == 0
        # the load route's own limit is not the limit of every route
        small = ndjson(many_rows(50, {}))
        assert 4_096 < len(small) < 20_000
        assert load(client, world, small)["added"] == 50
        documents = [{"number": f"FR{i:07d}"} for i in range(200)]
        got = client.post(CHECK, json={"documents": documents}, headers=world.as_member(MET))
        error_of(got, 413, "too_large")


def test_a_load_needs_a_certificate(memory_world: HubWorld, memory_hub: TestClient) -> None:
    got = memory_hub.post(LOAD, content=ndjson([doc("A1")]), headers={PRESENT_HEADER: "plain"})
    error_of(got, 401, "unauthenticated")
    assert record_count(memory_world) == 0


# --- the node's routes, with a scripted hub -----------------------------------------

NODE_CHECK = "/api/v1/documents/check"
NODE_RECORDS = "/api/v1/documents/records"
NODE_LOAD = "/api/v1/documents/load"
HUB_REPORT = {
    "added": 1,
    "changed": 0,
    "unchanged": 0,
    "removed": 0,
    "absent": 0,
    "rejected_count": 0,
    "rejected": [],
    "committed": True,
}


@pytest.fixture
def node(tmp_path: Path) -> NodeWorld:
    (tmp_path / "node").mkdir()
    world = build_node(tmp_path / "node")
    # the answer to a check of one document
    world.hub.routes[("POST", CHECK)] = {
        "checked_at": "x",
        "source": "live",
        "answers": [{"index": 0, "hits": []}],
    }
    world.hub.routes[("POST", RECORDS)] = HUB_REPORT
    world.hub.routes[("POST-STREAM", LOAD)] = HUB_REPORT
    return world


@pytest.fixture
def node_client(node: NodeWorld) -> Iterator[TestClient]:
    with TestClient(node.app, base_url=NODE_URL) as client:
        yield client


def login(client: TestClient, node: NodeWorld, account: OfficerAccount) -> dict[str, str]:
    got = client.post("/api/v1/login", json=node.login_body(account))
    assert got.status_code == 200, got.text
    return {"authorization": f"Bearer {got.json()['token']}"}


def system(node: NodeWorld) -> dict[str, str]:
    token = node.context.officers.issue_system_token("border-gates", node.clock())
    return {"authorization": f"Bearer {token}"}


def test_an_officer_may_check_but_not_report(node: NodeWorld, node_client: TestClient) -> None:
    headers = login(node_client, node, node.add_officer("pc.jones"))
    got = node_client.post(NODE_CHECK, json={"documents": [{"number": "A1"}]}, headers=headers)
    assert got.status_code == 200, got.text
    ((method, path, officer, body),) = node.hub.calls
    assert (method, path, officer) == ("POST", CHECK, "pc.jones")
    assert body == {"documents": [{"number": "A1"}], "tolerant": False}
    refused = node_client.post(NODE_RECORDS, json={"rows": [doc("A1", "GBR")]}, headers=headers)
    assert "pc.jones may only check" in error_of(refused, 403, "forbidden")
    refused = node_client.post(NODE_LOAD, content=b"number\nA1\n", headers=headers)
    error_of(refused, 403, "forbidden")
    assert len(node.hub.calls) == 1


@pytest.mark.parametrize("who", ["operator", "admin", "system"])
def test_operators_admins_and_national_systems_may_report(
    node: NodeWorld, node_client: TestClient, who: str
) -> None:
    if who == "system":
        headers, identity = system(node), "sys.border-gates"
    else:
        headers = login(node_client, node, node.add_officer("op.smith", Role(who)))
        identity = "op.smith"
    got = node_client.post(
        NODE_RECORDS, json={"rows": [doc("A1", "GBR")], "all_or_nothing": True}, headers=headers
    )
    assert got.status_code == 200, got.text
    assert got.json() == HUB_REPORT
    ((method, path, officer, body),) = node.hub.calls
    assert (method, path, officer) == ("POST", RECORDS, identity)
    assert body == {"rows": [doc("A1", "GBR")], "all_or_nothing": True}


def test_checks_and_reports_need_a_login(node: NodeWorld, node_client: TestClient) -> None:
    for path in (NODE_CHECK, NODE_RECORDS, NODE_LOAD):
        error_of(node_client.post(path, json={}), 401, "unauthenticated")
    assert node.hub.calls == []


def test_a_csv_load_reports_bad_rows_by_csv_line_and_sends_only_good_rows(
    node: NodeWorld, node_client: TestClient
) -> None:
    csv_text = "\r\n".join(
        [
            "issuing_state,document_type,number,status,caveats",
            "GBR,passport,A1,lost,",  # 2
            "GBR,passport,A2,misplaced,",  # 3: bad status
            "GBR,passport,A3,lost",  # 4: a field short
            "GBR,passport,a 1,stolen-blank,",  # 5: the same as line 2
            'GBR,passport,A6,lost,"kept, with care"',  # 6
        ]
    ).encode()
    got = node_client.post(
        NODE_LOAD, content=csv_text, params={"format": "csv"}, headers=system(node)
    )
    assert got.status_code == 200, got.text
    answer = got.json()
    assert [r["line"] for r in answer["rejected"]] == [3, 4, 5]
    assert "the same document as line 2" in answer["rejected"][2]["reason"]
    assert answer["rejected_count"] == 3
    ((method, path, officer, body),) = node.hub.calls
    assert (method, path, officer) == ("POST-STREAM", LOAD, "sys.border-gates")
    assert body["params"] == {"all_or_nothing": "false"}
    sent = [json.loads(line) for line in body["body"].splitlines()]
    assert [(s["line"], s["number"]) for s in sent] == [(2, "A1"), (6, "A6")]
    assert sent[1]["caveats"] == "kept, with care"


def test_an_ndjson_load_at_the_node_is_numbered_by_position(
    node: NodeWorld, node_client: TestClient
) -> None:
    body = b"\n".join(
        [json.dumps(doc("A1", "GBR")).encode(), b"[]", json.dumps(doc("A3", "GBR")).encode()]
    )
    got = node_client.post(
        NODE_LOAD, content=body, params={"format": "ndjson"}, headers=system(node)
    )
    assert got.status_code == 200, got.text
    assert got.json()["rejected"] == [{"line": 2, "reason": "a line must be one JSON object"}]
    ((_, _, _, sent),) = node.hub.calls
    assert [json.loads(line)["line"] for line in sent["body"].splitlines()] == [1, 3]


def test_an_all_or_nothing_csv_load_with_a_bad_row_sends_nothing(
    node: NodeWorld, node_client: TestClient
) -> None:
    csv_text = b"issuing_state,document_type,number,status\nGBR,passport,A1,lost\nGBR,x,A2,lost\n"
    got = node_client.post(
        NODE_LOAD,
        content=csv_text,
        params={"all_or_nothing": "true"},
        headers=system(node),
    )
    assert got.status_code == 200, got.text
    assert got.json()["committed"] is False
    assert [r["line"] for r in got.json()["rejected"]] == [3]
    assert node.hub.calls == []


# --- the node and the real hub together ---------------------------------------------


class InProcessHub:
    """The node's hub port over the hub's ASGI app in this process (as one member)."""

    def __init__(self, world: HubWorld, member: str) -> None:
        self._headers = world.as_member(member)
        self._transport = httpx.ASGITransport(app=world.app)

    async def post_stream(
        self,
        path: str,
        chunks: AsyncIterator[bytes],
        *,
        params: Mapping[str, Any] | None = None,
        officer: str | None = None,
    ) -> Any:
        headers = {**self._headers, **({OFFICER_HEADER: officer} if officer else {})}
        async with httpx.AsyncClient(transport=self._transport, base_url=HUB_URL) as client:
            got = await client.post(path, content=chunks, params=params, headers=headers)
        assert got.status_code == 200, got.text
        return got.json()


def _node_upload(world: HubWorld, tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "upload.csv"
    path.write_text(text, encoding="utf-8")
    report = asyncio.run(
        upload_file(
            InProcessHub(world, "ncb-gb"),  # type: ignore[arg-type]
            path,
            "csv",
            all_or_nothing=False,
            today=world.clock().date(),
            officer="op.smith",
        )
    )
    return report.to_json()


def test_a_node_upload_reaches_the_hub_and_the_reports_merge(
    memory_world: HubWorld, tmp_path: Path
) -> None:
    text = "\n".join(
        [
            "issuing_state,document_type,number,status",
            "GBR,passport,A1,lost",  # 2: lands
            "GBR,passport,A2,gone",  # 3: refused by the node
            "FRA,passport,A3,lost",  # 4: refused by the hub (not GB's to report)
            "GBR,passport,A4,lost",  # 5: lands
        ]
    )
    answer = _node_upload(memory_world, tmp_path, text)
    assert answer["added"] == 2
    assert [r["line"] for r in answer["rejected"]] == [3, 4]
    assert "NCB of FR" in answer["rejected"][1]["reason"]
    assert record_count(memory_world) == 2


def test_a_node_upload_with_only_bad_rows_reports_only_those_rows(
    memory_world: HubWorld, tmp_path: Path
) -> None:
    text = "issuing_state,document_type,number,status\nGBR,passport,A1,gone\n"
    answer = _node_upload(memory_world, tmp_path, text)
    assert answer["rejected"] == [{"line": 2, "reason": answer["rejected"][0]["reason"]}]
    assert answer["rejected_count"] == 1


def test_the_same_document_twice_in_a_short_load_is_refused_naming_the_first_line(
    memory_world: HubWorld, memory_hub: TestClient
) -> None:
    rows = many_rows(10, {7: {"number": "l 00000002", "status": "lost"}})
    answer = load(memory_hub, memory_world, ndjson(rows))
    assert answer["added"] == 9
    assert [r["line"] for r in answer["rejected"]] == [9]
    assert "the same document as line 4" in answer["rejected"][0]["reason"]


def test_the_same_document_twice_in_a_long_load_is_refused_naming_the_first_line(
    memory_world: HubWorld, memory_hub: TestClient, small_batches: int
) -> None:
    rows = many_rows(small_batches + 1, {small_batches: {"number": "L00000000", "status": "lost"}})
    answer = load(memory_hub, memory_world, ndjson(rows))
    assert [r["line"] for r in answer["rejected"]] == [small_batches + 2]
    assert "the same document as line 2" in answer["rejected"][0]["reason"]


def test_an_ncb_exports_its_documents_in_the_form_a_load_reads(
    world: HubWorld, hub: TestClient
) -> None:
    rows = [doc("12AB34567", remarks="seized blank"), doc("98ZZ76543", status="lost")]
    assert report(hub, world, "ncb-fr", rows)["added"] == 2
    got = hub.get("/v1/documents/export?format=csv", headers=world.as_member("ncb-fr"))
    assert got.status_code == 200, got.text
    lines = got.text.splitlines()
    assert lines[0].startswith("issuing_state,document_type,number,status")
    assert len(lines) == 3 and "seized blank" in got.text
    again = hub.get("/v1/documents/export", headers=world.as_member("ncb-fr"))
    exported = [json.loads(line) for line in again.text.splitlines()]
    assert report(hub, world, "ncb-fr", exported)["unchanged"] == 2
    other = hub.get("/v1/documents/export", headers=world.as_member("ncb-gb"))
    assert other.status_code == 200 and other.text == ""
    assert [e.detail["format"] for e in entries(world, "records.documents.export")] == [
        "csv",
        "ndjson",
        "ndjson",
    ]
