"""Who is calling the hub, once the certificate has been checked."""

from __future__ import annotations

from dataclasses import dataclass

from policenet.domain.members import Member


@dataclass(frozen=True, slots=True)
class Caller:
    """A member proven by certificate, and the officer it vouches for (if any)."""

    member: Member
    officer: str | None
    serial: int
