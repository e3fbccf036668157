"""The one access decision: what a member may see of a record.

Every path that returns record data calls :func:`decide`. It is a pure
function of the member, the record's envelope, the register and the time, so
it can be tested exhaustively and reasoned about alone.
"""

from __future__ import annotations

import enum
from datetime import datetime

from policenet.domain.envelope import Envelope, Mode
from policenet.domain.members import Member, MemberKind
from policenet.domain.registers import RegisterName


class Access(enum.StrEnum):
    FULL = "full"
    REFERENCE_ONLY = "reference-only"
    INVISIBLE = "invisible"


def is_owner_side(member: Member, envelope: Envelope, owner: Member | None) -> bool:
    """True when ``member`` owns the record or is the NCB of the agency that owns it.

    ``owner`` counts only when it is the member the envelope names: a wrong
    ``owner`` passed by mistake must not hand an NCB someone else's records.
    """
    if member.code == envelope.owner:
        return True
    return (
        owner is not None
        and owner.code == envelope.owner
        and owner.kind is MemberKind.AGENCY
        and member.kind is MemberKind.NCB
        and owner.parent == member.code
    )


def decide(
    member: Member,
    envelope: Envelope,
    register: RegisterName,
    now: datetime,
    owner: Member | None = None,
) -> Access:
    """Decide what ``member`` may see of a record with ``envelope`` in ``register`` at ``now``.

    ``owner`` is the owning member when known (needed to let an NCB see its
    agencies' records). The rules, first match wins:

    1. a revoked member sees nothing;
    2. the owner and the owner's NCB see everything, expired or not;
    3. a member without the register in its scope sees nothing;
    4. an expired record is seen by nobody else (it stops matching);
    5. a member denied by code, by its NCB's code or by its country sees nothing;
    6. with allow-lists, a member named in none of them (by code, NCB code or
       country) sees nothing;
    7. otherwise the record's mode: full, or reference-only.
    """
    if not member.active:
        return Access.INVISIBLE
    if is_owner_side(member, envelope, owner):
        return Access.FULL
    if register not in member.registers:
        return Access.INVISIBLE
    if envelope.expired(now):
        return Access.INVISIBLE
    r = envelope.restrictions
    codes = {member.code} | ({member.parent} if member.parent else set())
    if codes & r.deny_members or (
        member.country is not None and member.country in r.deny_countries
    ):
        return Access.INVISIBLE
    if not r.open_to_all:
        allowed = bool(codes & r.allow_members) or (
            member.country is not None and member.country in r.allow_countries
        )
        if not allowed:
            return Access.INVISIBLE
    return Access.FULL if envelope.mode is Mode.FULL else Access.REFERENCE_ONLY
