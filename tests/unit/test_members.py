"""Admitting members, deriving their codes, scoping agencies; countries and register lists."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.countries import country_name, validate_country
from policenet.domain.members import (
    Admission,
    Member,
    MemberKind,
    MemberStatus,
    admit,
    agency_code_for,
    code_from_uri,
    member_uri,
    set_agency_scope,
    validate_code,
)
from policenet.domain.registers import (
    ALL_REGISTERS,
    RegisterName,
    format_registers,
    parse_registers,
)
from policenet.errors import Conflict, Forbidden, InvalidField, NotFound

GS = MemberKind.GENERAL_SECRETARIAT
NCB = MemberKind.NCB
AGENCY = MemberKind.AGENCY
DNA_AND_PERSONS = frozenset({RegisterName.DNA, RegisterName.PERSONS})


def network() -> list[Member]:
    """A General Secretariat, NCB London (every register), NCB Paris (DNA and persons)."""
    members: list[Member] = []
    for request in (
        Admission(GS, "General Secretariat"),
        Admission(NCB, "NCB London", country="GB"),
        Admission(NCB, "NCB Paris", country="FR", registers=DNA_AND_PERSONS),
    ):
        members.append(admit(request, members))
    return members


def by_code(members: list[Member], code: str) -> Member:
    return next(m for m in members if m.code == code)


def agency(
    name: str = "Metropolitan Police",
    country: str = "GB",
    parent: str = "ncb-gb",
    *,
    code: str | None = None,
    registers: frozenset[RegisterName] | None = None,
) -> Admission:
    return Admission(AGENCY, name, country=country, parent=parent, registers=registers, code=code)


# --- the General Secretariat ----------------------------------------------------------


def test_the_general_secretariat_is_admitted_once() -> None:
    gs = admit(Admission(GS, "General Secretariat"), [])
    assert (gs.code, gs.kind, gs.country, gs.parent) == ("gs", GS, None, None)
    with pytest.raises(Conflict, match="General Secretariat"):
        admit(Admission(GS, "Second Secretariat"), [gs])


def test_the_general_secretariat_has_no_parent_country_or_chosen_code() -> None:
    for request, field in (
        (Admission(GS, "GS", parent="ncb-gb"), "parent"),
        (Admission(GS, "GS", country="FR"), "country"),
        (Admission(GS, "GS", code="hub"), "code"),
    ):
        with pytest.raises(InvalidField) as caught:
            admit(request, [])
        assert caught.value.field == field


# --- NCBs ---------------------------------------------------------------------------


def test_an_ncb_is_named_after_its_country() -> None:
    ncb = admit(Admission(NCB, "NCB Wiesbaden", country="DE"), network())
    assert (ncb.code, ncb.country, ncb.parent, ncb.ncb_code) == ("ncb-de", "DE", None, "ncb-de")
    assert ncb.uri == "urn:policenet:member:ncb-de"
    assert ncb.registers == ALL_REGISTERS


def test_a_lower_case_country_is_accepted_upper_case() -> None:
    ncb = admit(Admission(NCB, "NCB Wiesbaden", country="de"), [])
    assert (ncb.country, ncb.code) == ("DE", "ncb-de")


@pytest.mark.parametrize("country", ["UK", "XX", "EU", "GBR", "G", "", "1A", "ÉS"])
def test_an_ncb_needs_an_assigned_iso_country(country: str) -> None:
    with pytest.raises(InvalidField) as caught:
        admit(Admission(NCB, "NCB Somewhere", country=country), [])
    assert caught.value.field == "country"


def test_an_ncb_needs_a_country() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(Admission(NCB, "NCB Nowhere"), [])
    assert caught.value.field == "country"


def test_one_ncb_per_country() -> None:
    with pytest.raises(Conflict) as caught:
        admit(Admission(NCB, "Another NCB", country="gb"), network())
    assert "GB" in caught.value.message
    assert "ncb-gb" in caught.value.message


def test_an_ncb_has_no_parent() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(Admission(NCB, "NCB Rome", country="IT", parent="ncb-gb"), network())
    assert caught.value.field == "parent"


def test_an_ncb_code_cannot_be_chosen() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(Admission(NCB, "NCB Rome", country="IT", code="ncb-fr"), [])
    assert caught.value.field == "code"
    # Naming the code it would get anyway is harmless.
    assert admit(Admission(NCB, "NCB Rome", country="IT", code="ncb-it"), []).code == "ncb-it"


# --- agencies -----------------------------------------------------------------------


def test_an_agency_sits_under_its_ncb_with_the_ncbs_registers() -> None:
    members = network()
    met = admit(agency(), members)
    assert (met.code, met.kind, met.country, met.parent) == (
        "gb-metropolitan-police",
        AGENCY,
        "GB",
        "ncb-gb",
    )
    assert met.ncb_code == "ncb-gb"
    assert met.registers == ALL_REGISTERS
    pp = admit(agency("Préfecture de Police", "FR", "ncb-fr"), members)
    assert pp.registers == DNA_AND_PERSONS


def test_an_agency_may_have_fewer_registers_than_its_ncb() -> None:
    pp = admit(
        agency("Préfecture de Police", "FR", "ncb-fr", registers=frozenset({RegisterName.DNA})),
        network(),
    )
    assert pp.registers == {RegisterName.DNA}
    empty = admit(agency(registers=frozenset()), network())
    assert empty.registers == frozenset()


def test_an_agency_may_not_have_more_registers_than_its_ncb() -> None:
    request = agency(
        "Préfecture de Police",
        "FR",
        "ncb-fr",
        registers=frozenset({RegisterName.DNA, RegisterName.FINGERPRINTS}),
    )
    with pytest.raises(Forbidden) as caught:
        admit(request, network())
    assert "fingerprints" in caught.value.message
    assert "dna" not in caught.value.message


def test_an_agency_needs_a_parent() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(Admission(AGENCY, "Metropolitan Police", country="GB"), network())
    assert caught.value.field == "parent"


def test_an_agency_needs_a_country() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(Admission(AGENCY, "Metropolitan Police", parent="ncb-gb"), network())
    assert caught.value.field == "country"


def test_an_unknown_parent_is_not_found() -> None:
    with pytest.raises(NotFound, match="ncb-de"):
        admit(agency("BKA", "DE", "ncb-de"), network())


@pytest.mark.parametrize("parent", ["gs", "gb-metropolitan-police"])
def test_the_parent_must_be_an_ncb(parent: str) -> None:
    members = network()
    members.append(admit(agency(), members))
    with pytest.raises(InvalidField) as caught:
        admit(agency("Border Force", parent=parent), members)
    assert caught.value.field == "parent"
    assert "not an NCB" in caught.value.reason


def test_an_agency_under_another_countrys_ncb_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(agency("Metropolitan Police", "GB", "ncb-fr"), network())
    assert caught.value.field == "parent"
    assert "FR" in caught.value.reason
    assert "GB" in caught.value.reason


def test_a_revoked_ncb_takes_no_new_agencies() -> None:
    members = [
        replace(m, status=MemberStatus.REVOKED) if m.code == "ncb-gb" else m for m in network()
    ]
    with pytest.raises(Forbidden, match="ncb-gb"):
        admit(agency(), members)


def test_a_duplicate_agency_code_is_a_conflict() -> None:
    members = network()
    members.append(admit(agency(), members))
    with pytest.raises(Conflict, match="gb-metropolitan-police"):
        admit(agency("  Metropolitan   Police "), members)
    with pytest.raises(Conflict, match="gb-metropolitan-police"):
        admit(agency("The Met", code="gb-metropolitan-police"), members)


def test_an_agency_may_choose_its_code() -> None:
    ps = admit(
        agency("Полиция Москвы", "RU", "ncb-ru", code="ru-moscow-police"),
        [*network(), admit(Admission(NCB, "NCB Moscow", country="RU"), [])],
    )
    assert ps.code == "ru-moscow-police"
    assert ps.name == "Полиция Москвы"


@pytest.mark.parametrize("code", ["ncb-de", "ncb-gb", "gs"])
def test_an_agency_may_not_take_a_code_the_hub_assigns(code: str) -> None:
    # Restrictions name members by code: an agency holding "ncb-de" would be let
    # in wherever Germany's NCB is.
    with pytest.raises(InvalidField) as caught:
        admit(agency(code=code), network())
    assert caught.value.field == "code"


@pytest.mark.parametrize("code", ["GB-Met", "gb met", "g", "-gb-met", "gb-met\n", "x" * 64])
def test_a_chosen_code_must_be_a_member_code(code: str) -> None:
    with pytest.raises(InvalidField) as caught:
        admit(agency(code=code), network())
    assert caught.value.field == "code"


# --- codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "name", "code"),
    [
        ("GB", "Metropolitan Police", "gb-metropolitan-police"),
        ("gb", "  Metropolitan   Police  Service ", "gb-metropolitan-police-service"),
        ("CH", "Police Cantonale Genève", "ch-police-cantonale-geneve"),
        ("DE", "Landeskriminalamt Baden-Württemberg", "de-landeskriminalamt-baden-wurttemberg"),
        ("DE", "Straße", "de-strasse"),
        ("DK", "Ærø Politi", "dk-aero-politi"),
        ("NO", "Politiet i Tromsø", "no-politiet-i-tromso"),
        ("PL", "Komenda Wojewódzka Policji w Łodzi", "pl-komenda-wojewodzka-policji-w-lodzi"),
        ("IS", "Lögreglan á Þórshöfn", "is-logreglan-a-thorshofn"),
        ("TR", "İstanbul Emniyet Müdürlüğü", "tr-istanbul-emniyet-mudurlugu"),
        ("US", "NYPD (New York City)", "us-nypd-new-york-city"),
        ("JP", "警視庁 Tokyo MPD", "jp-tokyo-mpd"),
        ("US", "Unit 51", "us-unit-51"),
    ],
)
def test_agency_codes_are_slugs_of_the_name(country: str, name: str, code: str) -> None:
    assert agency_code_for(country, name) == code


@pytest.mark.parametrize("name", ["Полиция Москвы", "警視庁", "Ελληνική Αστυνομία", "!!! ---", "·"])
def test_a_name_with_no_latin_letters_or_digits_needs_a_chosen_code(name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        agency_code_for("RU", name)
    assert caught.value.field == "name"


def test_a_long_name_gives_a_code_of_at_most_63_characters() -> None:
    code = agency_code_for("GB", "Police " * 30)
    assert len(code) <= 63
    assert not code.endswith("-")
    assert validate_code(code) == code


@given(st.sampled_from(["GB", "FR", "NC", "BR"]), st.text(max_size=300))
def test_a_derived_code_is_a_valid_unreserved_code_of_the_country(country: str, name: str) -> None:
    try:
        code = agency_code_for(country, name)
    except InvalidField as e:
        assert e.field == "name"
        assert not any(c.isascii() and c.isalnum() for c in name)
        return
    assert validate_code(code) == code
    assert code.startswith(f"{country.lower()}-")
    assert not code.startswith("ncb-")
    assert code != "gs"


def test_member_uris_round_trip() -> None:
    assert code_from_uri(member_uri("gb-met")) == "gb-met"


@pytest.mark.parametrize(
    "uri", ["urn:example:gb-met", "urn:policenet:member:GB", "urn:policenet:member:gb-met\n"]
)
def test_a_uri_that_names_no_member_is_refused(uri: str) -> None:
    with pytest.raises(InvalidField):
        code_from_uri(uri)


def test_ncb_code_of_each_kind() -> None:
    members = network()
    met = admit(agency(), members)
    assert by_code(members, "gs").ncb_code is None
    assert by_code(members, "ncb-fr").ncb_code == "ncb-fr"
    assert met.ncb_code == "ncb-gb"


# --- names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Met\x00Police",
        "Met\nPolice",
        "Met\tPolice",
        "Metropolitan Police\r",
        "Met\x1fPolice",
        "Met\x85Police",
        "Met\x7fPolice",
        "Met\u202ePolice",  # right-to-left override: displays as something else
        "Met\u200bPolice",  # zero-width space
    ],
)
def test_a_name_with_control_characters_is_refused(name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        admit(agency(name, code="gb-met"), network())
    assert caught.value.field == "name"
    assert "control" in caught.value.reason


def test_a_name_may_use_joiners_of_its_script() -> None:
    # Persian writes some words with a zero-width non-joiner.
    name = "پلیس\u200cفتا"
    assert unicodedata.category("\u200c") == "Cf"
    members = [*network(), admit(Admission(NCB, "NCB Tehran", country="IR"), [])]
    assert admit(agency(name, "IR", "ncb-ir", code="ir-fata"), members).name == name


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_a_name_must_not_be_blank(name: str) -> None:
    with pytest.raises(InvalidField) as caught:
        admit(agency(name, code="gb-met"), network())
    assert caught.value.field == "name"


def test_names_of_up_to_200_characters_are_accepted() -> None:
    assert len(admit(agency("M" * 200), network()).name) == 200


def test_names_over_200_characters_are_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        admit(agency("M" * 201), network())
    assert caught.value.field == "name"
    assert "201" in caught.value.reason


def test_the_name_limit_counts_the_name_as_stored() -> None:
    # Runs of spaces are stored as one, so they do not count against the limit...
    assert len(admit(agency("M" * 100 + " " * 50 + "P" * 99), network()).name) == 200
    # ...but single spaces do.
    with pytest.raises(InvalidField):
        admit(agency("a " * 101), network())


# --- agency scope -------------------------------------------------------------------


def scoped_network() -> tuple[list[Member], Member, Member]:
    members = network()
    met = admit(agency(), members)
    pp = admit(agency("Préfecture de Police", "FR", "ncb-fr"), members)
    return [*members, met, pp], met, pp


def test_an_ncb_narrows_its_agencys_registers() -> None:
    members, met, _ = scoped_network()
    changed = set_agency_scope(by_code(members, "ncb-gb"), met, frozenset({RegisterName.DNA}), True)
    assert changed.registers == {RegisterName.DNA}
    assert changed.copy_enquiries_to_ncb
    assert replace(changed, registers=met.registers, copy_enquiries_to_ncb=False) == met


def test_the_general_secretariat_sets_scope_within_the_ncbs_registers() -> None:
    members, _, pp = scoped_network()
    gs, ncb_fr = by_code(members, "gs"), by_code(members, "ncb-fr")
    changed = set_agency_scope(gs, pp, frozenset({RegisterName.PERSONS}), False, ncb=ncb_fr)
    assert changed.registers == {RegisterName.PERSONS}
    with pytest.raises(Forbidden, match="fingerprints"):
        set_agency_scope(gs, pp, ALL_REGISTERS, False, ncb=ncb_fr)


def test_the_general_secretariat_must_name_the_agencys_ncb() -> None:
    members, _, pp = scoped_network()
    gs = by_code(members, "gs")
    with pytest.raises(InvalidField) as caught:
        set_agency_scope(gs, pp, DNA_AND_PERSONS, False)
    assert caught.value.field == "ncb"
    with pytest.raises(InvalidField) as caught:
        set_agency_scope(gs, pp, DNA_AND_PERSONS, False, ncb=by_code(members, "ncb-gb"))
    assert caught.value.field == "ncb"


def test_an_ncb_never_gives_a_register_it_lacks() -> None:
    members, _, pp = scoped_network()
    with pytest.raises(Forbidden, match="images"):
        set_agency_scope(
            by_code(members, "ncb-fr"), pp, DNA_AND_PERSONS | {RegisterName.IMAGES}, False
        )


@pytest.mark.parametrize("actor", ["ncb-fr", "gb-metropolitan-police"])
def test_only_the_agencys_ncb_sets_its_scope(actor: str) -> None:
    members, met, _ = scoped_network()
    with pytest.raises(Forbidden, match="ncb-gb"):
        set_agency_scope(by_code(members, actor), met, frozenset(), False)


def test_a_revoked_ncb_sets_no_scope() -> None:
    members, met, _ = scoped_network()
    revoked = replace(by_code(members, "ncb-gb"), status=MemberStatus.REVOKED)
    with pytest.raises(Forbidden):
        set_agency_scope(revoked, met, frozenset(), False)


@pytest.mark.parametrize("target", ["ncb-fr", "gs"])
def test_scope_is_set_only_on_agencies(target: str) -> None:
    members, _, _ = scoped_network()
    with pytest.raises(InvalidField) as caught:
        set_agency_scope(by_code(members, "gs"), by_code(members, target), frozenset(), False)
    assert caught.value.field == "member"


# --- the network stays consistent whatever is asked of it ----------------------------

kinds = st.sampled_from(list(MemberKind))
some_countries = st.sampled_from(["GB", "gb", "FR", "DE", "UK", None])
parents = st.sampled_from(["ncb-gb", "ncb-fr", "ncb-de", "gs", "gb-met", None])
names = st.sampled_from(["Met", "Met Police", "Border Force", "Police", "Полиция"])
chosen_codes = st.sampled_from([None, "gb-met", "fr-met", "ncb-gb", "gs"])
scopes = st.none() | st.frozensets(st.sampled_from(list(RegisterName)))


@given(
    st.lists(
        st.builds(
            Admission,
            kind=kinds,
            name=names,
            country=some_countries,
            parent=parents,
            registers=scopes,
            code=chosen_codes,
        ),
        max_size=25,
    )
)
def test_admissions_keep_the_network_consistent(requests: list[Admission]) -> None:
    members: list[Member] = []
    for request in requests:
        try:
            members.append(admit(request, members))
        except (InvalidField, NotFound, Conflict, Forbidden):
            continue
    codes = [m.code for m in members]
    assert len(codes) == len(set(codes))
    assert sum(m.kind is GS for m in members) <= 1
    ncb_countries = [m.country for m in members if m.kind is NCB]
    assert len(ncb_countries) == len(set(ncb_countries))
    by = {m.code: m for m in members}
    for m in members:
        if m.kind is AGENCY:
            ncb = by[m.parent or ""]
            assert ncb.kind is NCB
            assert ncb.country == m.country
            assert m.registers <= ncb.registers
            assert not m.code.startswith("ncb-")
            assert m.code != "gs"
        else:
            assert m.parent is None
        if m.kind is NCB:
            assert m.code == f"ncb-{(m.country or '').lower()}"


# --- countries ----------------------------------------------------------------------


@given(st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries)), st.booleans())
def test_every_assigned_country_is_accepted_in_either_case(alpha2: str, lower: bool) -> None:
    assert validate_country(alpha2.lower() if lower else alpha2) == alpha2
    assert country_name(alpha2)


def test_country_names_are_english_short_names() -> None:
    assert country_name("GB") == "United Kingdom"
    assert country_name("UK") is None


@pytest.mark.parametrize("value", ["UK", "XX", "ZZ", "GBR", "G", "", "  ", "1A", "Ü1", "ÄB"])
def test_unassigned_or_malformed_countries_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidField) as caught:
        validate_country(value, field="issuing_country")
    assert caught.value.field == "issuing_country"
    assert repr(value) in caught.value.reason


def test_country_codes_are_trimmed() -> None:
    assert validate_country(" fr\n") == "FR"


@given(st.text(max_size=4))
def test_validate_country_returns_an_assigned_code_or_refuses(value: str) -> None:
    try:
        code = validate_country(value)
    except InvalidField as e:
        assert e.field == "country"
        return
    assert code == value.strip().upper()
    assert pycountry.countries.get(alpha_2=code) is not None


# --- register lists -----------------------------------------------------------------


def test_all_means_every_register() -> None:
    assert parse_registers("all") == ALL_REGISTERS
    assert parse_registers("  all ") == ALL_REGISTERS


def test_an_empty_list_means_no_register() -> None:
    assert parse_registers("") == frozenset()
    assert parse_registers(" , ,") == frozenset()


def test_register_lists_are_parsed_with_spaces_and_repeats() -> None:
    assert parse_registers(" dna, persons ,dna") == {RegisterName.DNA, RegisterName.PERSONS}


@pytest.mark.parametrize("text", ["dna,passports", "DNA", "all,dna", "dna;persons"])
def test_an_unknown_register_is_named_in_the_error(text: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_registers(text, field="scope")
    assert caught.value.field == "scope"
    bad = next(
        p.strip() for p in text.split(",") if p.strip() not in {r.value for r in RegisterName}
    )
    assert repr(bad) in caught.value.reason
    assert "fingerprints" in caught.value.reason  # the known names are listed


@given(st.frozensets(st.sampled_from(list(RegisterName))))
def test_register_lists_round_trip(registers: frozenset[RegisterName]) -> None:
    text = format_registers(registers)
    assert parse_registers(text) == registers
    parts = text.split(",") if text else []
    assert parts == sorted(parts)
    assert len(parts) == len(registers)
