"""Password hashing, the password policy, TOTP codes and tokens."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import InvalidField, InvalidInput
from policenet.security.passwords import (
    DEFAULT_ARGON2,
    SESSION_TOKEN_PREFIX,
    SYSTEM_TOKEN_PREFIX,
    Argon2Params,
    check_password_policy,
    hash_password,
    match_totp,
    needs_rehash,
    new_token,
    new_totp_secret,
    provisioning_uri,
    token_hash,
    totp_now,
    totp_step,
    verify_password,
    verify_totp,
)

FAST = Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1)
GOOD = "tea at the border post, 6am"

# RFC 6238 Appendix B: the ASCII seed "12345678901234567890" in base32; its
# 8-digit codes truncated to the 6 digits an authenticator app shows.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
]


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- hashing ------------------------------------------------------------------------


def test_hash_round_trip_and_names_argon2id_with_its_parameters() -> None:
    stored = hash_password(GOOD, FAST)
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(stored, GOOD)
    assert not verify_password(stored, GOOD + " ")


def test_default_parameters_are_rfc9106_second_recommendation() -> None:
    stored = hash_password(GOOD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, GOOD)
    assert not needs_rehash(stored, DEFAULT_ARGON2)


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password(GOOD, FAST) != hash_password(GOOD, FAST)


def test_verify_never_raises() -> None:
    stored = hash_password(GOOD, FAST)
    assert not verify_password("not a hash", GOOD)
    assert not verify_password("", GOOD)
    assert not verify_password(stored, "\ud800 lone surrogate")


def test_hash_refuses_text_that_is_not_unicode() -> None:
    with pytest.raises(InvalidField) as err:
        hash_password("abc\udfffdefghijkl", FAST)
    assert err.value.field == "password"


def test_needs_rehash_when_parameters_change() -> None:
    stored = hash_password(GOOD, FAST)
    assert not needs_rehash(stored, FAST)
    assert needs_rehash(stored, Argon2Params(time_cost=2, memory_cost_kib=8, parallelism=1))
    assert needs_rehash("garbage", FAST)


def test_passwords_are_compared_after_nfkc() -> None:
    # U+FB01 is the "fi" ligature some keyboards and phones produce.
    stored = hash_password("con\ufb01dential-report-77", FAST)
    assert verify_password(stored, "confidential-report-77")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_cost": 0}, "argon2.time_cost"),
        ({"parallelism": 0}, "argon2.parallelism"),
        ({"memory_cost_kib": 16, "parallelism": 4}, "argon2.memory_cost_kib"),
        ({"salt_len": 8}, "argon2"),
    ],
)
def test_argon2_params_refuse_weak_or_impossible_values(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidField) as err:
        Argon2Params(**kwargs)
    assert err.value.field == field


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_a_password_verifies_against_its_own_hash_and_no_other(mine: str, other: str) -> None:
    stored = hash_password(mine, FAST)
    assert verify_password(stored, mine)
    same = unicodedata.normalize("NFKC", mine) == unicodedata.normalize("NFKC", other)
    assert verify_password(stored, other) is same


# --- policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        GOOD,
        "correct-horse-battery",
        "Ünïcödé pässwörd ☕",
        "пароль-для-входа",
        "x" * 6 + "yzabcd" + "q" * 1012,
    ],
)
def test_policy_accepts_long_unusual_passwords(password: str) -> None:
    check_password_policy(password, username="jsmith")


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short-pw-1", "is 10 characters; use at least 12"),
        ("ab" * 513, "is 1026 characters; use at most 1024"),
        ("aaaaaaaaaaaaaaaa", "different"),
        ("abababababababab", "different"),
        ("Password1234", "most common"),
        ("P@ssw0rd1234", "most common"),
        ("qwertyuiopasdf", "run"),
        ("9876543210987", "run"),
        ("lmnopqrstuvwx", "run"),
        ("jsmith-the-constable", "username"),
        ("I am JSMITH at work", "username"),
        ("abc\ud800defghijklm", "Unicode"),
    ],
)
def test_policy_refuses_with_a_named_reason(password: str, says: str) -> None:
    with pytest.raises(InvalidField) as err:
        check_password_policy(password, username="jsmith")
    assert err.value.field == "password"
    assert says in err.value.reason


def test_policy_counts_characters_not_bytes() -> None:
    # 12 characters, 24 bytes in UTF-8: long enough.
    check_password_policy("жёлтый-домик")
    with pytest.raises(InvalidField):
        check_password_policy("жёлтый-доми")


def test_short_usernames_are_not_searched_for() -> None:
    check_password_policy("a jo and a bo walk in", username="jo")


@given(st.text(max_size=11).filter(lambda p: len(unicodedata.normalize("NFKC", p)) < 12))
def test_policy_refuses_anything_under_twelve_characters(password: str) -> None:
    with pytest.raises(InvalidField):
        check_password_policy(password)


# --- TOTP ---------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "code"), RFC_VECTORS)
def test_totp_matches_rfc6238_vectors(seconds: int, code: str) -> None:
    assert totp_now(RFC_SECRET, at(seconds)) == code
    assert verify_totp(RFC_SECRET, code, at(seconds))


def test_totp_window_allows_one_step_of_drift_each_way() -> None:
    now = at(1234567890)
    code = totp_now(RFC_SECRET, now)
    assert verify_totp(RFC_SECRET, code, now + timedelta(seconds=30))
    assert verify_totp(RFC_SECRET, code, now - timedelta(seconds=30))
    assert not verify_totp(RFC_SECRET, code, now + timedelta(seconds=60))
    assert not verify_totp(RFC_SECRET, code, now - timedelta(seconds=60))
    assert not verify_totp(RFC_SECRET, code, now + timedelta(seconds=30), window=0)


@pytest.mark.parametrize("code", ["", "00592", "0059244", "abcdef", "00592a", "٠٠٥٩٢٤"])
def test_totp_refuses_anything_but_six_ascii_digits(code: str) -> None:
    assert not verify_totp(RFC_SECRET, code, at(1234567890))


def test_totp_ignores_spaces_in_the_code() -> None:
    assert verify_totp(RFC_SECRET, "005 924", at(1234567890))


def test_match_returns_the_step_and_refuses_a_replay() -> None:
    now = at(1234567890)
    step = match_totp(RFC_SECRET, "005924", now)
    assert step == totp_step(now) == 1234567890 // 30
    assert match_totp(RFC_SECRET, "005924", now, after_step=step) is None
    # A code of an earlier step in the window is refused once a later one was accepted.
    earlier = totp_now(RFC_SECRET, now - timedelta(seconds=30))
    assert match_totp(RFC_SECRET, earlier, now, after_step=step) is None
    later = totp_now(RFC_SECRET, now + timedelta(seconds=30))
    assert match_totp(RFC_SECRET, later, now + timedelta(seconds=30), after_step=step) == step + 1


def test_totp_needs_an_aware_time() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        totp_now(RFC_SECRET, datetime(2025, 1, 1, 12, 0))


def test_new_secrets_are_160_bit_base32_and_work() -> None:
    secrets = {new_totp_secret() for _ in range(20)}
    assert len(secrets) == 20
    now = at(1_700_000_000)
    for secret in secrets:
        assert len(secret) == 32
        assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        assert verify_totp(secret, totp_now(secret, now), now)


def test_provisioning_uri_names_the_node_and_the_officer() -> None:
    uri = provisioning_uri(RFC_SECRET, "jsmith", "NCB London")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/NCB London:jsmith"
    query = parse_qs(parts.query)
    assert query["secret"] == [RFC_SECRET]
    assert query["issuer"] == ["NCB London"]


# --- tokens -------------------------------------------------------------------------


def test_tokens_carry_their_prefix_and_256_random_bits() -> None:
    tokens = {new_token(SESSION_TOKEN_PREFIX) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert token.startswith("pn_s_")
        assert len(token) == len("pn_s_") + 43
    assert new_token(SYSTEM_TOKEN_PREFIX).startswith("pn_n_")


def test_token_hash_is_sha256_hex() -> None:
    # FIPS 180-2 test vector for "abc".
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token_hash("\udc80") == hashlib.sha256(b"\xed\xb2\x80").hexdigest()
