"""Comparing names: what matches, what conflicts, and what the explanation says."""

from __future__ import annotations

import pytest

from policenet.registers.persons.matching import THRESHOLD, compare_names
from policenet.registers.persons.names import parse_name
from policenet.registers.persons.tokens import How, compare_tokens


def score(a: str, b: str) -> float:
    return compare_names(parse_name(a), parse_name(b)).score


@pytest.mark.parametrize(
    ("a", "b", "how"),
    [
        ("smith", "smith", How.EXACT),
        ("mohammed", "muhammad", How.PHONETIC),
        ("qaddafi", "kadafi", How.SPELLING),
        ("bill", "william", How.NICKNAME),
        ("jorgan", "jordan", How.TYPO),
        ("jonathan", "jonahtan", How.TYPO),
        ("j", "john", How.INITIAL),
        ("smith", "jones", How.NONE),
    ],
)
def test_tokens_compare_in_named_ways(a: str, b: str, how: How) -> None:
    assert compare_tokens(a, b).how is how


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Muammar Qaddafi", "Moammar Gadhafi"),
        ("Муаммар Каддафи", "Muammar Gaddafi"),
        ("معمر القذافي", "Muammar Qaddafi"),
        ("QADDAFI, Muammar", "Muammar Qaddafi"),
        ("Sergey Lavrov", "Sergey Viktorovich Lavrov"),
        ("J. Smith", "John Smith"),
        ("Ramzi Binalshibh", "Ramzi bin al-Shibh"),
        ("김정은", "Kim Jong Un"),
        ("Dr. Ayman al-Zawahiri", "Ayman Zawahiri"),
        ("Bill Clinton", "William Clinton"),
        ("Jean-Pierre Dupont", "Jean Pierre DUPONT"),
    ],
)
def test_the_same_person_written_differently_matches(a: str, b: str) -> None:
    assert score(a, b) >= THRESHOLD, compare_names(parse_name(a), parse_name(b)).explanation()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kim Jong Man", "Kim Jong Sik"),
        ("HABIB BEN MOHAMED AL-LOUBIRI", "HABIB BEN AHMED AL-LOUBIRI"),
        ("SALMAN BIN MUHAMMAD AL-RAWI", "MUHAMMAD BIN SALMAN AL-RAWI"),
        ("Sergey Viktorovich Lavrov", "Sergey Ivanovich Lavrov"),
        ("习近朋", "习近平"),
        ("Alexander Lukashevich", "Alexander Lukashenko"),
        ("WALIJAN", "WALIJAN ABDUL GHAFOOR HAQQANI"),
        ("Olga Barynova", "Oleg Petrov"),
        ("Ivan Dmitriyevich Gusev", "Ivan Dmitriyevich Belovich"),
    ],
)
def test_different_people_with_similar_names_do_not_match(a: str, b: str) -> None:
    assert score(a, b) < THRESHOLD, compare_names(parse_name(a), parse_name(b)).explanation()


def test_comparison_is_symmetric_on_these_names() -> None:
    pairs = [("Muammar Qaddafi", "Moammar Gadhafi"), ("Kim Jong Man", "Kim Jong Sik")]
    for a, b in pairs:
        assert score(a, b) == pytest.approx(score(b, a))


def test_the_explanation_names_each_part_and_how_it_matched() -> None:
    found = compare_names(parse_name("Moammar Gadhafi"), parse_name("Muammar Qaddafi Abu Minyar"))
    lines = found.explanation()
    assert "name 'Moammar' ~ 'Muammar': typo" in lines
    assert any("'Abu'" not in line and "'Minyar' is missing" in line for line in lines)


def test_a_conflict_is_named_in_the_explanation() -> None:
    lines = compare_names(parse_name("Kim Jong Man"), parse_name("Kim Jong Sik")).explanation()
    assert "name 'Man' conflicts with 'Sik'" in lines


def test_an_exact_name_scores_one() -> None:
    assert score("Angela Merkel", "MERKEL Angela") == 1.0
