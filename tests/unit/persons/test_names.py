"""Parsing names: scripts, particles, titles, parts, and the inputs that are refused."""

from __future__ import annotations

import pytest

from policenet.errors import InvalidField
from policenet.registers.persons.names import MAX_NAME_CHARS, Part, Role, parse_name


def texts(name: str) -> list[str]:
    return [t.text for t in parse_name(name).tokens]


@pytest.mark.parametrize(
    ("written", "expected", "script"),
    [
        ("Муаммар Каддафи", ["muammar", "kaddafi"], "Cyrillic"),
        ("Ελευθέριος Βενιζέλος", ["eleytherios", "venizelos"], "Greek"),
        ("习近平", ["xi", "jinping"], "Han"),
        ("김정은", ["kim", "jeongeun"], "Hangul"),
        ("あべ しんぞう", ["abe", "shinzou"], "Kana"),
        ("Nicolás Maduro", ["nicolas", "maduro"], "Latin"),
    ],
)
def test_names_in_other_scripts_are_written_in_latin_letters(
    written: str, expected: list[str], script: str
) -> None:
    parsed = parse_name(written)
    assert [t.text for t in parsed.tokens] == expected
    assert parsed.script == script


def test_arabic_is_marked_as_written_without_vowels_and_its_article_is_a_particle() -> None:
    parsed = parse_name("معمر القذافي")
    assert [(t.text, t.role, t.abjad) for t in parsed.tokens] == [
        ("mmr", Role.NAME, True),
        ("al", Role.PARTICLE, False),
        ("qdhfy", Role.NAME, True),
    ]


def test_titles_are_dropped_and_particles_kept_as_particles() -> None:
    parsed = parse_name("Sheikh Isa bin Tarif al-Bin Ali")
    assert [t.text for t in parsed.tokens] == ["isa", "bin", "tarif", "al", "bin", "ali"]
    assert [t.text for t in parsed.names] == ["isa", "tarif", "ali"]


def test_a_name_that_is_only_a_title_word_keeps_it_as_a_name() -> None:
    assert texts("SHEIKH") == ["sheikh"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("SergeiLavrov", ["sergei", "lavrov"]),
        ("Seán O'Brien", ["sean", "obrien"]),
        ("JC Juncker", ["j", "c", "juncker"]),
        ("Ig0r Sech1n", ["igor", "sechin"]),
        ("  Muammar\x00\tQaddafi ", ["muammar", "qaddafi"]),
    ],
)
def test_words_are_split_as_people_write_them(written: str, expected: list[str]) -> None:
    assert texts(written) == expected


def test_a_patronymic_is_recognised_in_a_three_part_name_only() -> None:
    three = parse_name("Sergey Viktorovich Lavrov").tokens
    assert [t.part for t in three] == [Part.UNKNOWN, Part.PATRONYMIC, Part.UNKNOWN]
    two = parse_name("Alexander Lukashevich").tokens
    assert all(t.part is Part.UNKNOWN for t in two)


def test_in_a_nasab_the_father_follows_bin() -> None:
    tokens = parse_name("Muhammad bin Salman Al Saud").tokens
    parts = {t.text: t.part for t in tokens if t.role is Role.NAME}
    assert parts == {"muhammad": Part.GIVEN, "salman": Part.PATRONYMIC, "saud": Part.UNKNOWN}


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "is empty"),
        ("   \t ", "is empty"),
        ("-- . ,", "no name"),
        ("A" * (MAX_NAME_CHARS + 1), "longer than"),
        ("a " * 13, "at most 12"),
        ("x" * 10_000, "longer than"),
    ],
)
def test_unusable_names_are_refused_naming_the_field(written: str, reason: str) -> None:
    with pytest.raises(InvalidField) as raised:
        parse_name(written, field="aliases")
    assert raised.value.field == "aliases"
    assert reason in raised.value.reason


def test_a_marked_part_applies_to_every_word() -> None:
    tokens = parse_name("Abena Ondoa", Part.SURNAME).tokens
    assert [t.part for t in tokens] == [Part.SURNAME, Part.SURNAME]
