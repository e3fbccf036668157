"""DNA profiles: validation, locus names, alleles and microvariants, mixtures, natural keys."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.dna.profile import (
    CODIS_CORE_LOCI,
    ESS_LOCI,
    KNOWN_LOCI,
    MIN_LOCI,
    Category,
    DnaProfile,
    canonical_locus,
    format_allele,
    format_genotype,
    key_parts,
    natural_key,
    validate,
)
from tests.reference_data import SHARED_DATA

NIST = SHARED_DATA / "dna" / "nist1036_genotypes.csv"

SIX = {
    "D3S1358": "15,16",
    "vWA": "17,18",
    "D8S1179": "12,13",
    "D21S11": "29,30.2",
    "D18S51": "14,17",
    "TH01": "6,9.3",
}


def raw(
    category: str = "reference-convicted", reference: str = "GB-1", **loci: object
) -> dict[str, object]:
    return {"reference": reference, "category": category, **SIX, **loci}


def refused(fields: dict[str, object]) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        validate(fields)
    return caught.value


# -- the locus catalogue --------------------------------------------------------------


def test_codis_core_has_twenty_distinct_loci_and_contains_the_european_standard_set() -> None:
    assert len(CODIS_CORE_LOCI) == len(set(CODIS_CORE_LOCI)) == 20
    assert len(ESS_LOCI) == len(set(ESS_LOCI)) == 12
    assert set(ESS_LOCI) <= set(CODIS_CORE_LOCI)
    assert len(KNOWN_LOCI) == len(set(KNOWN_LOCI))


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("VWA", "vWA"),
        ("vwa", "vWA"),
        ("THO1", "TH01"),
        ("th01", "TH01"),
        ("Penta D", "Penta D"),
        ("PentaD", "Penta D"),
        ("PENTA_D", "Penta D"),
        ("penta-e", "Penta E"),
        ("FES/FPS", "FESFPS"),
        ("F13A1", "F13A01"),
        ("CSF1P0", "CSF1PO"),
        ("d8s1179", "D8S1179"),
        (" D 21 S 11 ", "D21S11"),
        ("ACTBP2", "SE33"),
    ],
)
def test_locus_names_are_read_whatever_their_spelling(written: str, canonical: str) -> None:
    assert canonical_locus(written) == canonical
    others = {locus: "10,12" for locus in CODIS_CORE_LOCI[:7] if locus != canonical}
    fields = {"reference": "GB-1", "category": "crime-scene-stain", **others, written: "10,11"}
    profile = validate(fields)
    assert profile.loci[canonical] == (100, 110)


def test_unknown_locus_is_refused_by_name() -> None:
    error = refused(raw(D99S999="10,11"))
    assert error.field == "D99S999"
    assert "unknown locus" in error.reason
    assert refused(raw(DYS391="10")).field == "DYS391"  # a Y-STR is not autosomal


def test_every_column_of_the_nist_data_set_is_a_known_locus() -> None:
    if not NIST.is_file():
        pytest.skip(f"NIST 1036 genotypes not found at {NIST} (shared reference data)")
    with NIST.open(newline="") as f:
        header = next(csv.reader(f))
    loci = [name for name in header if name not in ("sample", "population")]
    assert len(loci) == 29
    assert all(canonical_locus(name) in KNOWN_LOCI for name in loci)
    assert set(CODIS_CORE_LOCI) <= {canonical_locus(name) for name in loci}


def test_the_same_locus_under_two_spellings_is_refused() -> None:
    error = refused(raw(VWA="17,19"))
    assert error.field == "vWA"
    assert "given twice" in error.reason


def test_an_empty_second_spelling_is_no_duplicate() -> None:
    assert validate(raw(VWA="")).loci["vWA"] == (170, 180)


# -- alleles ---------------------------------------------------------------------------


def test_alleles_are_held_exactly_in_tenths_in_ascending_order() -> None:
    profile = validate(raw(FGA="32.2,21", TPOX="8"))
    assert profile.loci["FGA"] == (210, 322)
    assert profile.loci["TH01"] == (60, 93)
    assert profile.loci["D21S11"] == (290, 302)
    assert profile.loci["TPOX"] == (80,)


@pytest.mark.parametrize("written", ["9", "9,9", "9/9", "9 9", ["9", "9"], [9], (9, 9)])
def test_a_homozygote_is_one_allele_however_written(written: object) -> None:
    assert validate(raw(TPOX=written)).loci["TPOX"] == (90,)


@pytest.mark.parametrize(
    ("written", "alleles"),
    [
        ([9.3, 10], (93, 100)),
        ([Decimal("9.3"), "10.0"], (93, 100)),
        ("1,99.9", (10, 999)),  # rare alleles far outside a ladder are kept
        ("2.2;43.2", (22, 432)),
    ],
)
def test_microvariants_numbers_and_rare_alleles(written: object, alleles: tuple[int, ...]) -> None:
    assert validate(raw(FGA=written)).loci["FGA"] == alleles


@pytest.mark.parametrize(
    "bad", ["12,x", "0", "100", "9.10", "9.", ".3", "<8", "OL", "*", "-1", "12," + "1e1"]
)
def test_a_value_that_is_not_an_allele_names_the_locus(bad: str) -> None:
    error = refused(raw(D5S818=bad))
    assert error.field == "D5S818"
    assert "is not an allele" in error.reason
    assert repr(bad) in error.reason or f"'{bad}'" in error.reason


def test_the_issue_example_message() -> None:
    assert str(refused(raw(D8S1179="12,x"))).startswith("D8S1179: '12,x' is not an allele")


@pytest.mark.parametrize("bad", [[True, 9], [None], [{"a": 1}], 9.33])
def test_values_of_the_wrong_kind_name_the_locus(bad: object) -> None:
    assert refused(raw(D5S818=bad)).field == "D5S818"


def test_untyped_loci_are_absent() -> None:
    profile = validate(raw(FGA="", TPOX=None, CSF1PO=[]))
    assert set(profile.loci) == set(SIX)


# -- mixtures --------------------------------------------------------------------------


def test_more_than_two_alleles_in_a_reference_is_refused_by_locus() -> None:
    error = refused(raw(D5S818="10,11,12"))
    assert error.field == "D5S818"
    assert "3 alleles" in error.reason
    assert "at most 2" in error.reason


def test_a_crime_scene_stain_may_be_a_mixture() -> None:
    profile = validate(raw("crime-scene-stain", D5S818="10,11,12,13"))
    assert profile.mixture
    assert profile.loci["D5S818"] == (100, 110, 120, 130)
    assert profile.describe("D5S818") == "10,11,12,13"


def test_a_stain_with_two_alleles_everywhere_is_single_source_unless_declared() -> None:
    assert not validate(raw("crime-scene-stain")).mixture
    assert validate(raw("crime-scene-stain", mixture="yes")).mixture


def test_a_stain_declared_single_source_may_not_show_three_alleles() -> None:
    error = refused(raw("crime-scene-stain", mixture="false", D5S818="10,11,12"))
    assert error.field == "D5S818"
    assert "declared single source" in error.reason


def test_only_stains_may_be_declared_mixtures() -> None:
    error = refused(raw("unidentified-remains", mixture=True))
    assert error.field == "mixture"
    assert "unidentified-remains" in error.reason
    assert refused(raw("crime-scene-stain", mixture="perhaps")).field == "mixture"


# -- other fields ----------------------------------------------------------------------


def test_too_few_loci_says_how_many() -> None:
    four = {"reference": "GB-1", "category": "crime-scene-stain"}
    four.update(dict(list(SIX.items())[:4]))
    error = refused(four)
    assert error.field == "loci"
    assert error.reason == "only 4 loci typed; at least 6 are needed to search"
    assert MIN_LOCI == 6


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reference": None}, "reference"),
        ({"reference": "  "}, "reference"),
        ({"reference": 12}, "reference"),
        ({"reference": "x" * 65}, "reference"),
        ({"reference": "GB\x001"}, "reference"),
        ({"category": None}, "category"),
        ({"category": "offender"}, "category"),
        ({"amelogenin": "XZ"}, "amelogenin"),
        ({"Amel": "Q"}, "Amel"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, object], field: str) -> None:
    assert refused({**raw(), **fields}).field == field


@pytest.mark.parametrize(
    ("written", "value"),
    [("X", "X"), ("X,X", "X"), ("xx", "X"), ("X,Y", "XY"), ("YX", "XY"), ("Y", "Y"), ("", None)],
)
def test_amelogenin(written: str, value: str | None) -> None:
    assert validate(raw(amelogenin=written)).amelogenin == value


def test_category_is_read_case_insensitively_with_underscores() -> None:
    assert validate(raw("Crime_Scene_Stain")).category is Category.CRIME_SCENE_STAIN
    assert (
        validate(raw("relative of missing person")).category is Category.RELATIVE_OF_MISSING_PERSON
    )


def test_natural_key_is_category_and_reference_and_ignores_spelling() -> None:
    first = validate(raw("crime-scene-stain", " FR/2024:17 ", VWA=""))
    rewritten = {
        "vwa" if k == "vWA" else k: v for k, v in raw("CRIME_SCENE_STAIN", "FR/2024:17").items()
    }
    again = validate({**rewritten, "vwa": "18,17", "TH01": "9.3,6"})
    assert first == again
    assert hash(first) == hash(again)
    assert natural_key(first) == natural_key(again) == "crime-scene-stain:FR/2024:17"
    assert key_parts(natural_key(first)) == (Category.CRIME_SCENE_STAIN, "FR/2024:17")
    assert key_parts("nonsense") is None
    assert key_parts("offender:1") is None


def test_profiles_are_read_only() -> None:
    profile = validate(raw())
    with pytest.raises(TypeError):
        profile.loci["FGA"] = (200,)  # type: ignore[index]


def test_formatting() -> None:
    assert format_allele(93) == "9.3"
    assert format_allele(100) == "10"
    assert format_genotype((90,)) == "9,9"
    assert format_genotype((90,), single_source=False) == "9"
    assert format_genotype(()) == "-"


# -- properties ------------------------------------------------------------------------

alleles = st.integers(min_value=10, max_value=999)
genotypes = st.sets(alleles, min_size=1, max_size=2).map(lambda s: tuple(sorted(s)))
loci_maps = st.dictionaries(st.sampled_from(KNOWN_LOCI), genotypes, min_size=6, max_size=20)


@given(
    loci=loci_maps, spelling=st.sampled_from([str.upper, str.lower, lambda s: s.replace(" ", "_")])
)
@settings(max_examples=100)
def test_a_written_profile_reads_back_as_itself(
    loci: dict[str, tuple[int, ...]], spelling: object
) -> None:
    written: dict[str, object] = {"reference": "R", "category": "missing-person"}
    for locus, genotype in loci.items():
        written[spelling(locus)] = format_genotype(genotype)  # type: ignore[operator]
    profile = validate(written)
    assert profile == DnaProfile("R", Category.MISSING_PERSON, loci)
    assert list(profile.loci) == [locus for locus in KNOWN_LOCI if locus in loci]
