"""The officer directory of a node: accounts, logins, sessions and national-system tokens.

:class:`OfficerDirectory` is the one service the node's web UI, API and CLI
use to authenticate people and programs. Its contracts:

- A login needs the username, the password and a current TOTP code. A wrong
  username, password or code gets one generic message, so a guesser cannot
  tell which was wrong, and an unknown username costs the same Argon2 time
  as a known one. A disabled or locked account says so plainly.
- ``LockoutPolicy.max_failures`` failed logins in a row (a wrong code counts)
  lock the account for ``LockoutPolicy.lock_for``; a successful login resets
  the count. A lock ends by itself; an admin may end it early (:meth:`unlock`).
- A TOTP code is accepted at most once per officer: the time step of the last
  accepted code is kept on the officer and only later steps match.
- Sessions end after ``idle_timeout`` without a request, after ``max_session``
  in all, at logout, and when the officer is disabled, gets a new password
  or a new second factor. Only the SHA-256 of a session token is stored; the
  token is shown once, at login. Each session has its own CSRF token.
- National systems authenticate with a bearer token issued by an admin; only
  its hash is stored and it is shown once, at issue.

Slow work (Argon2) runs outside units of work, so a login never holds a
transaction open while hashing; what it read is checked again before it
writes.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from policenet.domain.officers import (
    LockoutPolicy,
    Officer,
    Role,
    after_failed_login,
    after_successful_login,
    validate_username,
)
from policenet.errors import Conflict, Forbidden, InvalidField, NotFound, Unauthenticated
from policenet.security.passwords import (
    DEFAULT_ARGON2,
    MAX_PASSWORD_LENGTH,
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
    verify_password,
)
from policenet.store.ports import OfficerSession, Store, SystemToken

WRONG_CREDENTIALS = "wrong username, password or one-time code"
ACCOUNT_DISABLED = "account disabled"
_SESSION_UNKNOWN = "not logged in or session ended; log in again"
_SYSTEM_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_MAX_DISPLAY_NAME = 128


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """A fresh TOTP secret and the URI that puts it into an authenticator app. Shown once."""

    totp_secret: str
    provisioning_uri: str


@dataclass(frozen=True, slots=True)
class NewOfficer:
    officer: Officer
    totp_secret: str
    provisioning_uri: str


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A new session: ``session_token`` goes into the cookie, ``csrf_token`` into forms."""

    session_token: str
    csrf_token: str
    officer: Officer


@dataclass(frozen=True, slots=True)
class AuthenticatedOfficer:
    officer: Officer
    session: OfficerSession


def _span(period: timedelta) -> str:
    seconds = int(period.total_seconds())
    if seconds % 3600 == 0 and seconds >= 3600:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


_TOUCH_EVERY = timedelta(minutes=1)
"""A session's last use is written at most this often (see OfficerDirectory.authenticate)."""


