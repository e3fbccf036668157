"""The DNA register's hub API in process: reports, searches, kinship, cases and the audit log.

The hub is the world of tests/integration/apps.py (certificates presented as
the ASGI TLS extension). NCB London (``ncb-gb``) reports profiles; DS Khan of
the Metropolitan Police (``gb-metropolitan-police``, an agency of ncb-gb that
may search every register but may not report) searches them. NCB Paris
(``ncb-fr``) has no DNA register in scope.

Profiles are made up: alleles drawn (seeded) from the shipped NIST 1036
frequencies at the 20 CODIS core loci, as the demo does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policenet.demo.dna import CODIS_CORE, as_row, draw_person
from policenet.domain.audit import AuditEntry
from policenet.store.ports import Store
from tests.integration.apps import HubWorld, TestClient, build_hub

HUB_URL = "https://hub.test"
MET = "gb-metropolitan-police"
RECORDS = "/v1/dna/records"
SEARCH = "/v1/dna/search"
KINSHIP = "/v1/dna/kinship"

Person = dict[str, tuple[int, int]]


def people(seed: int, count: int) -> list[Person]:
    rng = random.Random(seed)
    return [draw_person(rng) for _ in range(count)]


def child_of(parent: Person, other_parent: Person, rng: random.Random) -> Person:
    """One allele from each parent at every locus (no mutation)."""
    return {
        locus: (rng.choice(parent[locus]), rng.choice(other_parent[locus])) for locus in CODIS_CORE
    }


def entries(world: HubWorld, action: str) -> list[AuditEntry]:
    return [e for e in world.audit_entries() if e.action == action]


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    return str(body["message"])


def dna_count(world: HubWorld) -> int:
    with world.store.unit_of_work() as uow:
        return uow.records.count("dna")


@pytest.fixture
def world(tmp_path: Path) -> HubWorld:
    return build_hub(tmp_path)


@pytest.fixture
def hub(world: HubWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url=HUB_URL) as client:
        yield client


def report(
    client: TestClient,
    world: HubWorld,
    rows: list[dict[str, Any]],
    member: str = "ncb-gb",
    **body: Any,
) -> dict[str, Any]:
    got = client.post(RECORDS, json={"rows": rows, **body}, headers=world.as_member(member))
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


def search(
    client: TestClient,
    world: HubWorld,
    profile: dict[str, Any],
    member: str = MET,
    **body: Any,
) -> list[dict[str, Any]]:
    got = client.post(
        SEARCH,
        json={"profile": profile, **body},
        headers=world.as_member(member, officer="ds.khan"),
    )
    assert got.status_code == 200, got.text
    hits: list[dict[str, Any]] = got.json()["hits"]
    return hits


# --- reporting --------------------------------------------------------------------------


def test_an_ncb_reports_profiles_and_an_agency_without_may_report_may_not(
    world: HubWorld, hub: TestClient
) -> None:
    a, b = people(1, 2)
    answer = report(hub, world, [as_row("GB-DNA-1", "reference-convicted", a)])
    assert (answer["added"], answer["rejected_count"]) == (1, 0)
    refused = report(hub, world, [as_row("GB-DNA-2", "reference-convicted", b)], member=MET)
    assert refused["added"] == 0
    ((row,),) = [refused["rejected"]]
    assert row["line"] == 1 and f"{MET} may not add DNA profiles" in row["reason"]
    assert dna_count(world) == 1
    # the same profile again changes nothing (its natural key is category:reference)
    again = report(hub, world, [as_row("GB-DNA-1", "reference-convicted", a)])
    assert (again["added"], again["unchanged"]) == (0, 1)


def test_a_profile_of_fewer_than_six_loci_is_refused_naming_loci(
    world: HubWorld, hub: TestClient
) -> None:
    (a,) = people(2, 1)
    five = {locus: a[locus] for locus in CODIS_CORE[:5]}
    six = {locus: a[locus] for locus in CODIS_CORE[:6]}
    answer = report(
        hub,
        world,
        [as_row("GB-5", "reference-convicted", five), as_row("GB-6", "reference-convicted", six)],
    )
    assert answer["added"] == 1
    ((row,),) = [answer["rejected"]]
    assert row["line"] == 1 and row["reason"].startswith("loci:")
    message = error_of(
        hub.post(
            SEARCH,
            json={"profile": as_row("S-5", "crime-scene-stain", five)},
            headers=world.as_member(MET),
        ),
        422,
        "invalid_field",
    )
    assert message.startswith("loci:") and "5 loci" in message


def test_all_or_nothing_applies_no_row_when_one_is_bad(world: HubWorld, hub: TestClient) -> None:
    a, b = people(3, 2)
    bad = as_row("GB-BAD", "reference-convicted", {locus: a[locus] for locus in CODIS_CORE[:3]})
    rows = [as_row("GB-A", "reference-convicted", a), bad]
    answer = report(hub, world, rows, all_or_nothing=True)
    assert answer["committed"] is False and answer["added"] == 0
    assert [r["line"] for r in answer["rejected"]] == [2]
    assert dna_count(world) == 0
    assert search(hub, world, as_row("S-A", "crime-scene-stain", a)) == []
    good = report(
        hub,
        world,
        [as_row("GB-A", "reference-convicted", a), as_row("GB-B", "reference-convicted", b)],
        all_or_nothing=True,
    )
    assert (good["committed"], good["added"]) == (True, 2)
    assert dna_count(world) == 2


# --- searching --------------------------------------------------------------------------


def test_a_reference_is_found_by_a_search_of_the_same_profile_with_its_weight(
    world: HubWorld, hub: TestClient
) -> None:
    suspect, other = people(4, 2)
    report(
        hub,
        world,
        [
            as_row("GB-SUSPECT", "reference-convicted", suspect, amelogenin="XY"),
            as_row("GB-OTHER", "reference-convicted", other),
        ],
    )
    (hit,) = search(hub, world, as_row("GB-STAIN-1", "crime-scene-stain", suspect))
    assert (hit["key"], hit["owner"]) == ("reference-convicted:GB-SUSPECT", "ncb-gb")
    assert hit["access"] == "reference-only" and hit["record"] is None
    details = hit["details"]
    assert details["rule"] == "full" and details["differing"] == []
    assert details["loci_count"] == len(CODIS_CORE) == len(details["loci_compared"])
    assert details["statistic"] == "random match probability"
    assert details["theta"] == 0.01
    assert details["likelihood_ratio"] == pytest.approx(1 / details["value"])
    assert details["likelihood_ratio"] > 1e15  # twenty loci
    assert any("random match probability" in line for line in hit["explanation"])


def test_a_mixed_stain_holding_the_reference_is_found_at_moderate_but_not_high(
    world: HubWorld, hub: TestClient
) -> None:
    suspect, victim = people(5, 2)
    report(hub, world, [as_row("GB-SUSPECT", "reference-convicted", suspect)])
    loci = {locus: (*suspect[locus], *victim[locus]) for locus in CODIS_CORE}
    stain = as_row("GB-STAIN-2", "crime-scene-stain", loci, mixture=True)
    # the stain must hold an allele the suspect lacks somewhere, or high stringency would hold
    assert any(set(loci[locus]) - set(suspect[locus]) for locus in CODIS_CORE)
    (hit,) = search(hub, world, stain, stringency="moderate")
    assert hit["key"] == "reference-convicted:GB-SUSPECT"
    details = hit["details"]
    assert details["rule"] == "moderate"
    assert details["statistic"] == "combined probability of inclusion"
    assert details["likelihood_ratio"] == pytest.approx(1 / details["value"])
    assert details["likelihood_ratio"] > 1
    assert search(hub, world, stain, stringency="high") == []


def test_one_allele_different_is_a_near_match(world: HubWorld, hub: TestClient) -> None:
    (suspect,) = people(6, 1)
    report(hub, world, [as_row("GB-SUSPECT", "reference-convicted", suspect)])
    changed = dict(suspect)
    first, _ = suspect["D8S1179"]
    changed["D8S1179"] = (first, 305)  # 30.5 repeats: on no D8S1179 ladder
    (hit,) = search(hub, world, as_row("GB-STAIN-3", "crime-scene-stain", changed))
    assert hit["key"] == "reference-convicted:GB-SUSPECT"
    assert hit["details"]["rule"] == "near"
    assert hit["details"]["differing"] == ["D8S1179"]
    assert hit["explanation"][0].startswith("near match")


def test_a_reference_only_hit_never_shows_the_records_alleles(
    world: HubWorld, hub: TestClient
) -> None:
    (suspect,) = people(6, 1)
    report(hub, world, [as_row("GB-SUSPECT", "reference-convicted", suspect)])
    changed = dict(suspect)
    first, _ = suspect["D8S1179"]
    changed["D8S1179"] = (first, 305)
    (hit,) = search(hub, world, as_row("GB-STAIN-3", "crime-scene-stain", changed))
    assert hit["access"] == "reference-only"
    shown = as_row("x", "x", {"D8S1179": suspect["D8S1179"]})["D8S1179"]
    text = " ".join(hit["explanation"])
    assert "record " + shown not in text, text


def test_a_relatives_profile_is_not_found_by_a_stain_search(
    world: HubWorld, hub: TestClient
) -> None:
    (person,) = people(7, 1)
    report(
        hub,
        world,
        [
            as_row("GB-MISPER-REL-1", "relative-of-missing-person", person),
            as_row("GB-CONVICT-1", "reference-convicted", person),
        ],
    )
    hits = search(hub, world, as_row("GB-STAIN-4", "crime-scene-stain", person), stringency="low")
    # the same alleles on file as a convicted person's reference are found; the relative's not
    assert [h["key"] for h in hits] == ["reference-convicted:GB-CONVICT-1"]


def test_a_member_without_the_dna_register_may_not_search(world: HubWorld, hub: TestClient) -> None:
    (person,) = people(8, 1)
    message = error_of(
        hub.post(
            SEARCH,
            json={"profile": as_row("FR-S", "crime-scene-stain", person)},
            headers=world.as_member("ncb-fr"),
        ),
        403,
        "forbidden",
    )
    assert "dna" in message
    assert entries(world, "enquiry.dna") == []


# --- cases and the audit log --------------------------------------------------------------


def test_a_hit_on_another_members_profile_opens_a_case_carrying_the_likelihood_ratio(
    world: HubWorld, hub: TestClient
) -> None:
    (suspect,) = people(9, 1)
    report(hub, world, [as_row("GB-SUSPECT", "reference-convicted", suspect)])
    (hit,) = search(hub, world, as_row("GB-STAIN-5", "crime-scene-stain", suspect))
    number = hit["case"]
    assert isinstance(number, str), hit
    got = hub.get(f"/v1/cases/{number}", headers=world.as_member(MET))
    assert got.status_code == 200, got.text
    case = got.json()
    assert (case["register"], case["record_key"]) == ("dna", "reference-convicted:GB-SUSPECT")
    assert (case["owner"], case["enquirer"], case["enquirer_officer"]) == (
        "ncb-gb",
        MET,
        "ds.khan",
    )
    assert case["hit"]["likelihood_ratio"] == pytest.approx(hit["details"]["likelihood_ratio"])
    assert case["hit"]["rule"] == "full"
    # the owner searching its own profile opens no case
    (own,) = search(hub, world, as_row("GB-STAIN-6", "crime-scene-stain", suspect), "ncb-gb")
    assert own["case"] is None


def test_every_search_is_audited_hit_or_not(world: HubWorld, hub: TestClient) -> None:
    suspect, stranger = people(10, 2)
    report(hub, world, [as_row("GB-SUSPECT", "reference-convicted", suspect)])
    assert len(search(hub, world, as_row("GB-S7", "crime-scene-stain", suspect))) == 1
    assert search(hub, world, as_row("GB-S8", "crime-scene-stain", stranger)) == []
    audited = entries(world, "enquiry.dna")
    assert [(e.member, e.officer) for e in audited] == [(MET, "ds.khan")] * 2


# --- kinship ----------------------------------------------------------------------------


def test_a_child_found_as_remains_ranks_its_parent_first(world: HubWorld, hub: TestClient) -> None:
    parent, other_parent, *strangers = people(11, 8)
    child = child_of(parent, other_parent, random.Random(11))
    rows = [as_row("GB-REL-PARENT", "relative-of-missing-person", parent)]
    rows += [
        as_row(f"GB-REL-{n}", "relative-of-missing-person", s) for n, s in enumerate(strangers)
    ]
    # a convicted person's reference identical to the parent: never a kinship candidate
    rows.append(as_row("GB-CONVICT-P", "reference-convicted", parent))
    report(hub, world, rows)
    before = len(entries(world, "enquiry.dna"))
    got = hub.post(
        KINSHIP,
        json={
            "profile": as_row("GB-REMAINS-1", "unidentified-remains", child),
            "relationship": "parent-child",
        },
        headers=world.as_member(MET, officer="ds.khan"),
    )
    assert got.status_code == 200, got.text
    answer = got.json()
    assert answer["relationship"] == "parent-child"
    candidates = answer["candidates"]
    keys = [c["key"] for c in candidates]
    assert keys[0] == "relative-of-missing-person:GB-REL-PARENT"
    assert set(keys) <= {r["category"] + ":" + r["reference"] for r in rows[:-1]}
    assert candidates[0]["likelihood_ratio"] > 1000
    assert all(c["likelihood_ratio"] < candidates[0]["likelihood_ratio"] for c in candidates[1:])
    assert set(candidates[0]) == {"key", "owner", "likelihood_ratio", "loci", "explanation"}
    assert len(entries(world, "enquiry.dna")) == before + 1


def test_a_stain_is_not_compared_by_kinship(world: HubWorld, hub: TestClient) -> None:
    (person,) = people(12, 1)
    message = error_of(
        hub.post(
            KINSHIP,
            json={"profile": as_row("GB-S9", "crime-scene-stain", person)},
            headers=world.as_member(MET),
        ),
        422,
        "invalid_field",
    )
    assert message.startswith("category:")


def test_all_or_nothing_rolls_back_on_every_store(tmp_path: Path, store: Store) -> None:
    # build_hub is typed for a MemoryStore; any store keeps the same port
    world = build_hub(tmp_path, store=store)  # type: ignore[arg-type]
    (a,) = people(13, 1)
    rows = [
        as_row("GB-A", "reference-convicted", a),
        as_row("GB-B", "reference-convicted", {"TH01": (60, 70)}),
    ]
    with TestClient(world.app, base_url=HUB_URL) as client:
        answer = report(client, world, rows, all_or_nothing=True)
        assert answer["committed"] is False
        assert dna_count(world) == 0
        assert search(client, world, as_row("S", "crime-scene-stain", a)) == []
