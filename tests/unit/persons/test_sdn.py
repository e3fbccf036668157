"""The SDN list importer: remark entries read into their fields, bad lines reported, and the
published list (shared reference data) converted whole into rows that all validate."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from policenet.errors import InvalidField
from policenet.registers.persons.record import MAX_TEXT_CHARS, ROW_FIELDS, validate
from policenet.registers.persons.sdn import (
    SdnRow,
    birth_dates,
    country_code,
    document_key,
    issuing_state,
    sdn_rows,
)
from tests.reference_data import SHARED_DATA

SDN_CSV = SHARED_DATA / "names" / "ofac_sdn_2024-05-03.csv"
TODAY = date(2024, 5, 3)
VESSEL_COLUMNS = ",".join(["-0- "] * 6)  # Call_Sign .. Vess_owner, empty


def sdn_line(ent: int, name: str, remarks: str, kind: str = "individual") -> str:
    """One line in the published format (the remarks quoted, ``-0-`` for empty columns)."""
    sdn_type = f'"{kind}"' if kind else "-0- "
    quoted = '"' + remarks.replace('"', '""') + '"' if remarks else "-0- "
    return f'{ent},"{name}",{sdn_type},"SDGT] [IRAQ2",-0- ,{VESSEL_COLUMNS},{quoted}\r\n'


def rows(*lines: str, include_entities: bool = False) -> list[SdnRow]:
    return list(sdn_rows(lines, include_entities=include_entities, today=TODAY))


def one(line: str) -> dict[str, str]:
    [item] = rows(line)
    assert item.error == ""
    assert item.row is not None
    return item.row


# -- one remark kind at a time ----------------------------------------------------------


def test_an_individual_gets_reference_kind_list_and_name_parts() -> None:
    row = one(sdn_line(1234, "AL-TIKRITI, Barzan Ibrahim Hasan", ""))
    assert set(row) == set(ROW_FIELDS)
    assert row["reference"] == "SDN-1234"
    assert row["kind"] == "watchlist"
    assert row["list_name"] == "OFAC SDN"
    assert row["surname"] == "AL-TIKRITI"
    assert row["given_names"] == "Barzan Ibrahim Hasan"
    assert row["name"] == "Barzan Ibrahim Hasan AL-TIKRITI"
    assert row["remarks"].startswith("Programs: SDGT, IRAQ2")
    person = validate(row, TODAY)
    assert person.names[0].surname == "AL-TIKRITI"


def test_the_list_name_is_the_callers() -> None:
    [item] = list(sdn_rows([sdn_line(1, "DOE, John", "")], list_name="US SDN 2024-05"))
    assert item.row is not None
    assert item.row["list_name"] == "US SDN 2024-05"


def test_a_suffix_after_a_second_comma_ends_the_name() -> None:
    row = one(sdn_line(5, "DELOS REYES, Feliciano Semborio, Jr.", ""))
    assert row["name"] == "Feliciano Semborio DELOS REYES Jr."
    assert row["given_names"] == "Feliciano Semborio"
    assert row["surname"] == "DELOS REYES"


def test_a_surname_that_is_also_a_title_word_is_kept_as_the_surname() -> None:
    row = one(sdn_line(6, "SHEIKH, Daniel Y.", ""))
    assert row["name"] == "Daniel Y. SHEIKH"
    assert (row["surname"], row["given_names"]) == ("SHEIKH", "Daniel Y.")
    validate(row, TODAY)


def test_aliases_are_unquoted_and_reordered_like_the_name() -> None:
    remarks = (
        "a.k.a. 'ABU AHMAD'; a.k.a. \"AL-IRAQI, Hamid\"; f.k.a. 'OLD NAME'; "
        "n.k.a. 'NEW NAME'; a.k.a. ''FOOPIE''; a.k.a. 'ABU-'UMAR'."
    )
    row = one(sdn_line(7, "HAMID, Ali", remarks))
    assert row["aliases"].split(";") == [
        "ABU AHMAD",
        "Hamid AL-IRAQI",
        "OLD NAME",
        "NEW NAME",
        "FOOPIE",
        "ABU-'UMAR",
    ]
    assert "a.k.a." not in row["remarks"]
    assert len(validate(row, TODAY).names) == 7


def test_an_alias_cut_short_or_without_a_name_stays_in_the_remarks() -> None:
    row = one(sdn_line(8, "HAMID, Ali", "a.k.a. '40'; a.k.a. 'Ali HAMID'; a.k.a. 'snowsj"))
    assert row["aliases"] == ""
    assert "a.k.a. '40'" in row["remarks"]
    assert "a.k.a. 'snowsj" in row["remarks"]
    assert "Ali HAMID" not in row["remarks"]  # the main name again: nothing lost


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12 Jan 1960", ["1960-01-12"]),
        ("02 SEP 1971", ["1971-09-02"]),
        ("Jan 1960", ["1960-01"]),
        ("1960", ["1960"]),
        ("circa 1960", ["1960"]),
        ("circa 05 Jul 1951", ["1951-07-05"]),
        ("1960 to 1962", ["1960", "1961", "1962"]),
        ("circa 1979-1982", ["1979", "1980", "1981", "1982"]),
        ("12 Jan 1960 to 15 Feb 1960", ["1960-01-12"]),
        ("Mar 1960 to Feb 1961", ["1960-03"]),
        ("1950 to 1990", []),  # too wide to mean anything
        ("1962 to 1960", []),
        ("unknown", []),
        ("12 Foo 1960", []),
        ("Jan", []),
        ("12 1960", []),
        ("", []),
    ],
)
def test_birth_date_forms(value: str, expected: list[str]) -> None:
    assert birth_dates(value) == expected


def test_dates_of_birth_from_dob_and_alt_dob_garbage_dropped_and_kept_in_remarks() -> None:
    remarks = (
        "DOB 12 Jan 1960; alt. DOB 1961; alt. DOB 1963 to 1964; alt. DOB 31 Feb 1962; "
        "alt. DOB 1850; alt. DOB 01 Jan 2090; alt. DOB sometime in the sixties"
    )
    row = one(sdn_line(9, "DOE, John", remarks))
    assert row["dates_of_birth"].split(";") == ["1960-01-12", "1961", "1963", "1964"]
    for dropped in ("31 Feb 1962", "1850", "01 Jan 2090", "sometime in the sixties"):
        assert dropped in row["remarks"]
    assert len(validate(row, TODAY).dates_of_birth) == 4


def test_place_of_birth_is_the_first_pob_and_alternatives_stay_in_the_remarks() -> None:
    row = one(sdn_line(10, "DOE, John", "POB Baghdad, Iraq; alt. POB Tikrit, Iraq."))
    assert row["place_of_birth"] == "Baghdad, Iraq"
    assert "alt. POB Tikrit, Iraq" in row["remarks"]


def test_nationalities_from_nationality_and_citizen_entries() -> None:
    remarks = (
        "nationality Iraq; citizen Russia; alt. nationality Korea, North; citizen Iraq; "
        "nationality Burma; alt. citizen Palestinian; nationality Kosovo; "
        "nationality Atlantis; nationality United Kingdom"
    )
    row = one(sdn_line(11, "DOE, John", remarks))
    assert row["nationalities"].split(";") == ["IQ", "RU", "KP", "MM", "PS", "GB"]
    assert "nationality Kosovo" in row["remarks"]  # no ISO 3166-1 code
    assert "nationality Atlantis" in row["remarks"]
    validate(row, TODAY)


@pytest.mark.parametrize(
    ("name", "alpha2"),
    [
        ("Iraq", "IQ"),
        ("Iran", "IR"),
        ("Syria", "SY"),
        ("Russia", "RU"),
        ("Korea, South", "KR"),
        ("Congo, Democratic Republic of the", "CD"),
        ("North Macedonia, The Republic of", "MK"),
        ("The Gambia", "GM"),
        ("Turkey", "TR"),
        ("Venezuela", "VE"),
        ("Kosovo", None),
        ("Region: Gaza", None),
        ("", None),
    ],
)
def test_country_names_as_the_list_writes_them(name: str, alpha2: str | None) -> None:
    assert country_code(name) == alpha2


def test_issuing_states_are_icao_codes() -> None:
    assert issuing_state("Germany") == "D"
    assert issuing_state("Iraq") == "IRQ"
    assert issuing_state("Kosovo") == "RKS"
    assert issuing_state("Nowhere") is None
    assert document_key("Passport", "L 898-902 C3", "Iraq") == "IRQ:passport:L898902C3"
    assert document_key("National ID No.", "92/664", "Egypt") is None
    assert document_key("Passport", "A1", "Nowhere") is None


def test_sex_from_gender() -> None:
    assert one(sdn_line(12, "DOE, John", "Gender Male"))["sex"] == "M"
    assert one(sdn_line(13, "DOE, Jane", "DOB 1970; Gender Female."))["sex"] == "F"
    assert one(sdn_line(14, "DOE, Jo", "DOB 1970"))["sex"] == ""


def test_documents_from_passport_and_national_id_entries() -> None:
    remarks = (
        "Passport A1234567 (Iraq); alt. Passport 265 216 (Egypt) issued 01 Jan 2000 "
        "expires 01 Jan 2005; Diplomatic Passport D-0042 (Syria); "
        "National ID No. 1007850441 (Germany); alt. National ID No. 980335608 (Kosovo); "
        "Passport 19820215; Passport 92/664 (Egypt); National ID No. 123 (Atlantis); "
        "Cedula No. 6068015 (Colombia)"
    )
    row = one(sdn_line(15, "DOE, John", remarks))
    assert row["documents"].split(";") == [
        "IRQ:passport:A1234567",
        "EGY:passport:265216",
        "SYR:passport:D0042",
        "D:id-card:1007850441",
        "RKS:id-card:980335608",
    ]
    for dropped in ("Passport 19820215", "92/664", "(Atlantis)", "Cedula No. 6068015"):
        assert dropped in row["remarks"]
    assert len(validate(row, TODAY).documents) == 5


def test_remarks_keep_title_and_unread_entries_and_are_cut_to_the_limit() -> None:
    line = (
        '99,"DOE, John","individual","SDGT","Minister of Finance",'
        + VESSEL_COLUMNS
        + ',"Linked To: SOME BANK; Email Address x@example.org."\r\n'
    )
    row = one(line)
    assert row["remarks"] == (
        "Programs: SDGT. Title: Minister of Finance. "
        "Linked To: SOME BANK; Email Address x@example.org"
    )
    long = one(sdn_line(16, "DOE, John", "; ".join(["Linked To: A VERY LONG NAME"] * 200)))
    assert len(long["remarks"]) == MAX_TEXT_CHARS
    assert long["remarks"].endswith("…")
    validate(long, TODAY)


# -- entities and bad lines --------------------------------------------------------------


def test_entities_are_skipped_unless_asked_for() -> None:
    company = sdn_line(20, "ACME TRADING CO., LTD.", "f.k.a. 'ACME, LTD.'", kind="")
    vessel = (
        '21,"SEA STAR","vessel","IRAN",-0- ,"9HXY","Crude Oil Tanker","99,144","56,068",'
        '"Iran",-0- ,"Vessel Registration Identification IMO 1234567."\r\n'
    )
    person = sdn_line(22, "DOE, John", "")
    assert [i.row["reference"] for i in rows(company, vessel, person) if i.row] == ["SDN-22"]
    items = rows(company, vessel, person, include_entities=True)
    assert [i.error for i in items] == ["", "", ""]
    entity = items[0].row
    assert entity is not None
    assert entity["name"] == "ACME TRADING CO., LTD."
    assert entity["surname"] == entity["given_names"] == ""
    assert entity["aliases"] == "ACME, LTD."  # not reordered: not a person's name
    assert entity["kind"] == "watchlist"
    ship = items[1].row
    assert ship is not None
    assert "Vessel (Call sign 9HXY, Type Crude Oil Tanker" in ship["remarks"]
    assert "IMO 1234567" in ship["remarks"]
    for item in items:
        assert item.row is not None
        validate(item.row, TODAY)


def test_bad_lines_are_reported_with_their_line_and_the_rest_still_load() -> None:
    lines = [
        sdn_line(1, "DOE, John", ""),
        '2,"SHORT, Line","individual","SDGT"\r\n',
        sdn_line(3, "", ""),
        sdn_line(4, "DOE, Jane", "DOB garbage; DOB 99 Xyz 1960; alt. DOB 1970"),
        'x5,"DOE, Jim","individual","SDGT",-0- ,' + VESSEL_COLUMNS + ",-0- \r\n",
        sdn_line(6, "., ;", ""),
        "\x1a",
        "\r\n",
    ]
    items = rows(*lines)
    assert [(i.line, i.ok) for i in items] == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
        (5, False),
        (6, False),
    ]
    assert "12 columns, found 4" in items[1].error
    assert "no name" in items[2].error
    assert items[3].row is not None
    assert items[3].row["dates_of_birth"] == "1970"
    assert "'x5' is not a number" in items[4].error
    assert "name" in items[5].error


def test_line_numbers_follow_line_breaks_inside_quoted_fields() -> None:
    broken = (
        '7,"DOE, John","individual","SDGT",-0- ,' + VESSEL_COLUMNS + ',"DOB 1960;\nGender Male."\n'
    )
    items = rows(*broken.splitlines(keepends=True), sdn_line(8, "DOE, Jane", ""))
    assert [i.line for i in items] == [1, 3]


# -- the published list ------------------------------------------------------------------


def _published_lines() -> list[list[str]]:
    if not SDN_CSV.is_file():
        pytest.skip(f"OFAC SDN list not found at {SDN_CSV} (shared reference data)")
    with SDN_CSV.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def published() -> dict[str, dict[str, str]]:
    """The rows of the published list's individuals, by reference."""
    if not SDN_CSV.is_file():
        pytest.skip(f"OFAC SDN list not found at {SDN_CSV} (shared reference data)")
    with SDN_CSV.open(newline="", encoding="utf-8") as f:
        items = list(sdn_rows(f, today=TODAY))
    errors = [f"line {i.line}: {i.error}" for i in items if i.row is None]
    assert errors == []
    return {i.row["reference"]: i.row for i in items if i.row is not None}