class OfficerDirectory:
    """Officer accounts and authentication at one node, over the node's store.

    ``idle_timeout`` ends a session that made no request for that long (at
    exactly that long it has ended); ``max_session`` ends any session that
    long after login whatever its use. ``totp_window`` is the number of
    30-second steps of clock drift allowed either way. ``issuer`` names the
    node in authenticator apps.
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: LockoutPolicy | None = None,
        idle_timeout: timedelta = timedelta(minutes=30),
        max_session: timedelta = timedelta(hours=12),
        argon2: Argon2Params = DEFAULT_ARGON2,
        issuer: str = "policenet",
        totp_window: int = 1,
    ) -> None:
        if idle_timeout <= timedelta(0) or max_session <= timedelta(0):
            raise InvalidField("idle_timeout", "session limits must be positive")
        self._store = store
        self._policy = policy if policy is not None else LockoutPolicy()
        self._idle_timeout = idle_timeout
        self._max_session = max_session
        self._argon2 = argon2
        self._issuer = issuer
        self._totp_window = totp_window
        # Verified against when the username is unknown, so that answer takes as long.
        self._dummy_hash = hash_password(secrets.token_urlsafe(16), argon2)
        self._dummy_secret = new_totp_secret()

    # --- accounts -------------------------------------------------------------------

    def add_officer(
        self, username: str, display_name: str, role: Role | str, password: str, now: datetime
    ) -> NewOfficer:
        """Create an account; its second factor must be enrolled from the result (shown once).

        Raises InvalidField naming ``username``, ``display_name``, ``role`` or
        ``password``, and Conflict when the username is taken.
        """
        validate_username(username)
        name = _display_name(display_name)
        try:
            officer_role = Role(role)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise InvalidField("role", f"{role!r} is not one of {allowed}") from None
        check_password_policy(password, username=username)
        with self._store.unit_of_work() as uow:
            if uow.officers.get(username) is not None:
                raise Conflict(f"officer {username!r} exists")
        password_hash = hash_password(password, self._argon2)
        secret = new_totp_secret()
        officer = Officer(
            username=username,
            display_name=name,
            role=officer_role,
            password_hash=password_hash,
            totp_secret=secret,
            created=now,
        )
        with self._store.unit_of_work() as uow:
            if uow.officers.get(username) is not None:
                raise Conflict(f"officer {username!r} exists")
            uow.officers.add(officer)
        return NewOfficer(officer, secret, provisioning_uri(secret, username, self._issuer))

    def get_officer(self, username: str) -> Officer:
        """The account of ``username``; NotFound if there is none."""
        with self._store.unit_of_work() as uow:
            officer = uow.officers.get(username)
        if officer is None:
            raise NotFound(f"officer {username!r} is not known")
        return officer

    def list_officers(self) -> list[Officer]:
        """Every account, by username."""
        with self._store.unit_of_work() as uow:
            return uow.officers.list()

    def _change(
        self, username: str, change: Callable[[Officer], Officer], *, end_sessions: bool
    ) -> Officer:
        with self._store.unit_of_work() as uow:
            officer = uow.officers.get(username)
            if officer is None:
                raise NotFound(f"officer {username!r} is not known")
            changed = change(officer)
            uow.officers.update(changed)
            if end_sessions:
                uow.sessions.delete_for(username)
        return changed

    def disable(self, username: str) -> Officer:
        """Bar the account from logging in and end its sessions. NotFound if unknown."""
        return self._change(username, lambda o: replace(o, disabled=True), end_sessions=True)

    def enable(self, username: str) -> Officer:
        """Lift :meth:`disable`. A lockout, if any, still runs (see :meth:`unlock`)."""
        return self._change(username, lambda o: replace(o, disabled=False), end_sessions=False)

    def unlock(self, username: str) -> Officer:
        """End a lockout early and forget earlier failed logins."""
        return self._change(username, after_successful_login, end_sessions=False)

    def reset_second_factor(self, username: str) -> SecondFactor:
        """Give the officer a new TOTP secret (shown once) and end their sessions.

        For a lost or replaced phone: the old secret stops working at once.
        """
        secret = new_totp_secret()
        self._change(
            username,
            lambda o: replace(o, totp_secret=secret, last_totp_step=None),
            end_sessions=True,
        )
        return SecondFactor(secret, provisioning_uri(secret, username, self._issuer))

    def set_password(self, username: str, password: str) -> Officer:
        """Set a new password (policy-checked) and end the officer's sessions.

        Raises NotFound for an unknown officer and InvalidField("password", ...)
        for a password the policy refuses.
        """
        self.get_officer(username)
        check_password_policy(password, username=username)
        password_hash = hash_password(password, self._argon2)
        return self._change(
            username, lambda o: replace(o, password_hash=password_hash), end_sessions=True
        )

    # --- login and sessions ---------------------------------------------------------

    def _refuse_if_barred(self, officer: Officer, now: datetime) -> None:
        if officer.disabled:
            raise Unauthenticated(ACCOUNT_DISABLED)
        if officer.locked(now):
            assert officer.locked_until is not None
            until = officer.locked_until.astimezone(UTC)
            when = (
                f"{until:%H:%M}"
                if until.date() == now.astimezone(UTC).date()
                else f"{until:%Y-%m-%d %H:%M}"
            )
            limit = self._policy.max_failures
            raise Unauthenticated(
                f"account locked until {when} UTC after {limit} failed login{'s' * (limit != 1)}"
            )

    def login(self, username: str, password: str, otp: str, now: datetime) -> LoginResult:
        """Check the three credentials and open a session.

        Raises Unauthenticated with :data:`WRONG_CREDENTIALS` for a wrong
        username, password or code (counting a failure against a known
        account), with ``"account disabled"`` for a disabled account and with
        ``"account locked until HH:MM UTC after N failed logins"`` for a
        locked one, including on the failure that locks it. A password stored
        under older Argon2 parameters is re-hashed on success.
        """
        key = username.strip().lower()
        with self._store.unit_of_work() as uow:
            seen = uow.officers.get(key)
        # An over-long password cannot be right; checking "" keeps the time the same.
        candidate = password if len(password) <= MAX_PASSWORD_LENGTH else ""
        if seen is None:
            verify_password(self._dummy_hash, candidate)
            match_totp(self._dummy_secret, otp, now, window=self._totp_window)
            raise Unauthenticated(WRONG_CREDENTIALS)
        self._refuse_if_barred(seen, now)
        password_ok = verify_password(seen.password_hash, candidate)
        # Both factors are always checked, so the time taken does not tell which was wrong;
        # a right code with a wrong password is not used up.
        code_step = match_totp(
            seen.totp_secret, otp, now, window=self._totp_window, after_step=seen.last_totp_step
        )
        step = code_step if password_ok else None
        rehashed = (
            hash_password(candidate, self._argon2)
            if step is not None and needs_rehash(seen.password_hash, self._argon2)
            else None
        )
        session_token = new_token(SESSION_TOKEN_PREFIX)
        csrf_token = secrets.token_urlsafe(32)

        with self._store.unit_of_work() as uow:
            current = uow.officers.get(key)
            if current is None:
                barred: Officer | None = None
                failed: Officer | None = None
            elif current.disabled or current.locked(now):
                barred, failed = current, None
            elif (
                step is None
                or current.password_hash != seen.password_hash
                or current.totp_secret != seen.totp_secret
                or (current.last_totp_step is not None and step <= current.last_totp_step)
            ):
                # Wrong credentials, or they changed (or the code was used) while we hashed.
                barred, failed = None, after_failed_login(current, now, self._policy)
                uow.officers.update(failed)
            else:
                officer = replace(
                    after_successful_login(current),
                    last_totp_step=step,
                    password_hash=rehashed or current.password_hash,
                )
                uow.officers.update(officer)
                uow.sessions.add(
                    OfficerSession(token_hash(session_token), key, now, now, csrf_token)
                )
                return LoginResult(session_token, csrf_token, officer)
        # Raised after the unit of work so the counted failure is kept.
        if barred is not None:
            self._refuse_if_barred(barred, now)
        if failed is not None:
            self._refuse_if_barred(failed, now)
        raise Unauthenticated(WRONG_CREDENTIALS)

    def authenticate(self, session_token: str, now: datetime) -> AuthenticatedOfficer:
        """The officer of a live session, marking it used at ``now``.

        Raises Unauthenticated for an unknown token, a session idle for
        ``idle_timeout`` or more or older than ``max_session`` (either is
        deleted), or a session whose officer is now disabled.

        The mark is written only when the stored one is older than a minute (or
        a thirtieth of ``idle_timeout``, if that is shorter), so that a busy
        national system's requests read the store without queueing to write it;
        a session may therefore end up to that much before ``idle_timeout``
        after its last request, never later.
        """
        digest = token_hash(session_token)
        with self._store.reading() as view:
            session = view.sessions.get(digest)
            officer = None if session is None else view.officers.get(session.username)
        problem = _SESSION_UNKNOWN
        if session is not None:
            if now - session.last_seen >= self._idle_timeout:
                problem = f"session expired after {_span(self._idle_timeout)} idle; log in again"
            elif now - session.created >= self._max_session:
                problem = f"session ended after {_span(self._max_session)}; log in again"
            elif officer is None:
                problem = _SESSION_UNKNOWN
            elif officer.disabled:
                problem = ACCOUNT_DISABLED
            else:
                if now - session.last_seen >= min(_TOUCH_EVERY, self._idle_timeout / 30):
                    with self._store.unit_of_work() as uow:
                        uow.sessions.touch(digest, now)
                    session = replace(session, last_seen=now)
                return AuthenticatedOfficer(officer, session)
            with self._store.unit_of_work() as uow:
                uow.sessions.delete(digest)
        raise Unauthenticated(problem)

    def logout(self, session_token: str) -> None:
        """End the session of ``session_token``; nothing happens for an unknown one."""
        with self._store.unit_of_work() as uow:
            uow.sessions.delete(token_hash(session_token))

    @staticmethod
    def check_csrf(session: OfficerSession, submitted: str | None) -> None:
        """Forbidden unless ``submitted`` is the session's CSRF token (constant-time compare)."""
        if not submitted or not hmac.compare_digest(
            session.csrf_token.encode("utf-8"), submitted.encode("utf-8", "surrogatepass")
        ):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")

    # --- national systems -----------------------------------------------------------

    def issue_system_token(self, name: str, now: datetime) -> str:
        """A new bearer token for the national system ``name``; returned once, only its hash kept.

        Raises InvalidField("name", ...) for a bad name and Conflict when a
        token of that name exists (revoked ones included: names are not reused,
        so the audit trail of a name stays unambiguous).
        """
        if not _SYSTEM_NAME.match(name):
            raise InvalidField(
                "name", f"{name!r} is not valid (2-64 characters: a-z, 0-9, '.', '_', '-')"
            )
        token = new_token(SYSTEM_TOKEN_PREFIX)
        with self._store.unit_of_work() as uow:
            if any(t.name == name for t in uow.system_tokens.list()):
                raise Conflict(f"a national-system token named {name!r} exists")
            uow.system_tokens.add(SystemToken(name, token_hash(token), now))
        return token

    def list_system_tokens(self) -> list[SystemToken]:
        """Every national-system token (hashes only), by name."""
        with self._store.unit_of_work() as uow:
            return uow.system_tokens.list()

    def revoke_system_token(self, name: str) -> None:
        """Revoke the token named ``name`` at once. NotFound if there is none."""
        with self._store.unit_of_work() as uow:
            uow.system_tokens.revoke(name)

    def authenticate_system(self, token: str) -> SystemToken:
        """The national system a bearer token belongs to; Unauthenticated if unknown or revoked."""
        with self._store.reading() as uow:
            found = uow.system_tokens.get(token_hash(token))
        if found is None:
            raise Unauthenticated("unknown national-system token")
        if found.revoked:
            raise Unauthenticated(f"national-system token {found.name!r} is revoked")
        return found


def _display_name(display_name: str) -> str:
    name = " ".join(display_name.split())
    if not name:
        raise InvalidField("display_name", "must not be empty")
    if len(name) > _MAX_DISPLAY_NAME:
        raise InvalidField("display_name", f"is longer than {_MAX_DISPLAY_NAME} characters")
    if not name.isprintable():
        raise InvalidField("display_name", "contains control characters")
    return name


__all__ = [
    "ACCOUNT_DISABLED",
    "WRONG_CREDENTIALS",
    "AuthenticatedOfficer",
    "LoginResult",
    "NewOfficer",
    "OfficerDirectory",
    "SecondFactor",
]
