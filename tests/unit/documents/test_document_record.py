"""The travel document record: normalisation, validation, natural key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.errors import InvalidField
from policenet.registers.documents.record import (
    DocumentStatus,
    DocumentType,
    TravelDocument,
    natural_key,
    normalise_number,
    validate,
)

TODAY = date(2026, 5, 1)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "issuing_state": "UTO",
        "document_type": "passport",
        "number": "L898902C3",
        "status": "stolen-from-holder",
        "issue_date": "2016-04-16",
        "expiry_date": "2026-04-15",
        "reported_date": "2026-03-02",
        "reference": "MET/2026/00412",
        "remarks": "stolen with a handbag at a railway station",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


# -- normalise_number ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("L898902C3", "L898902C3"),
        ("l898902c3", "L898902C3"),
        (" L 898-902 C3 ", "L898902C3"),
        ("L898902C3<<<", "L898902C3"),
        ("L\t898902C3", "L898902C3"),
        ("1" * 35, "1" * 35),
    ],
)
def test_numbers_are_normalised(given: str, expected: str) -> None:
    assert normalise_number(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "empty"),
        (" - < ", "empty"),
        ("1" * 36, "36 characters; at most 35"),
        ("L89.8902", "'.' (U+002E FULL STOP) is not allowed"),
        ("L89/8902", "'/'"),
        ("\u0410B123", "U+0410 CYRILLIC CAPITAL LETTER A"),
        ("stra\u00dfe", "U+00DF"),
        ("\uff21123", "U+FF21"),
        ("12\u0663", "U+0663"),
    ],
)
def test_bad_numbers_are_refused_naming_the_character(given: str, reason: str) -> None:
    with pytest.raises(InvalidField) as caught:
        normalise_number(given, field="document_number")
    assert caught.value.field == "document_number"
    assert reason in caught.value.reason


@given(st.text(ALNUM + ALNUM.lower() + " -<", min_size=1, max_size=40))
def test_normalising_is_idempotent_and_keeps_only_capitals_and_digits(text: str) -> None:
    kept = [ch for ch in text if ch not in " -<"]
    if not kept or len(kept) > 35:
        with pytest.raises(InvalidField):
            normalise_number(text)
        return
    once = normalise_number(text)
    assert once == "".join(kept).upper()
    assert normalise_number(once) == once


# -- validate ------------------------------------------------------------------


def test_a_full_row_is_read() -> None:
    doc = validate(_row(), TODAY)
    assert doc == TravelDocument(
        issuing_state="UTO",
        document_type=DocumentType.PASSPORT,
        number="L898902C3",
        status=DocumentStatus.STOLEN_FROM_HOLDER,
        issue_date=date(2016, 4, 16),
        expiry_date=date(2026, 4, 15),
        reported_date=date(2026, 3, 2),
        reference="MET/2026/00412",
        remarks="stolen with a handbag at a railway station",
    )


def test_only_required_fields_and_empty_optional_cells() -> None:
    row = _row(issue_date="", expiry_date=None, reported_date=..., reference=" ", remarks=...)
    doc = validate(row, TODAY)
    assert (doc.issue_date, doc.expiry_date, doc.reported_date) == (None, None, None)
    assert (doc.reference, doc.remarks) == ("", "")


def test_number_is_kept_as_reported_and_keyed_normalised() -> None:
    doc = validate(_row(number=" l898-902 c3 "), TODAY)
    assert doc.number == "l898-902 c3"
    assert doc.normalised_number == "L898902C3"
    assert natural_key(doc) == "UTO:passport:L898902C3"


def test_the_same_document_spelt_differently_has_one_key() -> None:
    a = validate(_row(issuing_state="DEU", number="C01X00T47", document_type="ID_CARD"), TODAY)
    b = validate(_row(issuing_state="d<<", number="c01x-00t4-7", document_type="Id-Card"), TODAY)
    assert natural_key(a) == natural_key(b) == "D:id-card:C01X00T47"


def test_date_objects_are_accepted() -> None:
    doc = validate(_row(reported_date=date(2026, 1, 2)), TODAY)
    assert doc.reported_date == date(2026, 1, 2)


def test_unknown_fields_are_named() -> None:
    with pytest.raises(InvalidField) as caught:
        validate(_row(holder_name="ERIKSSON", colour="red"), TODAY)
    assert caught.value.field == "colour"
    assert "also unknown: holder_name" in caught.value.reason


@pytest.mark.parametrize("missing", ["issuing_state", "document_type", "number", "status"])
def test_missing_required_field_is_named(missing: str) -> None:
    with pytest.raises(InvalidField, match="required") as caught:
        validate(_row(**{missing: ...}), TODAY)
    assert caught.value.field == missing


def test_blank_required_field_counts_as_missing_and_all_are_listed() -> None:
    with pytest.raises(InvalidField) as caught:
        validate(_row(number="  ", status=None), TODAY)
    assert caught.value.field == "number"
    assert "also missing: status" in caught.value.reason


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"number": 898902}, "number", "must be text, not int"),
        ({"reference": ["a"]}, "reference", "must be text, not list"),
        ({"number": "L89.89"}, "number", "'.'"),
        ({"issuing_state": "ZZZ"}, "issuing_state", "'ZZZ'"),
        ({"document_type": "diplomatic"}, "document_type", "'diplomatic' is not one of passport"),
        ({"status": "found"}, "status", "'found' is not one of stolen-blank"),
        ({"issue_date": "2016-13-01"}, "issue_date", "not a date yyyy-mm-dd"),
        ({"issue_date": "20160401"}, "issue_date", "not a date yyyy-mm-dd"),
        ({"expiry_date": "2026-W01-1"}, "expiry_date", "not a date yyyy-mm-dd"),
        ({"reported_date": "02/03/2026"}, "reported_date", "not a date yyyy-mm-dd"),
        ({"reported_date": "2026-05-03"}, "reported_date", "2026-05-03 is in the future"),
        ({"issue_date": "2026-06-01", "expiry_date": ""}, "issue_date", "in the future"),
        ({"issue_date": "2026-04-16"}, "issue_date", "after the expiry date 2026-04-15"),
        ({"reported_date": TODAY.isoformat() + "T10:00"}, "reported_date", "not a date"),
        ({"reference": "R" * 65}, "reference", "65 characters; at most 64"),
        ({"remarks": "x" * 501}, "remarks", "501 characters; at most 500"),
        ({"remarks": "bell\x07"}, "remarks", "U+0007"),
        ({"remarks": "two\nlines"}, "remarks", "U+000A"),
        ({"remarks": "abc\u202edcb"}, "remarks", "U+202E"),
        ({"reference": "ref\x00"}, "reference", "U+0000"),
    ],
)
def test_bad_values_name_their_field(changes: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as caught:
        validate(_row(**changes), TODAY)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_datetime_objects_are_not_dates() -> None:
    with pytest.raises(InvalidField) as caught:
        validate(_row(reported_date=datetime(2026, 1, 2, tzinfo=UTC)), TODAY)
    assert caught.value.field == "reported_date"


def test_a_member_a_day_ahead_of_utc_may_report_today() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert validate(_row(reported_date=tomorrow), TODAY).reported_date == TODAY + timedelta(days=1)


def test_every_type_and_status_is_accepted() -> None:
    for kind in DocumentType:
        for status in DocumentStatus:
            doc = validate(_row(document_type=kind.value.upper(), status=status.value), TODAY)
            assert (doc.document_type, doc.status) == (kind, status)
            assert natural_key(doc) == f"UTO:{kind.value}:L898902C3"
