"""The record envelope: times, lifetime, caveats and restriction lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.envelope import MAX_CAVEATS_CHARS, Envelope, Mode, Restrictions
from policenet.errors import InvalidField

CREATED = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
TIME_FIELDS = ("created", "expires", "review_due")


def envelope(**changes: object) -> Envelope:
    fields: dict[str, object] = {
        "owner": "ncb-gb",
        "created": CREATED,
        "expires": CREATED + timedelta(days=365),
        "review_due": CREATED + timedelta(days=180),
    }
    fields.update(changes)
    return Envelope(**fields)


def test_a_valid_envelope_keeps_what_it_was_given() -> None:
    e = envelope(mode=Mode.REFERENCE_ONLY, caveats="Do not act without contacting NCB London")
    assert e.owner == "ncb-gb"
    assert e.mode is Mode.REFERENCE_ONLY
    assert e.restrictions.open_to_all


@pytest.mark.parametrize("name", TIME_FIELDS)
def test_a_naive_time_is_refused_naming_the_field(name: str) -> None:
    naive = (CREATED + timedelta(days=1)).replace(tzinfo=None)
    with pytest.raises(InvalidField) as caught:
        envelope(**{name: naive})
    assert caught.value.field == name
    assert "UTC" in caught.value.reason


@pytest.mark.parametrize("name", TIME_FIELDS)
@pytest.mark.parametrize("hours", [-5, 1, 2, 14])
def test_a_time_in_another_zone_is_refused_naming_the_field(name: str, hours: int) -> None:
    # The same instant, written with another offset: still refused, so that
    # every stored time reads the same.
    later = (CREATED + timedelta(days=1)).astimezone(timezone(timedelta(hours=hours)))
    with pytest.raises(InvalidField) as caught:
        envelope(**{name: later})
    assert caught.value.field == name


def test_a_zero_offset_zone_counts_as_utc() -> None:
    gmt = timezone(timedelta(0), "GMT")
    e = envelope(created=CREATED.astimezone(gmt))
    assert e.created == CREATED


def test_expiry_before_creation_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        envelope(expires=CREATED - timedelta(seconds=1))
    assert caught.value.field == "expires"


def test_expiry_at_creation_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        envelope(expires=CREATED)
    assert caught.value.field == "expires"


def test_a_record_may_never_expire() -> None:
    e = envelope(expires=None)
    assert not e.expired(datetime(9999, 12, 31, tzinfo=UTC))


def test_caveats_up_to_the_limit_are_kept() -> None:
    assert len(envelope(caveats="x" * MAX_CAVEATS_CHARS).caveats) == MAX_CAVEATS_CHARS


def test_caveats_over_the_limit_are_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        envelope(caveats="x" * (MAX_CAVEATS_CHARS + 1))
    assert caught.value.field == "caveats"
    assert str(MAX_CAVEATS_CHARS) in caught.value.reason


def test_caveats_are_counted_in_characters_not_bytes() -> None:
    # 2,000 Greek letters are 4,000 bytes of UTF-8 but within the limit.
    assert envelope(caveats="Ω" * MAX_CAVEATS_CHARS).caveats.startswith("Ω")


def test_expired_boundary() -> None:
    expires = CREATED + timedelta(days=1)
    e = envelope(expires=expires)
    assert not e.expired(expires - timedelta(microseconds=1))
    assert e.expired(expires)
    assert e.expired(expires + timedelta(microseconds=1))


@given(
    st.timedeltas(timedelta(microseconds=1), timedelta(days=10_000)),
    st.timedeltas(-timedelta(days=10_000), timedelta(days=10_000)),
)
def test_expired_is_now_at_or_after_expiry(lifetime: timedelta, offset: timedelta) -> None:
    e = envelope(expires=CREATED + lifetime)
    now = CREATED + lifetime + offset
    assert e.expired(now) is (offset >= timedelta(0))


# --- restrictions -------------------------------------------------------------------


def test_open_to_all_only_without_allow_lists() -> None:
    assert Restrictions().open_to_all
    assert Restrictions(deny_members=frozenset({"ncb-fr"})).open_to_all
    assert Restrictions(deny_countries=frozenset({"FR"})).open_to_all
    assert not Restrictions(allow_members=frozenset({"ncb-fr"})).open_to_all
    assert not Restrictions(allow_countries=frozenset({"FR"})).open_to_all


@pytest.mark.parametrize("name", ["allow_countries", "deny_countries"])
def test_restriction_countries_are_kept_upper_case(name: str) -> None:
    r = Restrictions(**{name: frozenset({"gb", " fr ", "DE"})})
    assert getattr(r, name) == frozenset({"GB", "FR", "DE"})


@pytest.mark.parametrize("name", ["allow_countries", "deny_countries"])
@pytest.mark.parametrize("country", ["UK", "XX", "GBR", "", "1A"])
def test_restriction_countries_must_be_iso_codes(name: str, country: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Restrictions(**{name: frozenset({country})})
    assert caught.value.field == name
    assert repr(country) in caught.value.reason


@pytest.mark.parametrize("name", ["allow_members", "deny_members"])
@pytest.mark.parametrize("code", ["NCB-GB", "ncb_gb", "x", "", "ncb-gb\n", "-gb"])
def test_restriction_members_must_be_member_codes(name: str, code: str) -> None:
    with pytest.raises(InvalidField) as caught:
        Restrictions(**{name: frozenset({code})})
    assert caught.value.field == name
    assert repr(code) in caught.value.reason


def test_restriction_members_are_kept() -> None:
    r = Restrictions(allow_members=frozenset({"ncb-gb", "gb-met"}), deny_members=frozenset({"gs"}))
    assert r.allow_members == {"ncb-gb", "gb-met"}
    assert r.deny_members == {"gs"}
