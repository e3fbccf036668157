"""A hit: a record found for a probe, shown as far as its owner allows.

The same shape whether the hub found it in the live register or a node in
its offline copy, for every register.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policenet.domain.access import Access
from policenet.domain.registers import RegisterName
from policenet.registers.base import MatchStrength


@dataclass(frozen=True, slots=True)
class Hit:
    """A record found for a probe, shown as far as the owner allows.

    ``record`` is the register's payload when ``access`` is FULL, None when it
    is REFERENCE_ONLY (then only the key, the owner and the advice are shown).
    """

    register: RegisterName
    key: str
    owner: str
    owner_name: str
    owner_country: str | None
    access: Access
    strength: MatchStrength
    score: float
    explanation: tuple[str, ...]
    record: Mapping[str, Any] | None
    caveats: str

    offline: bool = False
    """Found in a node's offline copy, not in the live register."""
    case: str | None = None
    """The follow-up case the hit opened (or joined), when the record is another member's."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """What the register adds (DNA: the rule, the loci compared, the likelihood ratio)."""

    @property
    def advice(self) -> str:
        who = f"{self.owner_name} ({self.owner_country or 'the General Secretariat'})"
        if self.strength is MatchStrength.POSSIBLE:
            compare = {
                RegisterName.PERSONS: "the person's details with the record",
                RegisterName.DNA: "the profiles through your NCB",
            }.get(self.register, "the document with the register")
            first = f"Possible hit only: compare {compare} before acting."
        else:
            first = "Hit."
        if self.offline:
            first += (
                " Found in this node's offline copy: it will be re-checked with the hub "
                "as soon as the hub can be reached."
            )
        if self.case:
            first += f" Follow-up case {self.case} is open between the NCBs."
        if self.access is Access.REFERENCE_ONLY:
            return (
                f"{first} The owner shares the reference only: contact your NCB, which will ask "
                f"{who} for the data. Do not act on this hit alone."
            )
        return (
            f"{first} Confirm with {who} through your NCB before acting on it; "
            "the record may have changed since it was reported."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "register": self.register.value,
            "key": self.key,
            "owner": self.owner,
            "owner_name": self.owner_name,
            "owner_country": self.owner_country,
            "access": self.access.value,
            "strength": self.strength.value,
            "score": round(self.score, 4),
            "explanation": list(self.explanation),
            "record": dict(self.record) if self.record is not None else None,
            "caveats": self.caveats,
            "advice": self.advice,
            "offline": self.offline,
            "case": self.case,
            "details": dict(self.details),
        }
