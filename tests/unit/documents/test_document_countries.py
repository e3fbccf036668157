"""ICAO 9303 issuing-state codes and the countries that own them."""

from __future__ import annotations

import pycountry
import pytest

from policenet.errors import InvalidField
from policenet.registers.documents.countries import (
    ICAO_SPECIAL_CODES,
    is_issuing_state,
    owning_country,
    validate_issuing_state,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("D<<", "D"),
        ("D", "D"),
        ("DEU", "D"),
        ("deu", "D"),
        (" gbr ", "GBR"),
        ("UTO", "UTO"),
        ("XXA", "XXA"),
        ("EUE", "EUE"),
        ("GBN", "GBN"),
        ("RKS", "RKS"),
    ],
)
def test_codes_are_returned_as_the_register_keys_on_them(given: str, expected: str) -> None:
    assert validate_issuing_state(given) == expected


def test_every_iso_alpha3_code_is_an_issuing_state() -> None:
    for country in pycountry.countries:
        code = str(country.alpha_3)
        assert validate_issuing_state(code) == ("D" if code == "DEU" else code)


@pytest.mark.parametrize("code", ["ZZZ", "ZIM", "GB", "UK", "DDR", "", "<<<", "U1O", "ABCD", "D<X"])
def test_unknown_codes_are_refused_naming_field_and_value(code: str) -> None:
    with pytest.raises(InvalidField) as caught:
        validate_issuing_state(code, field="nationality")
    assert caught.value.field == "nationality"
    assert repr(code) in caught.value.reason


def test_default_field_name() -> None:
    with pytest.raises(InvalidField) as caught:
        validate_issuing_state("ZZZ")
    assert caught.value.field == "country"


def test_special_codes_do_not_clash_with_iso_codes() -> None:
    iso = {str(c.alpha_3) for c in pycountry.countries}
    assert not iso & set(ICAO_SPECIAL_CODES)
    assert all(is_issuing_state(code) for code in ICAO_SPECIAL_CODES)


@pytest.mark.parametrize(
    ("code", "owner"),
    [
        ("D", "DE"),
        ("D<<", "DE"),
        ("DEU", "DE"),
        ("GBR", "GB"),
        ("GBD", "GB"),
        ("GBN", "GB"),
        ("GBO", "GB"),
        ("GBP", "GB"),
        ("GBS", "GB"),
        ("FRA", "FR"),
        ("usa", "US"),
        ("UTO", None),
        ("XPO", None),
        ("EUE", None),
        ("XXA", None),
        ("RKS", None),
        ("ZZZ", None),
    ],
)
def test_owning_country(code: str, owner: str | None) -> None:
    assert owning_country(code) == owner


def test_every_owner_is_an_assigned_alpha2_code() -> None:
    for code in [*ICAO_SPECIAL_CODES, *(str(c.alpha_3) for c in pycountry.countries)]:
        owner = owning_country(code)
        if owner is not None:
            assert pycountry.countries.get(alpha_2=owner) is not None, code
