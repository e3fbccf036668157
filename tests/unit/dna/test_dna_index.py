"""The DNA index: add, replace, remove; search by rule and category; agreement with the rules;
the NIST 1036 data set (unrelated people, shared-loci counts against brute force)."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.dna.index import DnaCandidate, DnaIndex
from policenet.registers.dna.matching import (
    Rule,
    Stringency,
    best_match,
    compared_loci,
    direct_targets,
)
from policenet.registers.dna.profile import (
    CODIS_CORE_LOCI,
    KNOWN_LOCI,
    Category,
    DnaProfile,
    natural_key,
    validate,
)
from tests.reference_data import SHARED_DATA

NIST = SHARED_DATA / "dna" / "nist1036_genotypes.csv"
STAIN, CONVICTED, SUSPECT = (
    Category.CRIME_SCENE_STAIN,
    Category.REFERENCE_CONVICTED,
    Category.REFERENCE_SUSPECT,
)
REMAINS, MISSING, RELATIVE = (
    Category.UNIDENTIFIED_REMAINS,
    Category.MISSING_PERSON,
    Category.RELATIVE_OF_MISSING_PERSON,
)
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
    reference: str,
    category: Category = CONVICTED,
    mixture: bool = False,
    **changes: tuple[int, ...],
) -> DnaProfile:
    loci = {**BASE, **changes}
    return DnaProfile(reference, category, {k: v for k, v in loci.items() if v}, None, mixture)


def index_of(*profiles: DnaProfile, merge_threshold: int = 65536) -> DnaIndex:
    index = DnaIndex(merge_threshold=merge_threshold)
    for p in profiles:
        index.add(natural_key(p), p)
    return index


def keys(found: list[DnaCandidate]) -> list[str]:
    return [c.key for c in found]


REGISTER = [
    profile("same"),
    profile("near", D8S1179=(120, 140)),
    profile("dropout", TH01=(60,), FGA=(210,)),
    profile("shares-one", D8S1179=(110, 120), vWA=(150, 170)),
    profile("other", D8S1179=(100, 110)),
    profile("stain", STAIN),
    profile("remains", REMAINS),
    profile("missing", MISSING),
]


@pytest.fixture(params=[1, 3, 65536], ids=["merged-each-add", "merged-every-3", "pending"])
def register(request: pytest.FixtureRequest) -> DnaIndex:
    return index_of(*REGISTER, merge_threshold=request.param)


# -- searching ------------------------------------------------------------------------


def test_a_stain_finds_people_by_rule_best_first(register: DnaIndex) -> None:
    probe = profile("stain", STAIN)  # the stored stain's own key: not a hit on itself
    found = register.matches(probe, stringency=Stringency.LOW)
    assert [(c.key, c.rule) for c in found] == [
        ("missing-person:missing", Rule.FULL),
        ("reference-convicted:same", Rule.FULL),
        ("unidentified-remains:remains", Rule.FULL),
        ("reference-convicted:near", Rule.NEAR),
        ("reference-convicted:dropout", Rule.MODERATE),
        ("reference-convicted:shares-one", Rule.LOW),
    ]
    assert [c.score for c in found] == [1.0, 1.0, 1.0, 0.9, 0.8, 0.5]
    assert found[0].strength is MatchStrength.EXACT
    assert {c.strength for c in found[3:]} == {MatchStrength.POSSIBLE}
    assert found[3].differing == ("D8S1179",)
    assert found[3].loci_count == 7
    assert found[4].explanation[0].startswith("moderate-stringency match at 7 loci compared")
    assert found[4].differing == ("FGA", "TH01")


def test_a_stain_also_finds_the_same_stain_under_another_reference(register: DnaIndex) -> None:
    found = register.matches(profile("another-stain", STAIN), stringency=Stringency.HIGH)
    assert "crime-scene-stain:stain" in keys(found)
    assert "missing-person:missing" in keys(found)


def test_stringency_decides_which_rules_are_reported(register: DnaIndex) -> None:
    probe = profile("probe", STAIN)
    high = {c.rule for c in register.matches(probe, stringency=Stringency.HIGH)}
    moderate = {c.rule for c in register.matches(probe, stringency=Stringency.MODERATE)}
    assert high == {Rule.FULL, Rule.NEAR}
    assert moderate == {Rule.FULL, Rule.NEAR, Rule.MODERATE}
    no_near = register.matches(probe, stringency=Stringency.HIGH, near=False)
    assert {c.rule for c in no_near} == {Rule.FULL}


def test_categories_follow_the_table(register: DnaIndex) -> None:
    # a missing person is never searched against the references of convicted people
    found = register.matches(profile("probe", MISSING))
    assert keys(found) == [
        "crime-scene-stain:stain",
        "missing-person:missing",
        "unidentified-remains:remains",
    ]
    assert register.matches(profile("probe", RELATIVE)) == []
    chosen = register.matches(profile("probe", RELATIVE), categories=[REMAINS])
    assert keys(chosen) == ["unidentified-remains:remains"]
    with pytest.raises(InvalidField):
        register.matches(profile("probe", STAIN), categories=["nobody"])  # type: ignore[list-item]


def test_limit_and_min_loci(register: DnaIndex) -> None:
    probe = profile("probe", STAIN)
    assert len(register.matches(probe, 2, stringency=Stringency.LOW)) == 2
    assert register.matches(probe, 0) == []
    assert register.matches(probe, min_loci=8) == []
    with pytest.raises(InvalidField):
        register.matches(probe, min_loci=0)


def test_search_is_the_register_contract(register: DnaIndex) -> None:
    found = register.search(profile("probe", STAIN), 10)
    assert all(isinstance(c, Candidate) and isinstance(c, DnaCandidate) for c in found)
    assert [c.key for c in found] == keys(register.matches(profile("probe", STAIN)))
    assert register.search_many([profile("probe", STAIN), profile("probe", RELATIVE)])[1] == []


def test_a_mixed_stain_finds_its_contributors_at_moderate_stringency() -> None:
    first = profile("first")
    second = profile("second", D8S1179=(140, 150), vWA=(160,), TH01=(70, 80))
    unrelated = profile("unrelated", D8S1179=(100, 110), vWA=(190,), TH01=(50,))
    mixed = {
        locus: tuple(sorted(set(first.loci[locus]) | set(second.loci[locus]))) for locus in BASE
    }
    stain = DnaProfile("stain", STAIN, mixed, None, True)
    index = index_of(first, second, unrelated)
    found = index.matches(stain)
    assert [(c.key, c.rule) for c in found] == [
        ("reference-convicted:first", Rule.MODERATE),
        ("reference-convicted:second", Rule.MODERATE),
    ]
    assert index.matches(stain, stringency=Stringency.HIGH) == []
    # and the people find the stain
    index.add(natural_key(stain), stain)
    assert keys(index.matches(first)) == ["crime-scene-stain:stain"]


# -- writing --------------------------------------------------------------------------


def test_add_refuses_a_key_that_is_not_the_natural_key() -> None:
    with pytest.raises(InvalidField) as caught:
        DnaIndex().add("reference-convicted:other", profile("same"))
    assert caught.value.field == "key"


def test_add_refuses_an_unknown_locus() -> None:
    odd = DnaProfile("odd", CONVICTED, {**BASE, "D99S999": (100,)})
    with pytest.raises(InvalidField) as caught:
        DnaIndex().add(natural_key(odd), odd)
    assert caught.value.field == "D99S999"


def test_adding_a_key_again_replaces_the_profile(register: DnaIndex) -> None:
    size = len(register)
    changed = profile("same", FGA=(190, 200))
    register.add(natural_key(changed), changed)
    assert len(register) == size
    assert register.get("reference-convicted:same") == changed
    assert "reference-convicted:same" not in keys(register.matches(profile("probe", STAIN)))
    register.add(natural_key(changed), changed)
    assert len(register) == size


def test_remove_and_add_back(register: DnaIndex) -> None:
    size = len(register)
    register.remove("reference-convicted:same")
    register.remove("reference-convicted:same")
    register.remove("reference-convicted:never-added")
    register.remove("garbage")
    assert len(register) == size - 1
    assert "reference-convicted:same" not in register
    assert register.get("reference-convicted:same") is None
    assert "reference-convicted:same" not in keys(register.matches(profile("probe", STAIN)))
    register.add("reference-convicted:same", profile("same"))
    assert len(register) == size
    assert "reference-convicted:same" in keys(register.matches(profile("probe", STAIN)))


def test_compaction_keeps_every_answer() -> None:
    many = [
        profile(f"p{i}", D5S818=(80 + i % 7 * 10,), CSF1PO=(100, 110 + i % 3 * 10))
        for i in range(40)
    ]
    index = index_of(*many, merge_threshold=4)
    probe = profile("probe", STAIN, D5S818=(80,), CSF1PO=(100, 110))
    for p in many[::2]:
        index.remove(natural_key(p))  # compacts on the way, more than once
    expected = [
        natural_key(p)
        for p in many[1::2]
        if p.loci["D5S818"] == (80,) and p.loci["CSF1PO"] == (100, 110)
    ]
    assert sorted(
        keys(index.matches(probe, 100, stringency=Stringency.HIGH, near=False))
    ) == sorted(expected)
    assert sorted(index.keys()) == sorted(natural_key(p) for p in many[1::2])
    assert len(index) == 20
    index.compact()
    assert sorted(index.keys()) == sorted(natural_key(p) for p in many[1::2])


def test_add_many_is_add_for_each_and_the_last_of_a_key_wins() -> None:
    first = profile("dup", FGA=(190, 200))
    last = profile("dup")
    index = index_of(profile("before"), profile("dup", FGA=(180,)))
    index.add_many([(natural_key(p), p) for p in (profile("a"), first, profile("b"), last)])
    assert len(index) == 4
    assert index.get("reference-convicted:dup") == last
    assert sorted(index.keys()) == sorted(
        f"reference-convicted:{r}" for r in ("before", "dup", "a", "b")
    )
    within = DnaIndex()
    within.add_many([(natural_key(p), p) for p in (first, profile("x"), last)])
    assert len(within) == 2
    assert within.get("reference-convicted:dup") == last


def test_add_many_adds_nothing_when_one_item_is_refused() -> None:
    index = index_of(profile("kept"))
    before = index.get("reference-convicted:kept")
    items = [
        ("reference-convicted:kept", profile("kept", FGA=(190, 200))),
        ("reference-convicted:new", profile("new")),
        ("reference-convicted:wrong", profile("right")),
    ]
    with pytest.raises(InvalidField):
        index.add_many(items)
    assert len(index) == 1
    assert index.keys() == ["reference-convicted:kept"]
    assert index.get("reference-convicted:kept") == before
    assert "reference-convicted:new" not in index


def test_memory_per_profile_is_reported() -> None:
    index = index_of(*REGISTER)
    parts = index.memory_breakdown()
    assert set(parts) == {"alleles", "flags", "references", "key_lookup", "tables"}
    assert index.memory_bytes() == sum(parts.values()) > 0


# -- agreement with the rules ----------------------------------------------------------

LOCI = KNOWN_LOCI[:10]
few_alleles = st.integers(min_value=90, max_value=95)


@st.composite
def profiles(draw: st.DrawFn, reference: str) -> DnaProfile:
    category = draw(st.sampled_from(list(Category)))
    mixture = category is STAIN and draw(st.booleans())
    genotype = st.sets(few_alleles, min_size=1, max_size=4 if mixture else 2)
    loci = draw(
        st.dictionaries(st.sampled_from(LOCI), genotype.map(lambda s: tuple(sorted(s))), min_size=3)
    )
    return DnaProfile(reference, category, loci, None, mixture)


@given(
    st.integers(min_value=1, max_value=25).flatmap(
        lambda n: st.tuples(*(profiles(f"r{i}") for i in range(n)))
    ),
    profiles("probe"),
    st.sampled_from(list(Stringency)),
    st.booleans(),
    st.integers(min_value=1, max_value=6),
    st.sampled_from([1, 2, 3, 100]),
)
@settings(max_examples=80, deadline=None)
def test_the_index_finds_exactly_what_the_rules_find(
    stored: tuple[DnaProfile, ...],
    probe: DnaProfile,
    stringency: Stringency,
    near: bool,
    min_loci: int,
    limit: int,
) -> None:
    index = index_of(*stored, merge_threshold=7)
    targets = direct_targets(probe.category)
    rank = {Rule.FULL: 0, Rule.NEAR: 1, Rule.MODERATE: 2, Rule.LOW: 3}
    expected = []
    for age, record in enumerate(stored):
        found = best_match(probe, record, stringency, min_loci, near=near)
        if found is not None and record.category in targets:
            order = (rank[found.rule], -found.loci_count, age)
            expected.append((order, natural_key(record), found))
    # the best `limit`, ties at the cut going to the oldest record, then listed by key
    best = sorted(expected)[:limit]
    best.sort(key=lambda e: (e[0][0], e[0][1], e[1]))
    got = index.matches(probe, limit, stringency=stringency, min_loci=min_loci, near=near)
    assert [(c.key, c.rule, c.loci_compared, c.differing, c.explanation) for c in got] == [
        (key, f.rule, f.loci_compared, f.differing, f.explanation) for _, key, f in best
    ]
    counts = index.shared_loci_counts(probe)
    assert counts.tolist() == [len(compared_loci(probe, r)) for r in stored]


# -- the NIST 1036 data set --------------------------------------------------------------


def nist_rows() -> list[dict[str, str]]:
    if not NIST.is_file():
        pytest.skip(f"NIST 1036 genotypes not found at {NIST} (shared reference data)")
    with NIST.open(newline="") as f:
        return list(csv.DictReader(f))


def nist_profiles(rows: list[dict[str, str]], drop: random.Random | None) -> list[DnaProfile]:
    profiles = []
    for row in rows:
        fields: dict[str, object] = {
            k: v for k, v in row.items() if k not in ("sample", "population")
        }
        if drop is not None:  # partial profiles, so that the shared-loci counts vary
            for locus in drop.sample(sorted(fields), drop.randint(0, 20)):
                fields[locus] = ""
        fields.update(reference=row["sample"], category="reference-convicted")
        profiles.append(validate(fields))
    return profiles


def test_no_two_of_the_nist_1036_unrelated_people_match() -> None:
    people = nist_profiles(nist_rows(), None)
    assert len(people) == 1036
    assert sum(len(p.loci) for p in people) == 1036 * 29 - 2  # two untyped cells
    index = DnaIndex()
    index.add_many((natural_key(p), p) for p in people)
    assert len(index) == 1036
    found = index.search_many(people, stringency=Stringency.HIGH)
    assert [c for hits in found for c in hits if c.rule is Rule.FULL] == []
    # nor at the 20 CODIS loci only at moderate stringency: a stain of each finds that one only
    codis = [
        DnaProfile(p.reference, STAIN, {k: v for k, v in p.loci.items() if k in CODIS_CORE_LOCI})
        for p in people
    ]
    for p, hits in zip(codis, index.search_many(codis), strict=True):
        assert [(c.key, c.rule) for c in hits] == [
            (f"reference-convicted:{p.reference}", Rule.FULL)
        ]
    # with all 29 loci, at full length
    again = [DnaProfile(p.reference, STAIN, p.loci) for p in people[:50]]
    for p, hits in zip(again, index.search_many(again), strict=True):
        assert [(c.key, c.rule, c.loci_count) for c in hits] == [
            (f"reference-convicted:{p.reference}", Rule.FULL, len(p.loci))
        ]


def test_nist_shared_loci_counts_agree_with_brute_force_for_every_pair() -> None:
    rows = nist_rows()
    people = nist_profiles(rows, random.Random(20260101))
    index = DnaIndex()
    index.add_many((natural_key(p), p) for p in people)
    assert index.keys() == [natural_key(p) for p in people]
    # brute force, straight from the profiles: typed[i, j] is True if person i has locus j
    typed = np.array([[locus in p.loci for locus in KNOWN_LOCI] for p in people], dtype=np.int64)
    expected = typed @ typed.T
    reported = np.stack([index.shared_loci_counts(p) for p in people])
    assert reported.shape == (1036, 1036)
    assert len(np.unique(reported)) > 10
    assert np.array_equal(reported, expected)
    sample = random.Random(7).sample(range(1036), 40)
    for i in sample:
        for j in sample:
            assert reported[i, j] == len(compared_loci(people[i], people[j]))
    # and no full match between two of them at six or more shared loci
    hits = index.search_many(people, 1036, stringency=Stringency.HIGH, near=False)
    assert [c.key for found in hits for c in found] == []
