"""Kinship likelihood ratios: hand-worked cases, properties, a search among the NIST people."""

from __future__ import annotations

import csv
import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.dna.frequencies import (
    AlleleFrequencies,
    LocusFrequencies,
    parse_allele,
)
from policenet.registers.dna.kinship import (
    Relationship,
    kinship_index,
    kinship_lr,
    rank_candidates,
)
from tests.reference_data import SHARED_DATA

NIST_CSV = SHARED_DATA / "dna" / "nist1036_genotypes.csv"
# Constructed frequencies, N = 100 so the 5/2N floor is 0.025.
TH01 = {60: 0.2, 70: 0.1, 80: 0.4, 93: 0.3}
TABLE = AlleleFrequencies({"test": {"TH01": LocusFrequencies(100, TH01)}})
PC, FS, HS = Relationship.PARENT_CHILD, Relationship.FULL_SIBLINGS, Relationship.HALF_SIBLINGS
CODIS_13 = {"CSF1PO", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539", "D18S51"}
CODIS_13 |= {"D21S11", "FGA", "TH01", "TPOX", "vWA"}


def lr(
    a: tuple[int, ...], b: tuple[int, ...], relationship: Relationship, theta: float = 0.0
) -> float:
    return kinship_lr(
        {"TH01": a}, {"TH01": b}, relationship, "test", theta, frequencies=TABLE
    ).combined


# -- hand-worked cases, θ = 0 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((93,), (93,), 1 / 0.3),  # a/a, a/a: 1/p
        ((93,), (60, 93), 1 / (2 * 0.3)),  # a/a, a/b: 1/(2p)
        ((60, 93), (93,), 1 / (2 * 0.3)),  # a/b, b/b: 1/(2p_b)
        ((60, 93), (60, 93), (0.2 + 0.3) / (4 * 0.2 * 0.3)),  # a/b, a/b: (p+q)/(4pq)
        ((60, 70), (60, 80), 1 / (4 * 0.2)),  # a/b, a/c: 1/(4p)
        ((60, 70), (80, 93), 0.0),  # nothing shared: excluded (no mutation)
    ],
)
def test_parent_child_index(a: tuple[int, ...], b: tuple[int, ...], expected: float) -> None:
    assert lr(a, b, PC) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # 1/4 + 1/2 x 1/p + 1/4 x 1/p² = (1 + p)² / (4p²), p = 0.3
        ((93,), (93,), 1.3**2 / (4 * 0.09)),
        # 1/4 + 1/2 x 1/(2p) = (1 + p) / (4p)
        ((93,), (60, 93), 1.3 / 1.2),
        # 1/4 + 1/2 x (p+q)/(4pq) + 1/4 x 1/(2pq) = (1 + p + q + 2pq) / (8pq), p = 0.2, q = 0.3
        ((60, 93), (60, 93), (1 + 0.5 + 0.12) / 0.48),
        # 1/4 + 1/2 x 1/(4p) = (1 + 2p) / (8p), p = 0.2
        ((60, 70), (60, 80), 1.4 / 1.6),
        # nothing shared: siblings may share nothing, k0 = 1/4
        ((60, 70), (80, 93), 0.25),
    ],
)
def test_full_sibling_index(a: tuple[int, ...], b: tuple[int, ...], expected: float) -> None:
    assert lr(a, b, FS) == pytest.approx(expected)


def test_half_sibling_index() -> None:
    # 1/2 + 1/2 x 1/(4p) with p = 0.2 = 0.5 + 0.625; sharing nothing leaves k0 = 1/2
    assert lr((60, 70), (60, 80), HS) == pytest.approx(1.125)
    assert lr((60, 70), (80, 93), HS) == pytest.approx(0.5)


# -- hand-worked cases with θ -------------------------------------------------------------


def test_parent_child_homozygotes_with_theta() -> None:
    # P(child a/a | parent a/a) / P(a/a | a/a seen) = (1+2θ) / (3θ + (1-θ)p); θ = 0.01, p = 0.3
    assert lr((93,), (93,), PC, 0.01) == pytest.approx(1.02 / (0.03 + 0.297))


def test_parent_child_sharing_one_allele_with_theta() -> None:
    # a/b and a/c: (1+2θ) / (4[θ + (1-θ)p_a]); θ = 0.01, p_a = 0.2: 1.02 / (4 x 0.208)
    assert lr((60, 70), (60, 80), PC, 0.01) == pytest.approx(1.02 / 0.832)


