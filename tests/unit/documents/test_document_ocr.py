"""OCR confusion classes used by the tolerant document search."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policenet.registers.documents.ocr import (
    CANONICAL_MAP,
    OCR_CONFUSION_CLASSES,
    Confusion,
    canonical,
    confusion_score,
    confusions,
)

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def test_classes_are_disjoint_and_cover_the_pairs_named_for_the_register() -> None:
    chars = "".join(OCR_CONFUSION_CLASSES)
    assert len(chars) == len(set(chars))
    for a, b in ["O0", "Q0", "D0", "I1", "L1", "B8", "S5", "Z2", "G6", "UV"]:
        assert canonical(a) == canonical(b), (a, b)
    for a, b in ["T1", "71", "A4", "MN", "EF", "O8"]:
        assert canonical(a) != canonical(b), (a, b)


def test_confusions_name_each_position() -> None:
    assert confusions("L8989O2C3", "L898902C3") == (Confusion(6, "O", "0"),)
    found = confusions("5B1", "S81")
    assert found == (Confusion(1, "5", "S"), Confusion(2, "B", "8"))
    assert found[0].explain() == "position 1: read '5', register has 'S'"


def test_equal_numbers_have_no_confusions() -> None:
    assert confusions("L898902C3", "L898902C3") == ()


def test_not_confusable() -> None:
    assert confusions("L898902C3", "L898902C4") is None
    assert confusions("ABC", "ABCD") is None
    assert confusions("T", "1") is None


def test_score_falls_with_each_confusion() -> None:
    scores = [confusion_score(n) for n in range(4)]
    assert scores[0] == 1.0
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 4


@given(st.text(ALNUM, min_size=1, max_size=12), st.text(ALNUM, min_size=1, max_size=12))
def test_confusable_exactly_when_canonical_forms_are_equal(a: str, b: str) -> None:
    assert (confusions(a, b) is not None) == (canonical(a) == canonical(b))


@given(st.text(ALNUM, min_size=1, max_size=12), st.data())
def test_every_single_confusion_is_found(number: str, data: st.DataObject) -> None:
    confusable = [i for i, ch in enumerate(number) if ch in CANONICAL_MAP]
    if not confusable:
        return
    at = data.draw(st.sampled_from(confusable))
    group = next(g for g in OCR_CONFUSION_CLASSES if number[at] in g)
    read = data.draw(st.sampled_from([ch for ch in group if ch != number[at]]))
    variant = number[:at] + read + number[at + 1 :]
    assert confusions(variant, number) == (Confusion(at + 1, read, number[at]),)
