"""Officer credentials: Argon2id password hashes, the password policy, TOTP codes, tokens.

Passwords
    Hashed with Argon2id (argon2-cffi). :data:`DEFAULT_ARGON2` is the second
    recommended option of RFC 9106 section 4 ("if much less memory is
    available"), which also meets OWASP's Password Storage Cheat Sheet:
    ``time_cost=3``, ``memory_cost=64 MiB``, ``parallelism=4``, a 128-bit salt
    and a 256-bit tag. About 50-100 ms of one core per hash on a current server.
    Tests pass smaller :class:`Argon2Params` to stay fast; :func:`needs_rehash`
    tells a login to re-hash a password stored under other parameters.
    Passwords are normalised to Unicode NFKC before hashing and checking
    (NIST SP 800-63B, 3.1.1.2), so the same password typed on two keyboards
    that compose characters differently still verifies.

Password policy
    NIST SP 800-63B-like (:func:`check_password_policy`): a length from 12 to
    1024 characters, not one of the most common passwords, not a keyboard or
    alphabet run, not a few characters repeated, not containing the username.
    No composition rules (no "one digit, one symbol").

Second factor
    TOTP (RFC 6238) as authenticator apps expect it: HMAC-SHA-1, 30-second
    steps, 6 digits, a 160-bit base32 secret (pyotp). :func:`match_totp`
    returns the time step a code belongs to, so a caller can refuse any code
    whose step is not later than the last one it accepted (RFC 6238 section
    5.2: a code must not be accepted twice).

Tokens
    Session and national-system tokens are 256 random bits (``secrets``) with a
    prefix that says what they are (``pn_s_`` sessions, ``pn_n_`` national
    systems), which makes a leaked token recognisable to secret scanners.
    Only :func:`token_hash` of a token is stored: plain SHA-256, because a
    token has far too much entropy to guess, so a slow hash would add cost
    and no protection (unlike a password).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from policenet.errors import InvalidField, InvalidInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_MIN_DISTINCT_CHARACTERS = 5

TOTP_DIGITS = 6
TOTP_INTERVAL_SECONDS = 30

# Prefixes, not secrets: they say what a token is.
SESSION_TOKEN_PREFIX = "pn_s_"  # noqa: S105
SYSTEM_TOKEN_PREFIX = "pn_n_"  # noqa: S105
_TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Argon2id cost parameters. ``memory_cost_kib`` is in KiB (65536 = 64 MiB)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16

    def __post_init__(self) -> None:
        if self.time_cost < 1:
            raise InvalidField("argon2.time_cost", "must be at least 1")
        if self.parallelism < 1:
            raise InvalidField("argon2.parallelism", "must be at least 1")
        if self.memory_cost_kib < 8 * self.parallelism:
            raise InvalidField("argon2.memory_cost_kib", "must be at least 8 KiB per lane")
        if self.hash_len < 16 or self.salt_len < 16:
            raise InvalidField("argon2", "hash and salt must be at least 16 bytes")


DEFAULT_ARGON2 = Argon2Params()


@functools.lru_cache(maxsize=8)
def _hasher(params: Argon2Params) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=Type.ID,
    )


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str, params: Argon2Params = DEFAULT_ARGON2) -> str:
    """The PHC string of an Argon2id hash of ``password`` (``$argon2id$v=19$m=...``).

    Each call draws a fresh salt, so two hashes of one password differ. Does
    not apply the policy: call :func:`check_password_policy` first. Raises
    InvalidField for a string that is not valid Unicode (a lone surrogate).
    """
    try:
        return _hasher(params).hash(_normalise(password))
    except UnicodeEncodeError:
        raise InvalidField("password", "is not valid Unicode text") from None


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``.

    Never raises: a wrong password, a password that is not valid Unicode and a
    stored hash that is not an Argon2 PHC string all give False (the last one
    means nobody can log in with that hash, which is the safe way to fail).
    """
    try:
        return _hasher(DEFAULT_ARGON2).verify(password_hash, _normalise(password))
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def needs_rehash(password_hash: str, params: Argon2Params = DEFAULT_ARGON2) -> bool:
    """True when the hash was made with other parameters than ``params`` (or is malformed)."""
    try:
        return _hasher(params).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# The most common passwords of 12 or more characters in public breach corpora
# (shorter ones already fail on length). A short list on purpose: it stops the
# first guesses of an online attack, which lockout then rate-limits.
_COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678910",
        "123456789123",
        "1234567891011",
        "123456123456",
        "111111111111",
        "000000000000",
        "123123123123",
        "147258369147",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "1qaz2wsx3edc4rfv",
        "zaq12wsxcde3",
        "qwertyuiopasdfghjkl",
        "qwerty123456",
        "qwerty1234567",
        "123456qwerty",
        "qwertyqwerty",
        "asdfghjkl123",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "password123!",
        "p@ssw0rd1234",
        "passw0rd1234",
        "administrator",
        "administrator1",
        "admin1234567",
        "welcome12345",
        "welcome123456",
        "iloveyou1234",
        "iloveyouiloveyou",
        "letmein12345",
        "changeme1234",
        "changemenow!",
        "football1234",
        "baseball1234",
        "superman1234",
        "sunshine1234",
        "princess1234",
        "starwars1234",
        "trustno1trustno1",
        "monkey123456",
        "dragon123456",
        "abcdefghijkl",
        "abcd12345678",
        "abc123456789",
        "qazwsxedcrfv",
        "mypassword123",
        "thisismypassword",
        "correcthorsebatterystaple",
        "correct horse battery staple",
        "policepolice",
        "police123456",
        "interpol1234",
    }
)