def test_theta_lowers_the_weight_of_a_shared_rare_allele() -> None:
    assert lr((70,), (70,), PC, 0.03) < lr((70,), (70,), PC, 0.01) < lr((70,), (70,), PC)


# -- properties -------------------------------------------------------------------------------

frequencies = st.lists(st.integers(min_value=1, max_value=20), min_size=2, max_size=6).map(
    lambda weights: {60 + 10 * i: w / sum(weights) for i, w in enumerate(weights)}
)
relationships = st.sampled_from(list(Relationship))


def genotypes(alleles: list[int]) -> list[tuple[int, ...]]:
    return [
        (a,) if a == b else (a, b) for a, b in itertools.combinations_with_replacement(alleles, 2)
    ]


@given(frequencies, relationships, st.data())
def test_the_lr_averages_to_one_over_unrelated_people(
    table: dict[int, float], relationship: Relationship, data: st.DataObject
) -> None:
    # Σ_B P(B) LR(A, B) = 1: a likelihood ratio's mean under the alternative is 1.
    f = table.__getitem__
    a = data.draw(st.sampled_from(genotypes(sorted(table))))
    mean = math.fsum(
        (f(b[0]) ** 2 if len(b) == 1 else 2 * f(b[0]) * f(b[1]))
        * kinship_index(a, b, relationship.kappa, f)
        for b in genotypes(sorted(table))
    )
    assert mean == pytest.approx(1.0)


@given(frequencies, relationships, st.sampled_from([0.0, 0.01, 0.05]), st.data())
def test_the_lr_is_symmetric(
    table: dict[int, float], relationship: Relationship, theta: float, data: st.DataObject
) -> None:
    a, b = (data.draw(st.sampled_from(genotypes(sorted(table)))) for _ in range(2))
    one = kinship_index(a, b, relationship.kappa, table.__getitem__, theta)
    other = kinship_index(b, a, relationship.kappa, table.__getitem__, theta)
    assert one == pytest.approx(other)


@given(frequencies, relationships, st.data())
def test_the_theta_formula_tends_to_the_closed_form(
    table: dict[int, float], relationship: Relationship, data: st.DataObject
) -> None:
    # θ = 0 takes the closed-form path; a tiny θ takes the Balding-Nichols enumeration.
    a, b = (data.draw(st.sampled_from(genotypes(sorted(table)))) for _ in range(2))
    closed = kinship_index(a, b, relationship.kappa, table.__getitem__, 0.0)
    enumerated = kinship_index(a, b, relationship.kappa, table.__getitem__, 1e-9)
    assert enumerated == pytest.approx(closed, rel=1e-6, abs=1e-9)


# -- profiles, results, ranking ----------------------------------------------------------------


def test_profile_lr_is_the_product_over_loci_both_have() -> None:
    table = AlleleFrequencies(
        {
            "test": {
                "TH01": LocusFrequencies(100, TH01),
                "vWA": LocusFrequencies(100, {160: 0.5, 170: 0.5}),
            }
        }
    )
    a = {"TH01": (93,), "vWA": (160, 170), "Amelogenin": (1, 2), "FGA": (200,)}
    b = {"TH01": (60, 93), "VWA": (160,), "D3S1358": (150,)}
    result = kinship_lr(a, b, "parent-child", "test", frequencies=table)
    # TH01 1/(2 x 0.3); vWA a/b with b/b: 1/(2 x 0.5) = 1
    assert result.loci == ("TH01", "vWA")
    assert [entry.lr for entry in result.per_locus] == pytest.approx([1 / 0.6, 1.0])
    assert result.combined == pytest.approx(1 / 0.6)
    assert result.per_locus[0].b == (60, 93)
    assert {entry.locus for entry in result.skipped} == {"FGA", "Amelogenin", "D3S1358"}
    lines = result.explanation()
    assert lines[0].startswith("parent-child LR 1.67 over 2 loci")
    assert lines[1] == "TH01: 9.3/9.3 ~ 6/9.3: LR 1.667"


def test_an_allele_of_frequency_zero_is_refused_not_divided_by() -> None:
    unfloored = AlleleFrequencies({"test": {"TH01": LocusFrequencies(100, TH01)}}, minimum_count=0)
    with pytest.raises(InvalidField) as caught:
        kinship_lr({"TH01": (50,)}, {"TH01": (50,)}, PC, "test", frequencies=unfloored)
    assert caught.value.field == "frequency" and "5 has frequency 0" in caught.value.reason


def test_unknown_relationship_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        kinship_lr({"TH01": (60,)}, {"TH01": (60,)}, "cousins", "test", frequencies=TABLE)
    assert caught.value.field == "relationship" and "cousins" in caught.value.reason


