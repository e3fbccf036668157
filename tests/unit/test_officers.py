"""The officer directory of a node: accounts, login, lockout, sessions, national-system tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.domain.officers import LockoutPolicy, Role
from policenet.errors import Conflict, Forbidden, InvalidField, NotFound, Unauthenticated
from policenet.node import officers as officers_module
from policenet.node.officers import (
    ACCOUNT_DISABLED,
    WRONG_CREDENTIALS,
    LoginResult,
    NewOfficer,
    OfficerDirectory,
)
from policenet.security.passwords import (
    Argon2Params,
    needs_rehash,
    token_hash,
    totp_now,
    verify_password,
)
from policenet.store.memory import MemoryStore

FAST = Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1)
T0 = datetime(2025, 3, 4, 9, 0, 5, tzinfo=UTC)
PASSWORD = "tea at the border post, 6am"


def make_directory(
    store: MemoryStore | None = None,
    *,
    policy: LockoutPolicy | None = None,
    idle_timeout: timedelta = timedelta(minutes=30),
) -> OfficerDirectory:
    return OfficerDirectory(
        store if store is not None else MemoryStore(),
        policy=policy,
        idle_timeout=idle_timeout,
        argon2=FAST,
        issuer="NCB London",
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def directory(store: MemoryStore) -> OfficerDirectory:
    return make_directory(store)


@pytest.fixture
def smith(directory: OfficerDirectory) -> NewOfficer:
    return directory.add_officer("jsmith", "PC Jane Smith", Role.OFFICER, PASSWORD, T0)


def log_in(
    directory: OfficerDirectory, who: NewOfficer, now: datetime, password: str = PASSWORD
) -> LoginResult:
    return directory.login(who.officer.username, password, totp_now(who.totp_secret, now), now)


def stored_text(store: MemoryStore) -> str:
    with store.unit_of_work() as uow:
        return repr(uow.state)


def login_error(
    directory: OfficerDirectory, username: str, password: str, otp: str, now: datetime
) -> str:
    with pytest.raises(Unauthenticated) as err:
        directory.login(username, password, otp, now)
    return err.value.message


# --- accounts -----------------------------------------------------------------------


def test_add_officer_stores_an_argon2id_hash_and_returns_the_second_factor_once(
    store: MemoryStore, smith: NewOfficer
) -> None:
    assert smith.officer.password_hash.startswith("$argon2id$")
    assert smith.officer.role is Role.OFFICER
    assert smith.officer.created == T0
    assert f"secret={smith.totp_secret}" in smith.provisioning_uri
    assert smith.provisioning_uri.startswith("otpauth://totp/NCB%20London:jsmith?")
    assert PASSWORD not in stored_text(store)


def test_add_officer_refuses_a_taken_username(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    with pytest.raises(Conflict, match="jsmith"):
        directory.add_officer("jsmith", "Someone Else", Role.ADMIN, "another long password", T0)


@pytest.mark.parametrize(
    ("username", "display_name", "role", "password", "field"),
    [
        ("J Smith", "PC Jane Smith", "officer", PASSWORD, "username"),
        ("jsmith", "   ", "officer", PASSWORD, "display_name"),
        ("jsmith", "PC\x00Smith", "officer", PASSWORD, "display_name"),
        ("jsmith", "PC Jane Smith", "chief", PASSWORD, "role"),
        ("jsmith", "PC Jane Smith", "officer", "too short", "password"),
        ("jsmith", "PC Jane Smith", "officer", "jsmith's password", "password"),
    ],
)
def test_add_officer_names_the_bad_field(
    directory: OfficerDirectory,
    username: str,
    display_name: str,
    role: str,
    password: str,
    field: str,
) -> None:
    with pytest.raises(InvalidField) as err:
        directory.add_officer(username, display_name, role, password, T0)
    assert err.value.field == field
    assert directory.list_officers() == []


def test_role_may_be_given_as_text(directory: OfficerDirectory) -> None:
    added = directory.add_officer("ops1", "Duty Operator", "operator", PASSWORD, T0)
    assert added.officer.role is Role.OPERATOR


def test_list_and_get(directory: OfficerDirectory, smith: NewOfficer) -> None:
    directory.add_officer("ajones", "Sgt A Jones", Role.ADMIN, PASSWORD, T0)
    assert [o.username for o in directory.list_officers()] == ["ajones", "jsmith"]
    assert directory.get_officer("jsmith").display_name == "PC Jane Smith"
    with pytest.raises(NotFound, match="nobody"):
        directory.get_officer("nobody")


@pytest.mark.parametrize("method", ["disable", "enable", "unlock", "reset_second_factor"])
def test_account_changes_to_an_unknown_officer_are_not_found(
    directory: OfficerDirectory, method: str
) -> None:
    with pytest.raises(NotFound, match="ghost"):
        getattr(directory, method)("ghost")


# --- login --------------------------------------------------------------------------


def test_login_opens_a_session_stored_by_hash_only(
    store: MemoryStore, directory: OfficerDirectory, smith: NewOfficer
) -> None:
    result = log_in(directory, smith, T0)
    assert result.session_token.startswith("pn_s_")
    assert result.officer.username == "jsmith"
    assert result.csrf_token
    with store.unit_of_work() as uow:
        session = uow.sessions.get(token_hash(result.session_token))
        assert uow.sessions.get(result.session_token) is None
    assert session is not None
    assert (session.username, session.created, session.last_seen) == ("jsmith", T0, T0)
    assert session.csrf_token == result.csrf_token
    assert result.session_token not in stored_text(store)


def test_username_is_matched_without_case_or_surrounding_space(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    result = directory.login(" JSmith ", PASSWORD, totp_now(smith.totp_secret, T0), T0)
    assert result.officer.username == "jsmith"


def test_wrong_username_password_and_code_get_one_message(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    code = totp_now(smith.totp_secret, T0)
    messages = {
        login_error(directory, "nobody", PASSWORD, code, T0),
        login_error(directory, "jsmith", PASSWORD + "!", code, T0),
        login_error(directory, "jsmith", PASSWORD, "000000" if code != "000000" else "111111", T0),
        login_error(directory, "jsmith", "x" * 5000, code, T0),
    }
    assert messages == {WRONG_CREDENTIALS}


def test_unknown_username_still_costs_a_password_check(
    monkeypatch: pytest.MonkeyPatch, directory: OfficerDirectory
) -> None:
    checked: list[str] = []

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(officers_module, "verify_password", spy)
    login_error(directory, "nobody", PASSWORD, "123456", T0)
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_lockout_at_the_fifth_failure_and_release_after_ten_minutes(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    code = totp_now(smith.totp_secret, T0)
    for _ in range(4):
        assert login_error(directory, "jsmith", "wrong password!", code, T0) == WRONG_CREDENTIALS
    locked = "account locked until 09:10 UTC after 5 failed logins"
    assert login_error(directory, "jsmith", "wrong password!", code, T0) == locked
    # Even the right credentials are refused while locked, and do not reveal they were right.
    later = T0 + timedelta(minutes=9, seconds=54)
    assert (
        login_error(directory, "jsmith", PASSWORD, totp_now(smith.totp_secret, later), later)
        == locked
    )
    released = T0 + timedelta(minutes=10)
    assert log_in(directory, smith, released).officer.failed_logins == 0


def test_a_wrong_code_counts_as_a_failure(directory: OfficerDirectory, smith: NewOfficer) -> None:
    wrong = "000000" if totp_now(smith.totp_secret, T0) != "000000" else "111111"
    for _ in range(4):
        login_error(directory, "jsmith", PASSWORD, wrong, T0)
    assert directory.get_officer("jsmith").failed_logins == 4
    assert "account locked" in login_error(directory, "jsmith", PASSWORD, wrong, T0)


def test_a_correct_login_resets_the_count(directory: OfficerDirectory, smith: NewOfficer) -> None:
    code = totp_now(smith.totp_secret, T0)
    for _ in range(4):
        login_error(directory, "jsmith", "wrong password!", code, T0)
    log_in(directory, smith, T0)
    later = T0 + timedelta(minutes=1)
    for _ in range(4):
        assert login_error(directory, "jsmith", "wrong password!", code, later) == WRONG_CREDENTIALS
    assert log_in(directory, smith, later + timedelta(minutes=1)).officer.username == "jsmith"


def test_unlock_ends_a_lock_early(directory: OfficerDirectory, smith: NewOfficer) -> None:
    for _ in range(5):
        login_error(directory, "jsmith", "wrong password!", "123456", T0)
    assert directory.get_officer("jsmith").locked(T0)
    directory.unlock("jsmith")
    assert log_in(directory, smith, T0).officer.username == "jsmith"


def test_lock_message_carries_the_date_when_it_ends_another_day() -> None:
    directory = make_directory(policy=LockoutPolicy(max_failures=1, lock_for=timedelta(hours=20)))
    directory.add_officer("jsmith", "PC Jane Smith", Role.OFFICER, PASSWORD, T0)
    message = login_error(directory, "jsmith", "wrong password!", "123456", T0)
    assert message == "account locked until 2025-03-05 05:00 UTC after 1 failed login"


@settings(max_examples=15, deadline=None)
@given(limit=st.integers(min_value=1, max_value=6), attempts=st.integers(min_value=1, max_value=8))
def test_the_account_locks_exactly_at_the_policy_limit(limit: int, attempts: int) -> None:
    directory = make_directory(policy=LockoutPolicy(max_failures=limit))
    directory.add_officer("jsmith", "PC Jane Smith", Role.OFFICER, PASSWORD, T0)
    messages = [
        login_error(directory, "jsmith", "wrong password!", "123456", T0) for _ in range(attempts)
    ]
    first_locked = next((i for i, m in enumerate(messages) if m != WRONG_CREDENTIALS), None)
    assert first_locked == (limit - 1 if attempts >= limit else None)
    assert all(m.startswith("account locked until 09:10 UTC") for m in messages[limit - 1 :])


def test_a_code_is_accepted_only_once(directory: OfficerDirectory, smith: NewOfficer) -> None:
    code = totp_now(smith.totp_secret, T0)
    first = directory.login("jsmith", PASSWORD, code, T0)
    directory.logout(first.session_token)
    again = T0 + timedelta(seconds=10)
    assert login_error(directory, "jsmith", PASSWORD, code, again) == WRONG_CREDENTIALS
    # The code of the next step is new and works.
    assert log_in(directory, smith, T0 + timedelta(seconds=30)).officer.username == "jsmith"
    # A code from before the last accepted one stays refused, though still in the drift window.
    assert login_error(directory, "jsmith", PASSWORD, code, T0 + timedelta(seconds=40)) == (
        WRONG_CREDENTIALS
    )


def test_a_right_code_with_a_wrong_password_is_not_used_up(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    code = totp_now(smith.totp_secret, T0)
    login_error(directory, "jsmith", "wrong password!", code, T0)
    assert directory.login("jsmith", PASSWORD, code, T0).officer.username == "jsmith"


def test_disabled_account_says_so_and_loses_its_sessions(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    session = log_in(directory, smith, T0)
    directory.disable("jsmith")
    with pytest.raises(Unauthenticated):
        directory.authenticate(session.session_token, T0)
    later = T0 + timedelta(seconds=30)
    assert (
        login_error(directory, "jsmith", PASSWORD, totp_now(smith.totp_secret, later), later)
        == ACCOUNT_DISABLED
    )
    directory.enable("jsmith")
    assert log_in(directory, smith, later).officer.disabled is False


def test_a_password_stored_under_old_parameters_is_rehashed_at_login(store: MemoryStore) -> None:
    old = make_directory(store)
    smith = old.add_officer("jsmith", "PC Jane Smith", Role.OFFICER, PASSWORD, T0)
    stronger = Argon2Params(time_cost=2, memory_cost_kib=16, parallelism=1)
    new = OfficerDirectory(store, argon2=stronger)
    assert needs_rehash(new.get_officer("jsmith").password_hash, stronger)
    log_in(new, smith, T0)
    assert not needs_rehash(new.get_officer("jsmith").password_hash, stronger)
    assert log_in(new, smith, T0 + timedelta(seconds=30)).officer.username == "jsmith"


# --- password and second-factor changes ---------------------------------------------


def test_set_password_checks_policy_replaces_the_old_one_and_ends_sessions(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    session = log_in(directory, smith, T0)
    with pytest.raises(InvalidField) as err:
        directory.set_password("jsmith", "password1234")
    assert err.value.field == "password"
    directory.set_password("jsmith", "a brand new passphrase")
    with pytest.raises(Unauthenticated):
        directory.authenticate(session.session_token, T0)
    later = T0 + timedelta(seconds=30)
    assert (
        login_error(directory, "jsmith", PASSWORD, totp_now(smith.totp_secret, later), later)
        == WRONG_CREDENTIALS
    )
    later = later + timedelta(seconds=30)
    assert log_in(directory, smith, later, "a brand new passphrase").officer.username == "jsmith"
    with pytest.raises(NotFound):
        directory.set_password("ghost", "a brand new passphrase")


def test_reset_second_factor_retires_the_old_secret(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    session = log_in(directory, smith, T0)
    fresh = directory.reset_second_factor("jsmith")
    assert fresh.totp_secret != smith.totp_secret
    assert f"secret={fresh.totp_secret}" in fresh.provisioning_uri
    with pytest.raises(Unauthenticated):
        directory.authenticate(session.session_token, T0)
    later = T0 + timedelta(seconds=30)
    assert (
        login_error(directory, "jsmith", PASSWORD, totp_now(smith.totp_secret, later), later)
        == WRONG_CREDENTIALS
    )
    result = directory.login("jsmith", PASSWORD, totp_now(fresh.totp_secret, later), later)
    assert result.officer.username == "jsmith"


# --- sessions -----------------------------------------------------------------------


def test_a_sessions_use_is_written_at_most_once_a_minute(
    store: MemoryStore, directory: OfficerDirectory, smith: NewOfficer
) -> None:
    token = log_in(directory, smith, T0).session_token

    def stored_last_seen() -> datetime:
        with store.reading() as view:
            session = view.sessions.get(token_hash(token))
        assert session is not None
        return session.last_seen

    directory.authenticate(token, T0 + timedelta(seconds=59))
    assert stored_last_seen() == T0
    directory.authenticate(token, T0 + timedelta(seconds=60))
    assert stored_last_seen() == T0 + timedelta(seconds=60)
    # at most a minute early: idle from the last write, not the last request
    with pytest.raises(Unauthenticated, match="idle"):
        directory.authenticate(token, T0 + timedelta(seconds=60, minutes=30))


def test_idle_timeout_29_minutes_ok_31_expired(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    token = log_in(directory, smith, T0).session_token
    seen = directory.authenticate(token, T0 + timedelta(minutes=29))
    assert seen.officer.username == "jsmith"
    assert seen.session.last_seen == T0 + timedelta(minutes=29)
    # Use moves the idle clock on: 29 + 29 minutes after login is still fine.
    directory.authenticate(token, T0 + timedelta(minutes=58))
    with pytest.raises(Unauthenticated) as err:
        directory.authenticate(token, T0 + timedelta(minutes=58 + 31))
    assert err.value.message == "session expired after 30 minutes idle; log in again"
    # The expired session is gone, not merely refused.
    with pytest.raises(Unauthenticated) as err:
        directory.authenticate(token, T0 + timedelta(minutes=58 + 32))
    assert "idle" not in err.value.message


def test_idle_timeout_is_reached_at_exactly_its_length(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    token = log_in(directory, smith, T0).session_token
    with pytest.raises(Unauthenticated, match="idle"):
        directory.authenticate(token, T0 + timedelta(minutes=30))


def test_idle_timeout_is_configurable() -> None:
    directory = make_directory(idle_timeout=timedelta(minutes=5))
    smith = directory.add_officer("jsmith", "PC Jane Smith", Role.OFFICER, PASSWORD, T0)
    token = log_in(directory, smith, T0).session_token
    with pytest.raises(Unauthenticated, match="after 5 minutes idle"):
        directory.authenticate(token, T0 + timedelta(minutes=6))


def test_a_session_ends_after_its_maximum_length_however_busy(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    token = log_in(directory, smith, T0).session_token
    now = T0
    while now < T0 + timedelta(hours=11, minutes=40):
        now += timedelta(minutes=20)
        directory.authenticate(token, now)
    with pytest.raises(Unauthenticated, match="session ended after 12 hours"):
        directory.authenticate(token, T0 + timedelta(hours=12))


def test_unknown_token_is_unauthenticated(directory: OfficerDirectory) -> None:
    with pytest.raises(Unauthenticated, match="log in"):
        directory.authenticate("pn_s_made-up", T0)


def test_logout_ends_the_session_and_tolerates_unknown_tokens(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    mine = log_in(directory, smith, T0)
    other = log_in(directory, smith, T0 + timedelta(seconds=30))
    directory.logout(mine.session_token)
    with pytest.raises(Unauthenticated):
        directory.authenticate(mine.session_token, T0 + timedelta(minutes=1))
    assert directory.authenticate(other.session_token, T0 + timedelta(minutes=1)).officer
    directory.logout(mine.session_token)
    directory.logout("pn_s_never-issued")


def test_csrf_token_must_match_its_session(directory: OfficerDirectory, smith: NewOfficer) -> None:
    mine = log_in(directory, smith, T0)
    other = log_in(directory, smith, T0 + timedelta(seconds=30))
    session = directory.authenticate(mine.session_token, T0 + timedelta(minutes=1)).session
    directory.check_csrf(session, mine.csrf_token)
    assert mine.csrf_token != other.csrf_token
    for wrong in [other.csrf_token, None, "", mine.csrf_token[:-1], "ünïcode", "\udc80"]:
        with pytest.raises(Forbidden, match="CSRF"):
            directory.check_csrf(session, wrong)


def test_directory_refuses_a_non_positive_idle_timeout() -> None:
    with pytest.raises(InvalidField):
        make_directory(idle_timeout=timedelta(0))


# --- national systems ---------------------------------------------------------------


def test_system_tokens_issue_authenticate_revoke(
    store: MemoryStore, directory: OfficerDirectory
) -> None:
    gates = directory.issue_system_token("border-gates", T0)
    afis = directory.issue_system_token("national-afis", T0)
    assert gates.startswith("pn_n_") and gates != afis
    assert directory.authenticate_system(gates).name == "border-gates"
    assert directory.authenticate_system(afis).name == "national-afis"
    assert [t.name for t in directory.list_system_tokens()] == ["border-gates", "national-afis"]
    assert gates not in stored_text(store) and afis not in stored_text(store)
    assert token_hash(gates) in stored_text(store)

    directory.revoke_system_token("border-gates")
    with pytest.raises(Unauthenticated, match="revoked"):
        directory.authenticate_system(gates)
    assert directory.authenticate_system(afis).name == "national-afis"
    assert [t.revoked for t in directory.list_system_tokens()] == [True, False]


def test_system_token_errors(directory: OfficerDirectory) -> None:
    directory.issue_system_token("border-gates", T0)
    with pytest.raises(Conflict, match="border-gates"):
        directory.issue_system_token("border-gates", T0)
    with pytest.raises(InvalidField) as err:
        directory.issue_system_token("Border Gates", T0)
    assert err.value.field == "name"
    with pytest.raises(NotFound, match="passport-office"):
        directory.revoke_system_token("passport-office")
    with pytest.raises(Unauthenticated, match="unknown"):
        directory.authenticate_system("pn_n_not-a-real-token")


def test_a_session_token_is_not_a_system_token(
    directory: OfficerDirectory, smith: NewOfficer
) -> None:
    session = log_in(directory, smith, T0)
    with pytest.raises(Unauthenticated):
        directory.authenticate_system(session.session_token)
