"""The travel documents index: exact, cross-country and OCR-tolerant search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.documents.index import DocumentIndex, DocumentProbe, probe_from_mrz
from policenet.registers.documents.mrz import MachineReadableZone, MrzFormat
from policenet.registers.documents.ocr import OCR_CONFUSION_CLASSES, confusions
from policenet.registers.documents.record import (
    DocumentStatus,
    DocumentType,
    TravelDocument,
    natural_key,
)

PASSPORT, ID_CARD, VISA = DocumentType.PASSPORT, DocumentType.ID_CARD, DocumentType.VISA
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def doc(state: str, kind: DocumentType, number: str) -> TravelDocument:
    return TravelDocument(state, kind, number, DocumentStatus.STOLEN_BLANK)


def index_of(*docs: TravelDocument, merge_threshold: int = 65536) -> DocumentIndex:
    index = DocumentIndex(merge_threshold=merge_threshold)
    for d in docs:
        index.add(natural_key(d), d)
    return index


def keys(found: list[Candidate]) -> list[str]:
    return [c.key for c in found]


REGISTER = [
    doc("UTO", PASSPORT, "L898902C3"),
    doc("D", ID_CARD, "L898902C3"),
    doc("GBR", PASSPORT, "L898902C3"),
    doc("UTO", VISA, "L8988901C"),
    doc("FRA", PASSPORT, "12AB34567"),
]


@pytest.fixture(params=[1, 2, 65536], ids=["merged-each-add", "merged-every-2", "pending"])
def register(request: pytest.FixtureRequest) -> DocumentIndex:
    return index_of(*REGISTER, merge_threshold=request.param)


# -- exact search ----------------------------------------------------------------


def test_number_alone_finds_the_document_in_every_country(register: DocumentIndex) -> None:
    found = register.search(DocumentProbe("L898902C3"))
    assert keys(found) == [
        "D:id-card:L898902C3",
        "GBR:passport:L898902C3",
        "UTO:passport:L898902C3",
    ]
    assert all(c.strength is MatchStrength.EXACT and c.score == 1.0 for c in found)
    assert found[0].explanation == (
        "document number L898902C3 matches exactly",
        "issuing state D (the probe named none)",
        "document type id-card (the probe named none)",
    )


def test_state_narrows_the_search(register: DocumentIndex) -> None:
    found = register.search(DocumentProbe("l898-902 c3", issuing_state="DEU"))
    assert keys(found) == ["D:id-card:L898902C3"]
    assert "issuing state D matches" in found[0].explanation


def test_state_and_type_narrow_the_search(register: DocumentIndex) -> None:
    probe = DocumentProbe("L898902C3", issuing_state="UTO", document_type=PASSPORT)
    found = register.search(probe)
    assert keys(found) == ["UTO:passport:L898902C3"]
    assert found[0].explanation[1:] == (
        "issuing state UTO matches",
        "document type passport matches",
    )


def test_type_alone_narrows_across_countries(register: DocumentIndex) -> None:
    assert keys(register.search(DocumentProbe("L898902C3", document_type=PASSPORT))) == [
        "GBR:passport:L898902C3",
        "UTO:passport:L898902C3",
    ]


def test_no_match_for_another_state_type_or_number(register: DocumentIndex) -> None:
    assert register.search(DocumentProbe("L898902C3", issuing_state="FRA")) == []
    assert register.search(DocumentProbe("L898902C3", issuing_state="XXA")) == []
    assert register.search(DocumentProbe("L898902C3", document_type=VISA)) == []
    assert register.search(DocumentProbe("L898902C4")) == []
    assert register.search(DocumentProbe("L898902C")) == []


def test_exact_search_ignores_ocr_variants(register: DocumentIndex) -> None:
    assert register.search(DocumentProbe("L8989O2C3")) == []


def test_limit(register: DocumentIndex) -> None:
    assert keys(register.search(DocumentProbe("L898902C3"), limit=2)) == [
        "D:id-card:L898902C3",
        "GBR:passport:L898902C3",
    ]
    assert register.search(DocumentProbe("L898902C3"), limit=0) == []


# -- tolerant search ---------------------------------------------------------------


def test_tolerant_search_explains_each_confusion(register: DocumentIndex) -> None:
    found = register.search(DocumentProbe("L8989O2C3", issuing_state="UTO", tolerant=True))
    assert len(found) == 1
    (hit,) = found
    assert hit.key == "UTO:passport:L898902C3"
    assert hit.strength is MatchStrength.POSSIBLE
    assert 0 < hit.score < 1
    assert hit.explanation[:2] == (
        "document number L898902C3 (read as L8989O2C3) matches only under OCR tolerance "
        "(1 confusion)",
        "position 6: read 'O', register has '0'",
    )


def test_exact_hits_come_before_possible_ones_and_fewer_confusions_first() -> None:
    index = index_of(
        doc("UTO", PASSPORT, "AB0I"),
        doc("UTO", ID_CARD, "AB01"),
        doc("D", PASSPORT, "A80I"),
        doc("FRA", PASSPORT, "ABOI"),
    )
    found = index.search(DocumentProbe("ABOI", tolerant=True))
    assert [(c.key, c.strength) for c in found] == [
        ("FRA:passport:ABOI", MatchStrength.EXACT),
        ("UTO:passport:AB0I", MatchStrength.POSSIBLE),
        ("D:passport:A80I", MatchStrength.POSSIBLE),
        ("UTO:id-card:AB01", MatchStrength.POSSIBLE),
    ]
    assert found[1].score > found[2].score == found[3].score


def test_tolerant_search_with_no_confusable_record() -> None:
    index = index_of(doc("UTO", PASSPORT, "AB0I"))
    assert index.search(DocumentProbe("ABOX", tolerant=True)) == []
    assert index.search(DocumentProbe("AB0", tolerant=True)) == []


# -- writing ---------------------------------------------------------------------


def test_remove_and_unknown_keys(register: DocumentIndex) -> None:
    register.remove("GBR:passport:L898902C3")
    for key in ["GBR:passport:L898902C3", "ZZZ:passport:X", "UTO:boat:X", "UTO:passport:", "junk"]:
        register.remove(key)
    register.remove("UTO:passport:l898902c3")  # not a key: keys hold normalised numbers
    assert len(register) == 4
    assert keys(register.search(DocumentProbe("L898902C3"))) == [
        "D:id-card:L898902C3",
        "UTO:passport:L898902C3",
    ]


def test_adding_the_same_key_again_changes_nothing(register: DocumentIndex) -> None:
    again = TravelDocument("UTO", PASSPORT, "L898-902-C3", DocumentStatus.LOST, reference="R2")
    register.add(natural_key(again), again)
    assert len(register) == len(REGISTER)
    assert keys(register.search(DocumentProbe("L898902C3", issuing_state="UTO"))) == [
        "UTO:passport:L898902C3"
    ]


def test_a_removed_record_comes_back_when_added_again(register: DocumentIndex) -> None:
    register.remove("FRA:passport:12AB34567")
    assert register.search(DocumentProbe("12AB34567")) == []
    register.add("FRA:passport:12AB34567", REGISTER[-1])
    assert len(register) == len(REGISTER)
    assert keys(register.search(DocumentProbe("12AB34567"))) == ["FRA:passport:12AB34567"]


def test_add_refuses_a_key_that_is_not_the_records() -> None:
    index = DocumentIndex()
    with pytest.raises(InvalidField) as caught:
        index.add("UTO:passport:L898902C4", REGISTER[0])
    assert caught.value.field == "key"
    assert len(index) == 0


def test_add_refuses_a_record_with_a_bad_number() -> None:
    bad = doc("UTO", PASSPORT, "L89.89")
    with pytest.raises(InvalidField) as caught:
        DocumentIndex().add("UTO:passport:L89.89", bad)
    assert caught.value.field == "number"


def test_compaction_keeps_the_living(register: DocumentIndex) -> None:
    register.remove("D:id-card:L898902C3")
    register.remove("UTO:visa:L8988901C")
    register.compact()
    assert len(register) == 3
    assert keys(register.search(DocumentProbe("L898902C3"))) == [
        "GBR:passport:L898902C3",
        "UTO:passport:L898902C3",
    ]
    assert keys(register.search(DocumentProbe("12AB34567"))) == ["FRA:passport:12AB34567"]
    register.add(natural_key(REGISTER[1]), REGISTER[1])
    assert len(register) == 4
    assert register.search(DocumentProbe("L898902C3", issuing_state="D")) != []


def test_removals_compact_by_themselves() -> None:
    docs = [doc("UTO", PASSPORT, f"N{i}") for i in range(40)]
    index = index_of(*docs, merge_threshold=4)
    for d in docs[:30]:
        index.remove(natural_key(d))
    assert len(index) == 10
    assert index.memory_bytes() > 0
    assert [keys(index.search(DocumentProbe(f"N{i}"))) for i in (0, 35)] == [
        [],
        ["UTO:passport:N35"],
    ]


def test_add_many_drops_duplicates_and_revives_removed_records() -> None:
    index = index_of(REGISTER[0], REGISTER[1])
    index.remove(natural_key(REGISTER[1]))
    batch = [REGISTER[0], REGISTER[1], REGISTER[2], REGISTER[2], doc("GBR", PASSPORT, "L8989O2C3")]
    index.add_many((natural_key(d), d) for d in batch)
    assert len(index) == 4
    assert keys(index.search(DocumentProbe("L898902C3"))) == [
        "D:id-card:L898902C3",
        "GBR:passport:L898902C3",
        "UTO:passport:L898902C3",
    ]
    assert keys(index.search(DocumentProbe("L8989O2C3"))) == ["GBR:passport:L8989O2C3"]


def test_add_many_of_a_few_into_many() -> None:
    base = [doc("UTO", PASSPORT, f"B{i}") for i in range(64)]
    index = DocumentIndex()
    index.add_many((natural_key(d), d) for d in base)
    index.remove("UTO:passport:B7")
    few = [base[3], base[7], doc("D", PASSPORT, "B8"), doc("D", PASSPORT, "B8")]
    index.add_many((natural_key(d), d) for d in few)
    assert len(index) == 65
    assert keys(index.search(DocumentProbe("B7"))) == ["UTO:passport:B7"]
    assert keys(index.search(DocumentProbe("B8"))) == ["D:passport:B8", "UTO:passport:B8"]
    assert keys(index.search(DocumentProbe("B3"))) == ["UTO:passport:B3"]


def test_add_many_adds_nothing_when_one_item_is_refused() -> None:
    index = index_of(REGISTER[0])
    items = [(natural_key(d), d) for d in REGISTER[1:]] + [("UTO:passport:WRONG", REGISTER[0])]
    with pytest.raises(InvalidField):
        index.add_many(items)
    assert len(index) == 1
    assert keys(index.search(DocumentProbe("L898902C3"))) == ["UTO:passport:L898902C3"]
    index.add_many((natural_key(d), d) for d in REGISTER[1:])
    assert len(index) == len(REGISTER)


def test_add_keys_answers_as_add_many_of_the_records() -> None:
    by_records = index_of(*REGISTER)
    by_keys = DocumentIndex()
    by_keys.add_keys(natural_key(d) for d in [*REGISTER, REGISTER[0]])  # one twice
    assert len(by_keys) == len(REGISTER)
    for probe in ("L898902C3", "L8988901C", "12AB34567", "L898902CE"):
        for tolerant in (False, True):
            wanted = by_records.search(DocumentProbe(probe, tolerant=tolerant))
            assert by_keys.search(DocumentProbe(probe, tolerant=tolerant)) == wanted


@pytest.mark.parametrize(
    "bad",
    [
        "UTO:passport",  # no number
        "UTO:passport:L898:902",  # a colon too many
        "XYZ:passport:L898902C3",  # no such state
        "uto:passport:L898902C3",  # a state as the key never writes it
        "DEU:passport:L898902C3",  # Germany's documents are keyed D
        "UTO:passports:L898902C3",  # no such type
        "UTO:passport:l898902c3",  # a number as the key never writes it
        "UTO:passport:L898-902C3",
        "UTO:passport:",
    ],
)
def test_add_keys_refuses_what_is_not_a_natural_key_and_adds_nothing(bad: str) -> None:
    index = DocumentIndex()
    with pytest.raises(InvalidField, match="not a travel document key"):
        index.add_keys(["FRA:passport:12AB34567", bad])
    assert len(index) == 0
    assert index.search(DocumentProbe("12AB34567")) == []


# -- batches and probes ------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 600])
def test_batches_answer_in_the_probes_order(size: int) -> None:
    docs = [doc("UTO", PASSPORT, f"P{i:05d}") for i in range(0, 2 * size, 2)]
    index = DocumentIndex()
    index.add_many((natural_key(d), d) for d in docs)
    probes = [DocumentProbe(f"P{i:05d}") for i in reversed(range(2 * size))]
    answers = index.search_many(probes)
    assert len(answers) == len(probes)
    for probe, answer in zip(probes, answers, strict=True):
        expected = [f"UTO:passport:{probe.number}"] if int(probe.number[1:]) % 2 == 0 else []
        assert keys(answer) == expected


def test_empty_batch_and_empty_index() -> None:
    assert DocumentIndex().search_many([]) == []
    assert list(map(list, DocumentIndex().search_many([DocumentProbe("A1")]))) == [[]]


def test_probe_is_normalised_and_validated() -> None:
    probe = DocumentProbe(" l898-902 c3", issuing_state="deu", document_type="id-card")  # type: ignore[arg-type]
    assert (probe.number, probe.issuing_state, probe.document_type) == ("L898902C3", "D", ID_CARD)
    for bad, field in [
        ({"number": "L89.8"}, "number"),
        ({"number": "A", "issuing_state": "ZZZ"}, "issuing_state"),
        ({"number": "A", "document_type": "boat"}, "document_type"),
    ]:
        with pytest.raises(InvalidField) as caught:
            DocumentProbe(**bad)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_probe_from_a_machine_readable_zone(register: DocumentIndex) -> None:
    zone = MachineReadableZone(
        format=MrzFormat.TD3,
        document_code="P",
        issuing_state="UTO",
        document_number="L8989O2C3",
        primary_identifier="ERIKSSON",
        secondary_identifiers="ANNA MARIA",
        nationality="UTO",
        birth_date=None,
        sex="F",
        expiry_date=None,
    )
    found = register.search(probe_from_mrz(zone))
    assert [(c.key, c.strength) for c in found] == [
        ("UTO:passport:L898902C3", MatchStrength.POSSIBLE)
    ]


# -- properties --------------------------------------------------------------------

STATES = ["UTO", "D", "GBR"]
numbers = st.text("AB0OQD1IL8S5", min_size=1, max_size=4)
records = st.builds(doc, st.sampled_from(STATES), st.sampled_from([PASSPORT, ID_CARD]), numbers)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["add", "remove", "bulk"]), st.lists(records, max_size=4))),
    st.sampled_from([1, 3, 1000]),
    st.lists(
        st.builds(
            DocumentProbe,
            numbers,
            st.none() | st.sampled_from(STATES),
            st.none() | st.sampled_from([PASSPORT, ID_CARD]),
            st.booleans(),
        ),
        max_size=8,
    ),
)
def test_the_index_answers_like_a_scan_of_the_register(
    operations: list[tuple[str, list[TravelDocument]]],
    merge_threshold: int,
    probes: list[DocumentProbe],
) -> None:
    index = DocumentIndex(merge_threshold=merge_threshold)
    model: dict[str, TravelDocument] = {}
    for operation, docs in operations:
        if operation == "bulk":
            index.add_many((natural_key(d), d) for d in docs)
        for d in docs:
            if operation == "add":
                index.add(natural_key(d), d)
            if operation == "remove":
                index.remove(natural_key(d))
                model.pop(natural_key(d), None)
            else:
                model[natural_key(d)] = d
    assert len(index) == len(model)
    probes = [*probes, *(DocumentProbe(d.number, tolerant=True) for d in model.values())]
    for probe, found in zip(probes, index.search_many(probes, limit=1000), strict=True):
        expected = set()
        for key, d in model.items():
            differences = confusions(probe.number, d.normalised_number)
            if differences is None or (differences and not probe.tolerant):
                continue
            if probe.issuing_state not in (None, d.issuing_state):
                continue
            if probe.document_type not in (None, d.document_type):
                continue
            strength = MatchStrength.POSSIBLE if differences else MatchStrength.EXACT
            expected.add((key, strength))
        assert {(c.key, c.strength) for c in found} == expected
        order = [(c.strength is not MatchStrength.EXACT, -c.score, c.key) for c in found]
        assert order == sorted(order)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(ALNUM, min_size=1, max_size=12), min_size=1, max_size=30, unique=True))
def test_every_record_is_found_by_its_own_number(numbers: list[str]) -> None:
    docs = [doc(STATES[i % 3], PASSPORT, n) for i, n in enumerate(numbers)]
    incremental = index_of(*docs, merge_threshold=7)
    bulk = DocumentIndex()
    bulk.add_many((natural_key(d), d) for d in docs)
    for index in (incremental, bulk):
        answers = index.search_many(
            [DocumentProbe(d.number, issuing_state=d.issuing_state) for d in docs]
        )
        assert [keys(a) for a in answers] == [[natural_key(d)] for d in docs]


@settings(max_examples=50, deadline=None)
@given(st.text(ALNUM, min_size=1, max_size=12))
def test_tolerant_search_finds_every_single_confusion_variant(number: str) -> None:
    record = doc("UTO", PASSPORT, number)
    index = index_of(record)
    for at, ch in enumerate(number):
        group = next((g for g in OCR_CONFUSION_CLASSES if ch in g), ch)
        for read in group.replace(ch, ""):
            variant = number[:at] + read + number[at + 1 :]
            (hit,) = index.search(DocumentProbe(variant, tolerant=True))
            assert hit.key == natural_key(record)
            assert hit.strength is MatchStrength.POSSIBLE
            assert f"position {at + 1}: read {read!r}, register has {ch!r}" in hit.explanation


@settings(max_examples=60, deadline=None)
@given(
    st.lists(records, max_size=30),
    st.lists(records, max_size=10),
    st.sampled_from([1, 1000]),
    st.lists(
        st.builds(
            DocumentProbe,
            numbers,
            st.none() | st.sampled_from(STATES),
            st.none() | st.sampled_from([PASSPORT, ID_CARD]),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.integers(min_value=1, max_value=3),
    st.sampled_from([1, 1 << 30]),
)
def test_a_batch_answers_as_the_same_probes_one_by_one(
    docs: list[TravelDocument],
    removed: list[TravelDocument],
    merge_threshold: int,
    probes: list[DocumentProbe],
    limit: int,
    directory_from: int,
) -> None:
    # Small batches are looked up one by one, large ones with numpy: padding the batch
    # past 300 probes takes the second way (sorted probes included, through the directory
    # of hashes when directory_from is 1); numbers from a small alphabet give many rows
    # per hash (one number in several countries).
    index = DocumentIndex(merge_threshold=merge_threshold, directory_from=directory_from)
    index.add_many((natural_key(d), d) for d in docs[::2])
    for d in docs[1::2]:
        index.add(natural_key(d), d)  # pending until merge_threshold adds
    for d in removed:
        index.remove(natural_key(d))
    probes = [
        *probes,
        *(DocumentProbe(d.number, tolerant=i % 2 == 0) for i, d in enumerate(docs)),
        DocumentProbe("A"),
    ]
    batch = (probes * (300 // len(probes) + 1))[:301]
    answers = index.search_many(batch, limit=limit)
    assert len(answers) == len(batch)
    for probe, answer in zip(batch, answers, strict=True):
        assert list(answer) == index.search(probe, limit=limit)
        assert list(answer) == list(index.search_many([probe], limit=limit)[0])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=300),
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=300),
    st.integers(min_value=0, max_value=5),
)
def test_the_directory_finds_what_a_binary_search_finds(
    stored: list[int], probed: list[int], shared: int
) -> None:
    """Hashes with few top bits set (many in one bucket), repeated ones, probes equal to
    stored hashes, and probes past either end."""
    stored += [h >> 60 for h in stored[:shared]] + stored[:shared]  # crowded low buckets
    hashes = np.sort(np.array(stored, dtype=np.uint64))
    keys = np.array(probed + stored[:shared] + [0, 2**64 - 1], dtype=np.uint64)
    index = DocumentIndex(directory_from=1)
    index._hashes = hashes
    expected = np.searchsorted(hashes, keys, side="left")
    assert index._lower_bounds(keys).tolist() == expected.tolist()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["add", "remove", "bulk"]), st.lists(records, max_size=6))),
    st.sampled_from([1, 2, 1000]),
)
def test_the_directory_follows_adds_merges_and_removals_between_batches(
    operations: list[tuple[str, list[TravelDocument]]], merge_threshold: int
) -> None:
    """The directory is built by a batch and then kept up to date by later inserts (or
    dropped and built again): every batch answers as a fresh index with no directory."""
    index = DocumentIndex(merge_threshold=merge_threshold, directory_from=1)
    model: dict[str, TravelDocument] = {}
    batch = [DocumentProbe(n, tolerant=True) for n in ["AB0", "A80", "0Q1", "DI", "S5", "L"] * 3]
    for operation, docs in operations:
        for d in docs:
            if operation == "remove":
                index.remove(natural_key(d))
                model.pop(natural_key(d), None)
            else:
                model[natural_key(d)] = d
        if operation == "bulk":
            index.add_many((natural_key(d), d) for d in docs)
        elif operation == "add":
            for d in docs:
                index.add(natural_key(d), d)
        fresh = DocumentIndex(directory_from=1 << 30)
        fresh.add_many((natural_key(d), d) for d in model.values())
        probes = [*batch, *(DocumentProbe(d.number) for d in model.values())]
        got = [keys(list(found)) for found in index.search_many(probes, limit=1000)]
        want = [keys(list(found)) for found in fresh.search_many(probes, limit=1000)]
        assert got == want
