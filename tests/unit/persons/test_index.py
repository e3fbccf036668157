"""The persons index: candidates found, scored and ordered; changes; document links."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from policenet.registers.base import MatchStrength
from policenet.registers.persons.index import SHORTLIST, PersonIndex
from policenet.registers.persons.record import Person, validate
from policenet.registers.persons.scoring import PersonQuery, parse_query

TODAY = date(2026, 11, 29)


def person(reference: str, name: str, **fields: Any) -> Person:
    row = {"reference": reference, "kind": "blue", "name": name, **fields}
    return validate(row, TODAY)


def query(name: str, **fields: Any) -> PersonQuery:
    return parse_query({"name": name, **fields}, TODAY)


@pytest.fixture
def index() -> PersonIndex:
    found = PersonIndex()
    found.add("P1", person("P1", "Muammar Qaddafi", dates_of_birth="1942-06-07", sex="M"))
    found.add("P2", person("P2", "Jean Dupont", dates_of_birth="1975", nationalities="FR"))
    found.add("P3", person("P3", "Jean Dupond", dates_of_birth="1980", nationalities="BE"))
    found.add("P4", person("P4", "Kim Jong Sik", aliases="김종식"))
    return found


def keys(index: PersonIndex, name: str, **fields: Any) -> list[str]:
    return [c.key for c in index.search(query(name, **fields))]


def test_a_variant_of_a_name_finds_its_person(index: PersonIndex) -> None:
    assert keys(index, "Moammar Gadhafi") == ["P1"]
    assert keys(index, "김종식") == ["P4"]
    assert keys(index, "Nobody Atall") == []


def test_candidates_come_best_first_and_the_date_of_birth_decides(index: PersonIndex) -> None:
    assert keys(index, "Jean Dupont") == ["P2", "P3"]
    assert keys(index, "Jean Dupont", date_of_birth="1980") == ["P3"]
    (found,) = index.search(query("Jean Dupond", date_of_birth="1980", nationality="BE"))
    assert found.key == "P3" and found.strength is MatchStrength.POSSIBLE
    assert "date of birth agrees as far as known (1980)" in found.explanation
    assert "nationality agrees (BE)" in found.explanation


def test_an_exact_name_and_full_date_is_an_exact_candidate(index: PersonIndex) -> None:
    (found,) = index.search(query("QADDAFI Muammar", date_of_birth="1942-06-07"))
    assert found.strength is MatchStrength.EXACT and found.score == 1.0


def test_another_sex_or_date_lowers_the_score_below_a_hit(index: PersonIndex) -> None:
    assert keys(index, "Muammar Qaddafi", sex="F") == []
    assert keys(index, "Muammar Qaddafi", date_of_birth="1950") == []
    (close,) = index.search(query("Muammar Qaddafi", date_of_birth="1943"))
    assert close.score == pytest.approx(0.9)
    assert "date of birth close: 1943 against 1942-06-07" in close.explanation


def test_a_changed_record_replaces_the_old_and_a_removed_one_is_gone(index: PersonIndex) -> None:
    index.add("P1", person("P1", "Ayman Zawahiri"))
    assert keys(index, "Muammar Qaddafi") == [] and keys(index, "Ayman al-Zawahiri") == ["P1"]
    index.remove("P1")
    index.remove("P-unknown")
    assert keys(index, "Ayman Zawahiri") == [] and len(index) == 3


def test_a_cancelled_notice_is_kept_for_nothing_but_not_found(index: PersonIndex) -> None:
    index.add("P2", person("P2", "Jean Dupont", status="cancelled"))
    assert keys(index, "Jean Dupont", date_of_birth="1975") == []
    assert index.get("P2") is not None


def test_documents_link_to_the_persons_that_name_them(index: PersonIndex) -> None:
    index.add("P5", person("P5", "Ali Hassan", documents="IRQ:passport:A123;D:id-card:L01X"))
    assert index.linked("A123") == ["P5"]
    assert index.linked("A123", "IRQ", "passport") == ["P5"]
    assert index.linked("A123", "SYR") == [] and index.linked("L01X", None, "passport") == []
    index.remove("P5")
    assert index.linked("A123") == []


def test_a_common_name_still_finds_the_right_person_by_date_of_birth() -> None:
    index = PersonIndex()
    for i in range(SHORTLIST * 3):
        index.add(f"S{i}", person(f"S{i}", "John Smith", dates_of_birth=str(1930 + i % 60)))
    index.add("T", person("T", "John Smith", dates_of_birth="1999-09-09"))
    found = index.search(query("John Smith", date_of_birth="1999-09-09"), limit=1)
    assert [c.key for c in found] == ["T"]


def test_records_a_date_or_sex_rules_out_are_left_out_but_close_ones_are_not() -> None:
    index = PersonIndex()
    index.add("A", person("A", "Omar Haddad", dates_of_birth="1960;1980-05-01", sex="M"))
    index.add("B", person("B", "Omar Haddad", dates_of_birth="1950"))
    index.add("C", person("C", "Omar Haddad"))
    # C gives no date (nothing against it); A is a year off (close, a little less)
    assert keys(index, "Omar Haddad", date_of_birth="1981") == ["C", "A"]
    assert keys(index, "Omar Haddad", date_of_birth="1960-02-03", sex="F") == ["C"]
    assert keys(index, "Omar Haddad", sex="M") == ["A", "B", "C"]
