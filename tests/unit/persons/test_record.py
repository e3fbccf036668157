"""Person records from rows: what is required, what is refused, and the round trip."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from policenet.errors import InvalidField
from policenet.registers.persons.codec import from_payload, to_payload, to_row
from policenet.registers.persons.record import (
    BirthDate,
    NoticeKind,
    NoticeStatus,
    Sex,
    parse_birth_date,
    validate,
)

TODAY = date(2026, 11, 29)
RED = {
    "reference": "FR-2026-RN-0042",
    "kind": "red",
    "given_names": "Jean-Pierre",
    "surname": "Dupont",
    "aliases": "Жан-Пьер Дюпон;J.P. Dupont",
    "dates_of_birth": "1975-03-02;1975",
    "nationalities": "fr;BE",
    "sex": "m",
    "documents": "fra:Passport:12 ab 34567",
    "charges": "armed robbery",
    "authority": "Tribunal judiciaire de Lyon",
}


def refused(row: dict[str, Any]) -> InvalidField:
    with pytest.raises(InvalidField) as raised:
        validate(row, TODAY)
    return raised.value


def test_a_red_notice_row_becomes_a_record_with_normalised_fields() -> None:
    person = validate(RED, TODAY)
    assert person.kind is NoticeKind.RED and person.status is NoticeStatus.ACTIVE
    assert person.names[0].text == "Jean-Pierre Dupont"
    assert (person.names[0].given, person.names[0].surname) == ("Jean-Pierre", "Dupont")
    assert [n.text for n in person.names[1:]] == ["Жан-Пьер Дюпон", "J.P. Dupont"]
    assert all(n.alias for n in person.names[1:])
    assert person.dates_of_birth == (BirthDate(1975), BirthDate(1975, 3, 2))
    assert person.nationalities == ("BE", "FR") and person.sex is Sex.MALE
    assert person.documents == ("FRA:passport:12AB34567",)


def test_the_payload_and_the_row_round_trip() -> None:
    person = validate(RED, TODAY)
    assert from_payload(to_payload(person)) == person
    assert validate(to_row(to_payload(person)), TODAY) == person


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference": ""}, "reference"),
        ({"reference": "FR 1"}, "reference"),
        ({"kind": ""}, "kind"),
        ({"kind": "pink"}, "kind"),
        ({"status": "paused"}, "status"),
        ({"charges": ""}, "charges"),
        ({"authority": ""}, "authority"),
        ({"given_names": "", "surname": ""}, "name"),
        ({"dates_of_birth": "1975-02-30"}, "dates_of_birth"),
        ({"dates_of_birth": "02/03/1975"}, "dates_of_birth"),
        ({"dates_of_birth": "1850"}, "dates_of_birth"),
        ({"dates_of_birth": "2027-01"}, "dates_of_birth"),
        ({"nationalities": "FR;UK"}, "nationalities"),
        ({"sex": "male"}, "sex"),
        ({"documents": "FRA:passport"}, "documents"),
        ({"documents": "XYZ:passport:1234"}, "documents"),
        ({"documents": "FRA:licence:1234"}, "documents"),
        ({"aliases": "Jean;" + "x" * 300}, "aliases"),
        ({"eye_colour": "blue"}, "eye_colour"),
        ({"remarks": "line\x07bell"}, "remarks"),
    ],
)
def test_a_bad_field_is_refused_by_name(change: dict[str, str], field: str) -> None:
    assert refused({**RED, **change}).field == field


def test_a_watchlist_entry_names_its_list_and_a_purple_notice_may_name_nobody() -> None:
    entry = {"reference": "US-SDN-1", "kind": "watchlist", "name": "Ali Hassan"}
    assert refused(entry).field == "list_name"
    assert validate({**entry, "list_name": "OFAC SDN"}, TODAY).list_name == "OFAC SDN"
    purple = validate({"reference": "FR-P-1", "kind": "purple", "remarks": "fake ATM"}, TODAY)
    assert purple.names == () and not purple.searchable


def test_a_cancelled_notice_is_kept_but_not_searchable() -> None:
    person = validate({**RED, "status": "cancelled"}, TODAY)
    assert person.status is NoticeStatus.CANCELLED and not person.searchable


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("1975", "1975-03-02", True),
        ("1975-03", "1975-03-02", True),
        ("1975-04", "1975-03-02", False),
        ("1975-03-02", "1975-03-02", True),
        ("1975-03-02", "1975-03-03", False),
        ("1976", "1975", False),
    ],
)
def test_birth_dates_agree_as_far_as_both_are_known(a: str, b: str, agree: bool) -> None:
    first, second = parse_birth_date(a, TODAY), parse_birth_date(b, TODAY)
    assert first.agrees(second) is agree and second.agrees(first) is agree