def test_every_individual_of_the_published_list_is_loaded(
    published: dict[str, dict[str, str]],
) -> None:
    individuals = [c[0] for c in _published_lines() if len(c) > 2 and c[2] == "individual"]
    assert len(individuals) > 6000
    assert len(published) == len(individuals)
    assert set(published) == {f"SDN-{n}" for n in individuals}


def test_every_row_of_the_published_list_validates(
    published: dict[str, dict[str, str]],
) -> None:
    refused = []
    for reference, row in published.items():
        try:
            validate(row, TODAY)
        except InvalidField as error:
            refused.append(f"{reference}: {error}")
    assert refused == []


def test_entities_of_the_published_list_load_or_are_reported() -> None:
    if not SDN_CSV.is_file():
        pytest.skip(f"OFAC SDN list not found at {SDN_CSV} (shared reference data)")
    with SDN_CSV.open(newline="", encoding="utf-8") as f:
        items = list(sdn_rows(f, include_entities=True, today=TODAY))
    entries = [c for c in _published_lines() if len(c) == 12]
    assert len(items) == len(entries)
    loaded = [i.row for i in items if i.row is not None]
    for row in loaded:
        validate(row, TODAY)
    # the few refused are names longer than a name may be (companies with long names)
    assert {i.error.split(":")[0] for i in items if i.row is None} <= {"name"}


