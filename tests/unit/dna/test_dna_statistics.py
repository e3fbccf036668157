"""Random match probability, LR and CPI, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.dna.frequencies import AlleleFrequencies, LocusFrequencies
from policenet.registers.dna.statistics import (
    CPI,
    RMP,
    combined_probability_of_inclusion,
    heterozygote_match_probability,
    homozygote_match_probability,
    random_match_probability,
)

# Constructed frequencies, N = 100 at each locus, so the 5/2N floor is 0.025.
TABLE = AlleleFrequencies(
    {
        "test": {
            "TH01": LocusFrequencies(100, {60: 0.2, 70: 0.1, 80: 0.4, 93: 0.3}),
            "vWA": LocusFrequencies(100, {160: 0.25, 170: 0.25, 180: 0.5}),
            "FGA": LocusFrequencies(100, {200: 0.01, 210: 0.99}),
        }
    }
)


def rmp(profile: dict[str, tuple[int, ...]], theta: float) -> float:
    return random_match_probability(profile, "test", theta, frequencies=TABLE).combined


# -- single source ----------------------------------------------------------------------


def test_homozygote_without_theta_is_p_squared() -> None:
    # TH01 9.3/9.3, p = 0.3: 0.3 x 0.3
    assert rmp({"TH01": (93,)}, 0.0) == pytest.approx(0.09)
    assert rmp({"TH01": (93, 93)}, 0.0) == pytest.approx(0.09)


def test_heterozygote_without_theta_is_2pq() -> None:
    # TH01 6/7, p = 0.2, q = 0.1: 2 x 0.2 x 0.1
    assert rmp({"TH01": (60, 70)}, 0.0) == pytest.approx(0.04)


def test_homozygote_with_theta_one_percent() -> None:
    # [2θ + (1-θ)p][3θ + (1-θ)p] / [(1+θ)(1+2θ)] with θ = 0.01, p = 0.3:
    # (0.02 + 0.297)(0.03 + 0.297) / (1.01 x 1.02) = 0.317 x 0.327 / 1.0302 = 0.103659 / 1.0302
    assert rmp({"TH01": (93,)}, 0.01) == pytest.approx(0.103659 / 1.0302)
    assert rmp({"TH01": (93,)}, 0.01) == pytest.approx(0.1006203, rel=1e-6)


def test_heterozygote_with_theta_one_percent() -> None:
    # 2[θ + (1-θ)p][θ + (1-θ)q] / [(1+θ)(1+2θ)] with θ = 0.01, p = 0.2, q = 0.1:
    # 2 (0.01 + 0.198)(0.01 + 0.099) / 1.0302 = 2 x 0.208 x 0.109 / 1.0302 = 0.045344 / 1.0302
    assert rmp({"TH01": (60, 70)}, 0.01) == pytest.approx(0.045344 / 1.0302)
    assert rmp({"TH01": (60, 70)}, 0.01) == pytest.approx(0.04401475, rel=1e-6)


def test_the_default_theta_is_one_percent() -> None:
    result = random_match_probability({"TH01": (93,)}, "test", frequencies=TABLE)
    assert result.theta == 0.01
    assert result.combined == pytest.approx(0.103659 / 1.0302)


def test_profile_rmp_is_the_product_and_lr_its_inverse_with_every_locus_shown() -> None:
    profile = {"TH01": (60, 70), "vWA": (180,), "Amelogenin": (1, 2)}
    result = random_match_probability(profile, "test", 0.0, frequencies=TABLE)
    # TH01 2 x 0.2 x 0.1 = 0.04; vWA 0.5 x 0.5 = 0.25; product 0.01, LR 100
    assert result.method == RMP
    assert result.loci == ("TH01", "vWA")
    assert [entry.probability for entry in result.per_locus] == pytest.approx([0.04, 0.25])
    assert result.per_locus[0].frequencies == (0.2, 0.1)
    assert result.combined == pytest.approx(0.01)
    assert result.lr == pytest.approx(100)
    assert result.log10_lr == pytest.approx(2)
    assert [s.locus for s in result.skipped] == ["Amelogenin"]
    lines = result.explanation()
    assert "LR 100" in lines[0]
    assert lines[1].startswith("TH01: 6 (p=0.2), 7 (p=0.1)")
    assert lines[-1].startswith("Amelogenin: not used")


def test_an_unseen_allele_counts_at_the_floor() -> None:
    # TH01 5/5 never seen: floor 5/(2 x 100) = 0.025, squared 0.000625
    assert rmp({"TH01": (50,)}, 0.0) == pytest.approx(0.000625)
    # FGA 20 seen at 0.01, below the floor: counted as 0.025; with 21 (0.99): 2 x 0.025 x 0.99
    assert rmp({"FGA": (200, 210)}, 0.0) == pytest.approx(0.0495)


def test_no_locus_in_common_means_no_weight() -> None:
    result = random_match_probability({"DYS391": (100,)}, "test", frequencies=TABLE)
    assert (result.combined, result.lr, result.loci) == (1.0, 1.0, ())


@pytest.mark.parametrize("genotype", [(), (60, 70, 80), (0,), (-10, 60), (True, 60), (6.0, 70)])
def test_a_malformed_genotype_is_refused_with_its_locus(genotype: tuple[int, ...]) -> None:
    with pytest.raises(InvalidField) as caught:
        random_match_probability({"TH01": genotype}, "test", frequencies=TABLE)
    assert caught.value.field == "genotype[TH01]"


@pytest.mark.parametrize("theta", [-0.01, 1.0, 2.0])
def test_theta_outside_zero_one_is_refused(theta: float) -> None:
    with pytest.raises(InvalidField, match="theta"):
        random_match_probability({"TH01": (60,)}, "test", theta, frequencies=TABLE)


def test_an_unknown_population_is_refused_not_skipped() -> None:
    with pytest.raises(InvalidField, match="population"):
        random_match_probability({"TH01": (60,)}, "elsewhere", frequencies=TABLE)


@given(
    st.floats(min_value=1e-4, max_value=1.0),
    st.floats(min_value=1e-4, max_value=1.0),
)
def test_without_theta_the_formulas_are_the_product_rule(p: float, q: float) -> None:
    assert homozygote_match_probability(p, 0.0) == pytest.approx(p * p)
    assert heterozygote_match_probability(p, q, 0.0) == pytest.approx(2 * p * q)


@given(st.floats(min_value=1e-4, max_value=0.2), st.floats(min_value=0.001, max_value=0.1))
def test_theta_makes_a_rare_genotype_more_common_never_less(p: float, theta: float) -> None:
    # For rare alleles the subpopulation correction is conservative: it raises the RMP.
    assert homozygote_match_probability(p, theta) > p * p
    assert heterozygote_match_probability(p, p / 2, theta) > 2 * p * (p / 2)


@given(st.floats(min_value=0.0, max_value=0.5))
def test_a_certain_allele_is_always_matched(theta: float) -> None:
    # p = 1: everybody is a/a, whatever θ.
    assert homozygote_match_probability(1.0, theta) == pytest.approx(1.0)


def test_the_shipped_nist_tables_are_the_default() -> None:
    # Common alleles at three loci: roughly 0.1 x 0.1 x 0.05 with the NIST frequencies.
    result = random_match_probability({"TH01": (60, 93), "vWA": (160, 170), "FGA": (220,)})
    assert result.population == "all"
    assert 1e-4 < result.combined < 1e-2
    assert all(0 < entry.probability < 1 for entry in result.per_locus)


# -- mixtures -----------------------------------------------------------------------------


def test_cpi_is_the_squared_sum_of_the_stain_alleles() -> None:
    reference = {"TH01": (60, 93), "vWA": (160, 170)}
    mixture = {"TH01": {60, 70, 93}, "vWA": {160, 170, 180}}
    result = combined_probability_of_inclusion(reference, mixture, "test", frequencies=TABLE)
    # TH01: (0.2 + 0.1 + 0.3)² = 0.36; vWA: (0.25 + 0.25 + 0.5)² = 1; CPI 0.36, LR 1/0.36
    assert result.method == CPI
    assert [entry.probability for entry in result.per_locus] == pytest.approx([0.36, 1.0])
    assert result.per_locus[0].alleles == (60, 70, 93)
    assert result.combined == pytest.approx(0.36)
    assert result.lr == pytest.approx(1 / 0.36)
    assert result.theta == 0.0


def test_cpi_leaves_out_a_locus_where_the_reference_is_not_included() -> None:
    reference = {"TH01": (60, 93), "vWA": (160, 190), "FGA": (200,)}
    mixture = {"TH01": [60, 93], "vWA": [160, 170], "D3S1358": [150, 160]}
    result = combined_probability_of_inclusion(reference, mixture, "test", frequencies=TABLE)
    # Only TH01 counts: (0.2 + 0.3)² = 0.25
    assert result.loci == ("TH01",)
    assert result.combined == pytest.approx(0.25)
    reasons = {entry.locus: entry.reason for entry in result.skipped}
    assert set(reasons) == {"vWA", "FGA", "D3S1358"}
    assert "19 not in the mixture" in reasons["vWA"]
    assert "not typed in the mixture" in reasons["FGA"]
    assert "not typed in the reference" in reasons["D3S1358"]


def test_cpi_of_floored_rare_alleles_is_capped_at_one() -> None:
    table = AlleleFrequencies(
        {"test": {"TH01": LocusFrequencies(10, {60: 0.5, 70: 0.5})}}
    )  # floor 5/20 = 0.25 for unseen alleles, so 0.5 + 0.5 + 0.25 + 0.25 > 1
    result = combined_probability_of_inclusion(
        {"TH01": (60, 70)}, {"TH01": {50, 60, 70, 80}}, "test", frequencies=table
    )
    assert result.combined == 1.0
    assert math.isclose(result.lr, 1.0)


def test_cpi_pairs_loci_whatever_their_spelling() -> None:
    table = AlleleFrequencies({"test": {"Penta D": LocusFrequencies(100, {90: 0.4, 100: 0.6})}})
    result = combined_probability_of_inclusion(
        {"Penta D": (90,)}, {"PENTA_D": [90]}, "test", frequencies=table
    )
    assert result.combined == pytest.approx(0.16)


def test_a_locus_given_twice_under_two_spellings_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        random_match_probability({"vWA": (160,), "VWA": (170,)}, "test", frequencies=TABLE)
    assert caught.value.field == "locus" and "'vWA' and 'VWA'" in caught.value.reason
