"""The shape every register has.

A register is a shared database at the hub (travel documents, persons, DNA,
fingerprints, images). Each one provides, in its own package:

- a record type (frozen dataclass) and ``validate(raw) -> record`` that returns
  the record or raises :class:`~policenet.errors.InvalidField` naming the field
  and the reason;
- ``natural_key(record) -> str``: the same record uploaded twice has the same
  key, so loading it again changes nothing;
- an index implementing :class:`RegisterIndex`: ``add``, ``remove`` and
  ``search(probe, limit)`` returning :class:`Candidate` objects with a score and
  an explanation a person can read;
- pure matching and scoring code, kept apart from I/O and tested alone.

The enquiry service does the rest for every register alike: the access
decision, the audit entry, the hit and its follow-up.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, Protocol, TypeVar

from policenet.domain.envelope import Envelope, Mode
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName

ProbeT = TypeVar("ProbeT", contravariant=True)
RecordT = TypeVar("RecordT")
RecordT_contra = TypeVar("RecordT_contra", contravariant=True)
KeyT = TypeVar("KeyT", bound=Hashable)


class MatchStrength(enum.StrEnum):
    """How sure a candidate is.

    ``EXACT``: the probe and the record agree on everything the register keys on.
    ``POSSIBLE``: they agree only under a tolerance (OCR confusions, fuzzy names,
    a near DNA match); the explanation says exactly where they differ.
    """

    EXACT = "exact"
    POSSIBLE = "possible"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One record the index found for a probe.

    ``key`` is the record's natural key in its register, ``score`` is in
    [0, 1] (1 is certain), ``explanation`` lists in plain words why the record
    was found (which fields matched and how), most important first.
    """

    key: str
    score: float
    strength: MatchStrength
    explanation: tuple[str, ...]


class RegisterIndex(Protocol[ProbeT, RecordT_contra]):
    """The index contract every register implements.

    ``add`` replaces a record with the same key; ``remove`` of an unknown key
    does nothing; ``search`` returns at most ``limit`` candidates, best first,
    and never raises for a probe that passed validation.
    """

    def add(self, key: str, record: RecordT_contra) -> None: ...
    def remove(self, key: str) -> None: ...
    def search(self, probe: ProbeT, limit: int = 10) -> list[Candidate]: ...
    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Keyed(Generic[RecordT]):
    """A validated record with its natural key."""

    key: str
    record: RecordT


class RegisterRules(Protocol):
    """What one register says about reporting (see the travel documents and DNA rules)."""

    register: RegisterName
    noun: str
    """What one record is called in messages ("document", "profile")."""
    default_review: timedelta
    default_mode: Mode

    def parse(self, record: Mapping[str, str], today: date) -> tuple[str, dict[str, Any]]:
        """The natural key and payload of a row's record; InvalidField naming a bad field."""
        ...

    def removal_key(self, record: Mapping[str, str]) -> str:
        """The key a ``remove`` row names."""
        ...

    def may_add(self, member: Member, key: str, payload: Mapping[str, Any]) -> None:
        """Forbidden unless ``member`` may add this new record."""
        ...

    def check_envelope(self, payload: Mapping[str, Any], envelope: Envelope) -> None:
        """InvalidField when the row's envelope does not suit its record (a diffusion
        that names no countries); most registers accept any envelope."""
        ...
