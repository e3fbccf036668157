"""The shipped allele frequency tables, their floor, and the script that builds them."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.errors import InvalidField, InvalidInput
from policenet.registers.dna.frequencies import (
    AlleleFrequencies,
    LocusFrequencies,
    allele_designation,
    default_frequencies,
    parse_allele,
)
from tests.reference_data import SHARED_DATA

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "src" / "policenet" / "registers" / "dna" / "data"
TABLE = DATA / "nist1036-frequencies.json"
NIST_CSV = SHARED_DATA / "dna" / "nist1036_genotypes.csv"
SCRIPT = ROOT / "scripts" / "build_dna_frequencies.py"

POPULATIONS = {"all": 1036, "african_american": 342, "caucasian": 361, "hispanic": 236, "asian": 97}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text("utf-8"))
    return data


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dna_frequencies", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the shipped tables --------------------------------------------------------------


def test_every_population_and_its_size_is_shipped(document: dict[str, Any]) -> None:
    sizes = {name: body["individuals"] for name, body in document["populations"].items()}
    assert sizes == POPULATIONS
    for body in document["populations"].values():
        assert len(body["loci"]) == 29


def test_frequencies_sum_to_one_per_locus_and_population(document: dict[str, Any]) -> None:
    for population, body in document["populations"].items():
        for locus, entry in body["loci"].items():
            total = math.fsum(entry["frequencies"].values())
            assert total == pytest.approx(1.0, abs=1e-9), (population, locus, total)


def test_frequencies_are_counts_over_2n_of_typed_individuals(document: dict[str, Any]) -> None:
    for population, body in document["populations"].items():
        for locus, entry in body["loci"].items():
            n = entry["individuals"]
            # Penta D and TPOX are each untyped in one person; nobody else is missing a locus.
            assert body["individuals"] - 1 <= n <= body["individuals"], (population, locus)
            assert sum(entry["counts"].values()) == 2 * n
            for allele, count in entry["counts"].items():
                assert entry["frequencies"][allele] == count / (2 * n)


def test_all_is_the_sum_of_the_four_groups(document: dict[str, Any]) -> None:
    groups = [body for name, body in document["populations"].items() if name != "all"]
    for locus, entry in document["populations"]["all"]["loci"].items():
        summed: Counter[str] = Counter()
        for body in groups:
            summed.update(body["loci"][locus]["counts"])
        assert dict(summed) == entry["counts"], locus
        assert entry["individuals"] == sum(body["loci"][locus]["individuals"] for body in groups)


def test_the_tables_say_where_they_come_from(document: dict[str, Any]) -> None:
    source = document["source"]
    assert source["file"] == "nist1036_genotypes.csv"
    assert "NIST" in source["title"] and "Public domain" in source["licence"]
    assert document["script"] == "scripts/build_dna_frequencies.py"
    dt.date.fromisoformat(document["computed"])
    prose = (DATA / "PROVENANCE.md").read_text("utf-8")
    for fact in (source["file"], document["computed"], document["script"], "17"):
        assert fact in prose


def test_the_shipped_tables_are_what_the_script_computes_from_the_nist_file(
    document: dict[str, Any],
) -> None:
    if not NIST_CSV.is_file():
        pytest.skip(f"NIST 1036 genotypes not found at {NIST_CSV} (shared reference data)")
    rebuilt = _script().build(NIST_CSV, dt.date.fromisoformat(document["computed"]))
    assert rebuilt == document


def test_the_script_writes_both_files(tmp_path: Path) -> None:
    source = tmp_path / "tiny.csv"
    source.write_text(
        'sample,population,TH01,Penta_D\nS1,AA,"6,9.3","9,10.0"\nS2,Cauc,"9.3,9.3",\n',
        encoding="utf-8",
    )
    arguments = ["--source", str(source), "--output-dir", str(tmp_path / "out")]
    assert _script().main([*arguments, "--date", "2026-01-02"]) == 0
    written = json.loads((tmp_path / "out" / "nist1036-frequencies.json").read_text("utf-8"))
    everyone = written["populations"]["all"]["loci"]
    assert everyone["TH01"] == {
        "individuals": 2,
        "counts": {"6": 1, "9.3": 3},
        "frequencies": {"6": 0.25, "9.3": 0.75},
    }
    assert everyone["Penta D"]["individuals"] == 1  # S2 was not typed there
    assert everyone["Penta D"]["counts"] == {"9": 1, "10": 1}
    assert written["computed"] == "2026-01-02"
    assert "2026-01-02" in (tmp_path / "out" / "PROVENANCE.md").read_text("utf-8")


# -- reading them, with the floor ----------------------------------------------------


def test_a_common_allele_keeps_its_observed_frequency() -> None:
    table = default_frequencies()
    observed = table.observed("all", "TH01", 93)
    assert observed > 0.2  # 9.3 is the commonest TH01 allele among Caucasians
    assert table.frequency("all", "TH01", 93) == observed


def test_an_unseen_allele_gets_five_over_2n() -> None:
    table = default_frequencies()
    assert table.observed("asian", "TH01", 140) == 0.0
    assert table.frequency("asian", "TH01", 140) == 5 / (2 * 97)
    assert table.frequency("all", "Penta D", 990) == 5 / (2 * 1035)  # one person untyped


def test_a_rare_allele_is_raised_to_the_floor() -> None:
    table = default_frequencies()
    rare = [
        allele for allele, value in table.alleles("all", "D21S11").items() if value < 5 / (2 * 1036)
    ]
    assert rare, "D21S11 has alleles seen fewer than five times"
    for allele in rare:
        assert table.frequency("all", "D21S11", allele) == 5 / (2 * 1036)


def test_a_fixed_floor_replaces_five_over_2n() -> None:
    table = AlleleFrequencies.nist1036(minimum_frequency=0.001)
    assert table.frequency("asian", "TH01", 140) == 0.001
    unfloored = AlleleFrequencies.nist1036(minimum_count=0)
    assert unfloored.frequency("asian", "TH01", 140) == 0.0


def test_names_are_matched_loosely_and_populations_by_source_code() -> None:
    table = default_frequencies()
    expected = table.frequency("african_american", "Penta D", 100)
    for population in ("AA", "african_american", "African-American"):
        for locus in ("Penta D", "PENTA_D", "penta-d", "PentaD"):
            assert table.frequency(population, locus, 100) == expected
    assert table.frequency("all", "VWA", 170) == table.frequency("all", "vWA", 170)
    assert table.populations() == tuple(POPULATIONS)
    assert table.label("Hisp") == "Hispanic"


def test_unknown_population_or_locus_is_named_in_the_error() -> None:
    table = default_frequencies()
    with pytest.raises(InvalidField) as population:
        table.frequency("martian", "TH01", 60)
    assert population.value.field == "population" and "martian" in population.value.reason
    with pytest.raises(InvalidField) as locus:
        table.frequency("all", "DYS391", 100)
    assert locus.value.field == "locus" and "DYS391" in locus.value.reason


@pytest.mark.parametrize(
    ("count", "fixed", "field"),
    [
        (-1.0, None, "minimum_count"),
        (math.nan, None, "minimum_count"),
        (5.0, 1.5, "minimum_frequency"),
    ],
)
def test_a_bad_floor_is_refused(count: float, fixed: float | None, field: str) -> None:
    tables = {"x": {"TH01": LocusFrequencies(10, {60: 1.0})}}
    with pytest.raises(InvalidField) as caught:
        AlleleFrequencies(tables, minimum_count=count, minimum_frequency=fixed)
    assert caught.value.field == field


def test_a_bad_table_is_refused() -> None:
    with pytest.raises(InvalidField, match="individuals"):
        AlleleFrequencies({"x": {"TH01": LocusFrequencies(0, {60: 1.0})}})
    with pytest.raises(InvalidField, match="frequency"):
        AlleleFrequencies({"x": {"TH01": LocusFrequencies(10, {60: 1.2})}})
    with pytest.raises(InvalidInput, match="format"):
        AlleleFrequencies.from_document({"format": "something else"})


# -- allele designations --------------------------------------------------------------


@given(st.integers(min_value=1, max_value=9999))
def test_designations_round_trip(allele: int) -> None:
    assert parse_allele(allele_designation(allele)) == allele


@pytest.mark.parametrize(("text", "tenths"), [("9.3", 93), ("10", 100), ("2.2", 22), ("10.0", 100)])
def test_designations_in_tenths(text: str, tenths: int) -> None:
    assert parse_allele(text) == tenths


@pytest.mark.parametrize("text", ["<8", "OL", "9.10", "", "x", "-1"])
def test_off_ladder_and_garbage_are_refused(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_allele(text)
    assert caught.value.field == "allele"
