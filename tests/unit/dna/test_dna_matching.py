"""The DNA match rules on hand-written pairs, their properties, and the category table."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.dna.matching import (
    Comparison,
    LocusRelation,
    Rule,
    Stringency,
    allele_differences,
    best_match,
    compared_loci,
    comparison,
    direct_targets,
    full_match,
    high_stringency,
    kinship_targets,
    low_stringency,
    moderate_stringency,
    near_match,
    relation,
    stringency_match,
)
from policenet.registers.dna.profile import KNOWN_LOCI, Category, DnaProfile

STAIN, CONVICTED = Category.CRIME_SCENE_STAIN, Category.REFERENCE_CONVICTED

BASE = {
    "D3S1358": (150, 160),
    "vWA": (170, 180),
    "D8S1179": (120, 130),
    "D21S11": (290, 302),
    "D18S51": (140, 170),
    "TH01": (60, 93),
    "FGA": (210, 240),
}


def profile(
    reference: str = "P",
    category: Category = CONVICTED,
    mixture: bool = False,
    **changes: tuple[int, ...],
) -> DnaProfile:
    loci = {**BASE, **{k.replace("_", " "): v for k, v in changes.items()}}
    return DnaProfile(reference, category, {k: v for k, v in loci.items() if v}, None, mixture)


# -- one locus ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "kind", "differences"),
    [
        ((90, 100), (90, 100), LocusRelation.IDENTICAL, 0),
        ((90,), (90,), LocusRelation.IDENTICAL, 0),
        ((90,), (90, 100), LocusRelation.INCLUDED, 1),
        ((90, 100), (90, 110), LocusRelation.SHARED, 1),
        ((90,), (100,), LocusRelation.DISJOINT, 2),
        ((90, 100), (110, 120), LocusRelation.DISJOINT, 2),
        ((90, 100), (90, 100, 110), LocusRelation.INCLUDED, 2),
        ((90, 100, 110), (90, 100, 110), LocusRelation.IDENTICAL, 0),
    ],
)
def test_locus_relations_and_allele_differences(
    a: tuple[int, ...], b: tuple[int, ...], kind: LocusRelation, differences: int
) -> None:
    assert relation(a, b) is kind is relation(b, a)
    assert allele_differences(a, b) == differences == allele_differences(b, a)


# -- hand-written pairs -------------------------------------------------------------------


def test_identical_profiles_are_a_full_match_at_every_stringency() -> None:
    a, b = profile("A"), profile("B")
    for stringency in Stringency:
        found = best_match(a, b, stringency)
        assert found is not None
        assert found.rule is Rule.FULL
        assert found.loci_count == 7
        assert found.differing == ()
        assert found.explanation[0].startswith("full match: identical alleles at all 7 loci")


def test_one_allele_different_is_a_near_match_kept_apart() -> None:
    a, b = profile("A"), profile("B", D8S1179=(120, 140))
    assert full_match(a, b) is None
    found = near_match(a, b)
    assert found is not None
    assert found.rule is Rule.NEAR
    assert found.differing == ("D8S1179",)
    assert "D8S1179: probe 12,13, record 12,14 (one allele differs)" in found.explanation
    assert best_match(a, b, Stringency.HIGH) == found
    assert best_match(a, b, Stringency.HIGH, near=False) is None


def test_a_homozygote_against_a_heterozygote_is_one_allele() -> None:
    a, b = profile("A", TH01=(60,)), profile("B")
    found = near_match(a, b)
    assert found is not None
    assert found.differing == ("TH01",)
    assert best_match(a, b, Stringency.MODERATE, near=False) is not None
    assert best_match(a, b, Stringency.HIGH, near=False) is None


def test_two_alleles_different_is_no_near_match() -> None:
    a = profile("A")
    b = profile("B", D8S1179=(120, 140), TH01=(60, 80))
    assert near_match(a, b) is None
    assert near_match(a, profile("C", D8S1179=(100, 110))) is None
    assert best_match(a, b, Stringency.MODERATE) is None
    low = best_match(a, b, Stringency.LOW)
    assert low is not None
    assert low.rule is Rule.LOW
    assert low.differing == ("D8S1179", "TH01")


def test_single_source_against_a_mixture_is_a_moderate_match() -> None:
    reference = profile("R")
    stain = profile("S", STAIN, True, D8S1179=(110, 120, 130, 150), vWA=(160, 170, 180))
    assert best_match(stain, reference, Stringency.HIGH) is None
    assert near_match(stain, reference) is None  # near matches are for single-source profiles
    found = best_match(stain, reference, Stringency.MODERATE)
    assert found is not None
    assert found.rule is Rule.MODERATE
    assert found.differing == ("D8S1179", "vWA")  # register order
    assert any("the record's alleles are all in the probe" in line for line in found.explanation)
    assert any("the probe is a mixture" in line for line in found.explanation)


def test_one_shared_allele_at_a_locus_is_a_low_stringency_match_only() -> None:
    reference = profile("R")
    stain = profile("S", STAIN, True, D8S1179=(110, 130, 150), vWA=(160, 170, 180))
    assert best_match(stain, reference, Stringency.MODERATE) is None
    found = best_match(stain, reference, Stringency.LOW)
    assert found is not None
    assert found.rule is Rule.LOW
    assert "D8S1179: probe 11,13,15, record 12,13 (sharing 13 only)" in found.explanation


def test_nothing_in_common_at_one_locus_is_no_match() -> None:
    a, b = profile("A"), profile("B", FGA=(190, 200))
    for stringency in Stringency:
        assert best_match(a, b, stringency) is None


def test_only_loci_typed_in_both_are_compared() -> None:
    a = profile("A", FGA=(), CSF1PO=(100, 110))
    b = profile("B", D3S1358=(), TPOX=(80,))
    assert compared_loci(a, b) == ("D8S1179", "D18S51", "D21S11", "TH01", "vWA")
    assert best_match(a, b) is None  # five compared loci: below the minimum of six
    found = best_match(a, b, min_loci=5)
    assert found is not None
    assert found.rule is Rule.FULL
    assert found.loci_count == 5
    assert (
        "not compared (typed in one profile only): CSF1PO, D3S1358, FGA, TPOX" in found.explanation
    )


def test_min_loci_must_be_positive() -> None:
    with pytest.raises(InvalidField) as caught:
        best_match(profile(), profile(), min_loci=0)
    assert caught.value.field == "min_loci"


def test_stringency_match_names_the_strongest_stringency() -> None:
    a = profile("A", TH01=(60,))
    found = stringency_match(a, profile("B"), Stringency.LOW)
    assert found is not None
    assert found.rule is Rule.MODERATE
    assert stringency_match(a, profile("B"), Stringency.HIGH) is None


# -- properties ---------------------------------------------------------------------------

LOCI = KNOWN_LOCI[:12]
small_alleles = st.integers(min_value=90, max_value=96)  # few alleles, so that pairs often agree


@st.composite
def profiles(draw: st.DrawFn) -> DnaProfile:
    mixture = draw(st.booleans())
    most = 4 if mixture else 2
    loci = draw(
        st.dictionaries(
            st.sampled_from(LOCI),
            st.sets(small_alleles, min_size=1, max_size=most).map(lambda s: tuple(sorted(s))),
            min_size=6,
        )
    )
    category = STAIN if mixture else draw(st.sampled_from(list(Category)))
    return DnaProfile("X", category, loci, None, mixture)


@given(profiles())
def test_a_profile_always_fully_matches_itself(p: DnaProfile) -> None:
    found = full_match(p, p)
    assert found is not None
    assert found.loci_count == len(p.loci)
    assert near_match(p, p) is None


@given(profiles(), profiles())
@settings(max_examples=200)
def test_high_implies_moderate_implies_low(a: DnaProfile, b: DnaProfile) -> None:
    assert not high_stringency(a, b) or moderate_stringency(a, b)
    assert not moderate_stringency(a, b) or low_stringency(a, b)


@given(profiles(), profiles(), st.sampled_from(list(Stringency)), st.booleans())
@settings(max_examples=200)
def test_rules_are_symmetric_and_near_means_one_allele(
    a: DnaProfile, b: DnaProfile, stringency: Stringency, near: bool
) -> None:
    forward, backward = (
        best_match(a, b, stringency, near=near),
        best_match(b, a, stringency, near=near),
    )
    assert (forward is None) == (backward is None)
    if forward is None or backward is None:
        return
    assert forward.rule is backward.rule
    assert forward.loci_compared == backward.loci_compared
    if forward.rule is Rule.NEAR:
        assert len(forward.differing) == 1
        (locus,) = forward.differing
        assert allele_differences(a.loci[locus], b.loci[locus]) == 1


# -- categories ---------------------------------------------------------------------------


def test_the_category_table_is_symmetric() -> None:
    for a, b in itertools.product(Category, repeat=2):
        assert comparison(a, b) is comparison(b, a)


def test_a_stain_is_searched_against_references_and_other_stains() -> None:
    targets = direct_targets(STAIN)
    assert {
        Category.REFERENCE_CONVICTED,
        Category.REFERENCE_ARRESTEE,
        Category.REFERENCE_SUSPECT,
        Category.CRIME_SCENE_STAIN,
    } <= targets
    assert Category.RELATIVE_OF_MISSING_PERSON not in targets


def test_remains_meet_missing_persons_directly_and_their_relatives_by_kinship() -> None:
    remains = Category.UNIDENTIFIED_REMAINS
    assert comparison(remains, Category.MISSING_PERSON) is Comparison.DIRECT
    assert comparison(remains, Category.RELATIVE_OF_MISSING_PERSON) is Comparison.KINSHIP
    assert kinship_targets(Category.RELATIVE_OF_MISSING_PERSON) == {remains}


def test_relatives_are_never_matched_directly_and_missing_persons_never_against_references() -> (
    None
):
    assert direct_targets(Category.RELATIVE_OF_MISSING_PERSON) == frozenset()
    for reference in (
        Category.REFERENCE_CONVICTED,
        Category.REFERENCE_ARRESTEE,
        Category.REFERENCE_SUSPECT,
    ):
        assert comparison(Category.MISSING_PERSON, reference) is Comparison.NONE
        assert comparison(Category.RELATIVE_OF_MISSING_PERSON, reference) is Comparison.NONE
    assert comparison(Category.RELATIVE_OF_MISSING_PERSON, STAIN) is Comparison.NONE


def test_every_category_but_relatives_is_searched_against_something() -> None:
    for category in Category:
        if category is not Category.RELATIVE_OF_MISSING_PERSON:
            assert direct_targets(category)