def test_known_individuals_of_the_published_list(published: dict[str, dict[str, str]]) -> None:
    # 2686,"NASRALLAH, Hasan","individual","SDGT] [SYRIA",... "DOB 31 Aug 1960;
    # alt. DOB 31 Aug 1953; alt. DOB 31 Aug 1955; alt. DOB 31 Aug 1958;
    # POB Al Basuriyah, Lebanon; ... Gender Male; Passport 042833 (Lebanon); ..."
    nasrallah = published["SDN-2686"]
    assert nasrallah["name"] == "Hasan NASRALLAH"
    assert set(nasrallah["dates_of_birth"].split(";")) == {
        "1960-08-31",
        "1953-08-31",
        "1955-08-31",
        "1958-08-31",
    }
    assert nasrallah["place_of_birth"] == "Al Basuriyah, Lebanon"
    assert nasrallah["sex"] == "M"
    assert nasrallah["documents"] == "LBN:passport:042833"
    assert nasrallah["remarks"].startswith("Programs: SDGT, SYRIA.")

    # 11315,"EL HABHAB, Redouane",... "DOB 20 Dec 1969; POB Casablanca, Morocco;
    # nationality Germany; Passport 1005552350 (Germany) issued ...; National ID No.
    # 1007850441 (Germany) issued ...; ...; a.k.a. 'ABDELRAHMAN'."
    habhab = published["SDN-11315"]
    assert (habhab["surname"], habhab["given_names"]) == ("EL HABHAB", "Redouane")
    assert habhab["dates_of_birth"] == "1969-12-20"
    assert habhab["place_of_birth"] == "Casablanca, Morocco"
    assert habhab["nationalities"] == "DE"
    assert set(habhab["documents"].split(";")) == {
        "D:passport:1005552350",
        "D:id-card:1007850441",
    }
    assert habhab["aliases"] == "ABDELRAHMAN"

    # 11748,"MAHAMOUD, Bashir Mohamed",... "nationality Somalia; DOB circa 1979-1982;
    # alt. DOB 1982; a.k.a. 'MUSCAB, Abu'; a.k.a. 'QORGAB'."
    mahamoud = published["SDN-11748"]
    assert mahamoud["name"] == "Bashir Mohamed MAHAMOUD"
    assert mahamoud["nationalities"] == "SO"
    assert set(mahamoud["dates_of_birth"].split(";")) == {"1979", "1980", "1981", "1982"}
    assert set(mahamoud["aliases"].split(";")) == {"Abu MUSCAB", "QORGAB"}

    # 11648,"KIM, Tong-Myo'ng",... "DOB 1964; alt. DOB 28 Aug 1962; nationality Korea,
    # North; ...; Passport 290320764; a.k.a. 'KIM, JIN SOK'; ..." (no country: no document)
    kim = published["SDN-11648"]
    assert kim["nationalities"] == "KP"
    assert kim["aliases"] == "JIN SOK KIM"
    assert kim["documents"] == ""
    assert "Passport 290320764" in kim["remarks"]
