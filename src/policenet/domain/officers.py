"""Officers: the people who log in at a node, and the lockout rule.

Hashing and one-time passwords are in :mod:`policenet.security.passwords`;
this module only holds the account and the pure rules over it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from policenet.errors import InvalidField

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class Role(enum.StrEnum):
    OFFICER = "officer"
    """Runs enquiries."""
    OPERATOR = "operator"
    """An NCB operator: also works cases and sets agency scope."""
    ADMIN = "admin"
    """Manages the node's accounts and national-system tokens."""


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Officer:
    username: str
    display_name: str
    role: Role
    password_hash: str
    totp_secret: str
    created: datetime
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    last_totp_step: int | None = None
    """The RFC 6238 time step (Unix time // 30) of the last one-time code accepted;
    a code of this step or an earlier one is refused, so no code is accepted twice."""

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def validate_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise InvalidField(
            "username", f"{username!r} is not valid (2-64 characters: a-z, 0-9, '.', '_', '-')"
        )
    return username


def after_failed_login(officer: Officer, now: datetime, policy: LockoutPolicy) -> Officer:
    """Count one failed login; lock the account for ``policy.lock_for`` at the limit."""
    failures = officer.failed_logins + 1
    if failures >= policy.max_failures:
        return replace(officer, failed_logins=0, locked_until=now + policy.lock_for)
    return replace(officer, failed_logins=failures)


def after_successful_login(officer: Officer) -> Officer:
    return replace(officer, failed_logins=0, locked_until=None)