def test_candidates_are_ranked_by_lr_and_ties_keep_their_order() -> None:
    probe = {"TH01": (60, 70)}
    candidates = {
        "none": {"TH01": (80, 93)},  # 0
        "shares-7": {"TH01": (70, 80)},  # 1/(4 x 0.1) = 2.5
        "shares-6": {"TH01": (60, 93)},  # 1/(4 x 0.2) = 1.25
        "also-shares-6": {"TH01": (60, 80)},  # 1.25, after shares-6
        "same": {"TH01": (60, 70)},  # (0.2 + 0.1)/(4 x 0.02) = 3.75
    }
    ranked = rank_candidates(probe, candidates, PC, "test", frequencies=TABLE)
    assert [r.key for r in ranked] == ["same", "shares-7", "shares-6", "also-shares-6", "none"]
    assert [r.lr for r in ranked] == pytest.approx([3.75, 2.5, 1.25, 1.25, 0.0])
    assert ranked[0].result.per_locus[0].lr == ranked[0].lr
    top = rank_candidates(probe, candidates, PC, "test", frequencies=TABLE, limit=2)
    assert [r.key for r in top] == ["same", "shares-7"]
    with pytest.raises(InvalidField, match="limit"):
        rank_candidates(probe, candidates, PC, "test", frequencies=TABLE, limit=-1)


# -- simulation on the NIST 1036 people ----------------------------------------------------------


def _nist_profiles() -> dict[str, dict[str, tuple[int, ...]]]:
    if not NIST_CSV.is_file():
        pytest.skip(f"NIST 1036 genotypes not found at {NIST_CSV} (shared reference data)")
    with NIST_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["sample"]: {
            locus.replace("_", " "): tuple(sorted({parse_allele(a) for a in cell.split(",")}))
            for locus, cell in row.items()
            if locus not in ("sample", "population") and cell
        }
        for row in rows
    }


@pytest.fixture(scope="module")
def nist() -> dict[str, dict[str, tuple[int, ...]]]:
    return _nist_profiles()


def _child(
    father: dict[str, tuple[int, ...]], mother: dict[str, tuple[int, ...]], rng: random.Random
) -> dict[str, tuple[int, ...]]:
    """Mendelian inheritance without mutation: one allele from each parent at each locus."""
    child = {}
    for locus in sorted(father.keys() & mother.keys()):  # sorted: the same draws every run
        # A homozygote is stored as one allele, so choice() is fair for both kinds.
        child[locus] = tuple(sorted({rng.choice(father[locus]), rng.choice(mother[locus])}))
    return child


TRIALS = 100


@pytest.mark.parametrize(
    ("relationship", "loci", "floor"),
    [
        (PC, None, 0.97),  # 29 loci: 1,000 of 1,000 in 1,000 seeded families
        (FS, None, 0.95),  # 29 loci: 992 of 1,000
        (FS, CODIS_13, 0.65),  # the 13 original CODIS loci: 788 of 1,000
    ],
)
def test_the_true_relative_ranks_first_among_the_nist_people(
    nist: dict[str, dict[str, tuple[int, ...]]],
    relationship: Relationship,
    loci: set[str] | None,
    floor: float,
) -> None:
    """A missing person's relative is found among the unrelated NIST people.

    Each trial picks two NIST people as parents. Parent-child: the missing
    person is the first parent, the relative a simulated child. Siblings: the
    missing person and the relative are two simulated children. The relative
    is ranked among every NIST person except the family's own (the missing
    person, and for siblings both parents, who are related too).
    """
    trials = TRIALS
    rng = random.Random(f"{relationship}-{sorted(loci or [])}")
    people = sorted(nist)
    first = 0
    for _ in range(trials):
        father, mother = rng.sample(people, 2)
        child = _child(nist[father], nist[mother], rng)
        if relationship is PC:
            missing, relative, family = nist[father], child, {father}
        else:
            missing, relative, family = (
                child,
                _child(nist[father], nist[mother], rng),
                {father, mother},
            )
        if loci is not None:
            missing = {locus: g for locus, g in missing.items() if locus in loci}
        pool = {key: profile for key, profile in nist.items() if key not in family}
        pool["true relative"] = relative
        ranked = rank_candidates(missing, pool, relationship, limit=1)
        first += ranked[0].key == "true relative"
    rate = first / trials
    print(f"{relationship}, {len(missing)} loci: true relative ranked first in {first}/{trials}")
    assert rate >= floor