_RUNS = (
    "01234567890123456789",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise InvalidField("password", reason) unless ``password`` may be set.

    Rules (after NFKC normalisation, counted in characters, spaces allowed):
    12 to 1024 characters; valid Unicode; at least 5 different characters;
    not one of the most common passwords; not a run along the alphabet, the
    digits or a keyboard row (forwards or backwards); and, when ``username``
    (4 characters or more) is given, not containing it, ignoring case.
    """
    if not isinstance(password, str):
        raise InvalidField("password", "must be text")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidField("password", "is not valid Unicode text") from None
    text = _normalise(password)
    if len(text) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            "password", f"is {len(text)} characters; use at least {MIN_PASSWORD_LENGTH}"
        )
    if len(text) > MAX_PASSWORD_LENGTH:
        raise InvalidField(
            "password", f"is {len(text)} characters; use at most {MAX_PASSWORD_LENGTH}"
        )
    folded = text.casefold()
    if len(set(folded)) < _MIN_DISTINCT_CHARACTERS:
        raise InvalidField(
            "password",
            f"repeats too few characters; use at least {_MIN_DISTINCT_CHARACTERS} different ones",
        )
    if folded in _COMMON_PASSWORDS:
        raise InvalidField("password", "is one of the most common passwords; choose another")
    if any(folded in run or folded in run[::-1] for run in _RUNS):
        raise InvalidField("password", "is a run of keyboard or alphabet characters")
    if username is not None and len(username) >= 4 and username.casefold() in folded:
        raise InvalidField("password", "must not contain the username")


def _step(now: datetime) -> int:
    if now.tzinfo is None:
        raise InvalidInput("the time for a one-time code must be timezone-aware (UTC)")
    return int(now.timestamp()) // TOTP_INTERVAL_SECONDS


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL_SECONDS)


def new_totp_secret() -> str:
    """A fresh 160-bit TOTP secret in base32 (32 characters), as RFC 4226 recommends."""
    return pyotp.random_base32()


def totp_step(now: datetime) -> int:
    """The RFC 6238 time step of ``now``: Unix seconds // 30. ``now`` must be aware."""
    return _step(now)


def totp_now(secret: str, now: datetime) -> str:
    """The 6-digit code an authenticator app shows at ``now`` (for tests and the demo)."""
    return str(_totp(secret).generate_otp(_step(now)))


def match_totp(
    secret: str, code: str, now: datetime, *, window: int = 1, after_step: int | None = None
) -> int | None:
    """The time step whose code ``code`` is, or None.

    Steps from ``window`` before to ``window`` after the step of ``now`` are
    tried (``window=1`` allows 30 s of clock drift either way); steps not
    later than ``after_step`` are never matched, which is how a caller
    refuses a code it already accepted. Spaces in ``code`` are ignored
    ("123 456"); anything but 6 digits is refused.
    """
    if window < 0:
        raise InvalidField("window", "must not be negative")
    cleaned = code.replace(" ", "")
    if len(cleaned) != TOTP_DIGITS or not (cleaned.isascii() and cleaned.isdigit()):
        return None
    totp = _totp(secret)
    current = _step(now)
    found: int | None = None
    # Compare every candidate (no early exit) so the time taken does not say which matched.
    for step in range(current - window, current + window + 1):
        if after_step is not None and step <= after_step:
            continue
        expected = str(totp.generate_otp(step)).encode("ascii")
        if hmac.compare_digest(expected, cleaned.encode("ascii")) and found is None:
            found = step
    return found


def verify_totp(secret: str, code: str, now: datetime, window: int = 1) -> bool:
    """True when ``code`` is the code of ``secret`` within ``window`` steps of ``now``.

    This alone does not stop replay; a login uses :func:`match_totp` with
    ``after_step``.
    """
    return match_totp(secret, code, now, window=window) is not None


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (usually from a QR code)."""
    return str(_totp(secret).provisioning_uri(name=username, issuer_name=issuer))


def new_token(prefix: str) -> str:
    """``prefix`` followed by 256 random bits in URL-safe base64 (43 characters)."""
    return prefix + secrets.token_urlsafe(_TOKEN_BYTES)


def token_hash(token: str) -> str:
    """SHA-256 of the token's UTF-8 bytes, as 64 hex digits. Never raises."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


__all__ = [
    "DEFAULT_ARGON2",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "SESSION_TOKEN_PREFIX",
    "SYSTEM_TOKEN_PREFIX",
    "TOTP_DIGITS",
    "TOTP_INTERVAL_SECONDS",
    "Argon2Params",
    "check_password_policy",
    "hash_password",
    "match_totp",
    "needs_rehash",
    "new_token",
    "new_totp_secret",
    "provisioning_uri",
    "token_hash",
    "totp_now",
    "totp_step",
    "verify_password",
    "verify_totp",
]
