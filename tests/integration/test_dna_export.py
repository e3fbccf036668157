"""A member exports its own DNA profiles in the form the register loads, and loads them back."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from policenet.demo.dna import reference_and_stain
from policenet.registers.dna.profile import validate
from policenet.registers.loading import ENVELOPE_FIELDS
from tests.integration.apps import HubWorld, TestClient, build_hub

HUB_URL = "https://hub.test"


@pytest.fixture
def world(tmp_path: Path) -> HubWorld:
    return build_hub(tmp_path)


@pytest.fixture
def hub(world: HubWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url=HUB_URL) as client:
        yield client


def test_export_gives_back_only_the_callers_profiles_and_reloads_unchanged(
    world: HubWorld, hub: TestClient
) -> None:
    reference, stain = reference_and_stain()
    for member, row in (("ncb-gb", reference), ("ncb-fr", stain)):
        got = hub.post("/v1/dna/records", json={"rows": [row]}, headers=world.as_member(member))
        assert got.status_code == 200 and got.json()["added"] == 1, got.text

    exported = hub.get("/v1/dna/export", headers=world.as_member("ncb-gb"))
    assert exported.status_code == 200
    lines = [json.loads(line) for line in exported.text.splitlines() if line]
    assert [line["reference"] for line in lines] == [reference["reference"]]
    assert lines[0]["mode"] == "reference-only", "DNA profiles are reference-only by default"
    profile = {k: v for k, v in lines[0].items() if k not in ENVELOPE_FIELDS}
    assert validate(profile).loci == validate(reference).loci

    again = hub.post("/v1/dna/records", json={"rows": lines}, headers=world.as_member("ncb-gb"))
    assert again.status_code == 200
    assert (again.json()["added"], again.json()["unchanged"], again.json()["rejected_count"]) == (
        0,
        1,
        0,
    )

    as_csv = hub.get("/v1/dna/export", params={"format": "csv"}, headers=world.as_member("ncb-fr"))
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["reference"] for r in rows] == [stain["reference"]]
    assert rows[0]["mixture"] == "True"
    reloaded = hub.post(
        "/v1/dna/records",
        json={"rows": [{k: v for k, v in rows[0].items() if v != ""}]},
        headers=world.as_member("ncb-fr"),
    )
    assert reloaded.json()["unchanged"] == 1, reloaded.text
