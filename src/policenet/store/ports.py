"""The store port: repositories in domain terms, grouped in a unit of work.

A unit of work is one transaction: everything done through it lands together
when the ``with`` block ends without an exception, or not at all. Both the
hub and the node use this port; each uses the repositories of its role
(a hub has no officers; a node has no audit log of its own).

Contract details every adapter keeps (tested in tests/integration/test_store_contract.py):

- ``members.add`` raises Conflict for a code that exists; ``update`` raises NotFound.
- ``audit.append`` numbers entries 0, 1, 2, ... without gaps, even with
  several processes appending; it stores the canonical bytes and the RFC 9162
  leaf hash given to it.
- ``events.append`` returns the event with an id larger than any before it;
  ``events.after(recipient, after_id)`` returns that recipient's events and
  broadcast events with larger ids, in id order.
- The ``*_many`` methods do what the one-at-a-time method does for each
  item, in order, with the same result (and a Conflict or NotFound where it
  would raise one); adapters send each as a few statements, not one per item.
- ``inbox.store`` returns False (and changes nothing) for an id already stored.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from policenet.domain.audit import SignedTreeHead
from policenet.domain.cases import Case
from policenet.domain.certificates import IssuedCertificate
from policenet.domain.envelope import Envelope
from policenet.domain.events import Event
from policenet.domain.members import Member
from policenet.domain.officers import Officer


@dataclass(frozen=True, slots=True)
class StoredAuditEntry:
    seq: int
    canonical: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class OfficerSession:
    """A logged-in officer. Only a hash of the session token is stored."""

    token_hash: str
    username: str
    created: datetime
    last_seen: datetime
    csrf_token: str


@dataclass(frozen=True, slots=True)
class SystemToken:
    """A national system's API token. Only a hash of the token is stored."""

    name: str
    token_hash: str
    created: datetime
    revoked: bool = False


class PutOutcome(enum.StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record of a register as stored: its payload (the register's JSON form) and envelope."""

    register: str
    key: str
    payload: Mapping[str, Any]
    envelope: Envelope
    updated: datetime


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One entry of the change feed: a record put (or removed) at ``seq``."""

    seq: int
    register: str
    key: str
    removed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class RecordPut:
    key: str
    payload: Mapping[str, Any]
    envelope: Envelope


class RecordRepository(Protocol):
    """The records of every register, and the change feed.

    A put of a record equal to the stored one (payload and envelope, the
    creation time aside) changes nothing and adds no change; otherwise the
    record is stored (keeping its first creation time) and one change is
    appended. Changes are numbered in commit order.
    """

    def put_many(
        self, register: str, items: Sequence[RecordPut], now: datetime
    ) -> list[PutOutcome]:
        """Store ``items`` (distinct keys) and say, in order, what happened to each."""
        ...

    def remove_many(self, register: str, keys: Sequence[str], now: datetime) -> list[bool]:
        """Remove records; True for each key that was there."""
        ...

    def get_many(self, register: str, keys: Sequence[str]) -> dict[str, StoredRecord]: ...
    def keys(self, register: str, after: str, limit: int) -> list[str]:
        """Keys greater than ``after``, in order (for building an index in pages)."""
        ...

    def changes(self, register: str, after_seq: int, limit: int) -> list[RecordChange]: ...
    def last_change(self, register: str) -> int:
        """The newest change's seq for ``register``, 0 when none."""
        ...

    def count(self, register: str) -> int: ...

    def expiring(self, register: str, before: datetime, limit: int) -> list[StoredRecord]:
        """Records expiring before ``before`` whose owner was not yet reminded of that expiry."""
        ...

    def reviews_due(self, register: str, before: datetime, limit: int) -> list[StoredRecord]:
        """Records with a review due before ``before`` not yet reminded of that review date."""
        ...

    def mark_reminded(self, register: str, key: str, expiry: bool) -> None:
        """Note that the owner was reminded of the record's current expiry (or review) date."""
        ...

    def expired(self, register: str, before: datetime, limit: int) -> list[str]:
        """Keys of records that expired before ``before`` (for removal on schedule)."""
        ...


@dataclass(frozen=True, slots=True)
class CopyState:
    """Where a node's offline copy of a register stands.

    ``position`` is the hub's change-feed position the copy reflects;
    ``snapshot_done`` is False while the first snapshot is still being paged
    in (``snapshot_key`` is the last key received); ``hub_key`` is the hub's
    signing key (base64) the copy was verified with, pinned at the first sync.
    """

    position: int
    synced_at: datetime | None
    hub_key: str
    snapshot_done: bool
    snapshot_key: str = ""


@dataclass(frozen=True, slots=True)
class Recheck:
    """An enquiry answered from the offline copy, to repeat with the hub when it is back."""

    id: int
    register: str
    probe: Mapping[str, Any]
    officer: str | None
    created: datetime


class CopyRepository(Protocol):
    """A node's offline copy of a register: entries by key, as the hub sent them."""

    def state(self, register: str) -> CopyState | None: ...
    def set_state(self, register: str, state: CopyState) -> None: ...
    def put(self, register: str, entries: Sequence[Mapping[str, Any]]) -> None:
        """Store entries (each has a ``key``), replacing any with the same key."""
        ...

    def keys_hashed(self, register: str, hashes: Sequence[str]) -> list[str]:
        """The keys of stored entries whose key's SHA-256 (hex) is listed."""
        ...

    def remove_hashed(self, register: str, hashes: Sequence[str]) -> int:
        """Drop entries whose key's SHA-256 (hex) is listed; returns how many went."""
        ...

    def clear(self, register: str) -> None: ...
    def keys(self, register: str, after: str, limit: int) -> list[str]: ...
    def get_many(self, register: str, keys: Sequence[str]) -> dict[str, Mapping[str, Any]]: ...


class RecheckRepository(Protocol):
    def add(
        self, register: str, probe: Mapping[str, Any], officer: str | None, created: datetime
    ) -> int: ...
    def pending(self, register: str, limit: int) -> list[Recheck]: ...
    def done(self, ids: Sequence[int]) -> None: ...


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing that happened in a case (opened, moved, escalated, a message)."""

    case: str
    at: datetime
    actor: str
    officer: str | None
    action: str
    detail: Mapping[str, Any]


class CaseRepository(Protocol):
    """Follow-up cases and their timelines.

    ``next_number`` hands out gapless numbers per year (it takes the store's
    append lock); ``open_for`` finds a case not yet closed for the same hit, so
    a repeated check does not open a second case.
    """

    def next_number(self, year: int) -> str: ...
    def next_numbers(self, year: int, count: int) -> list[str]:
        """``count`` numbers in a row, as ``next_number`` would give them if each were
        used (added) before the next was asked for; empty for ``count`` <= 0."""
        ...

    def add(self, case: Case) -> None: ...
    def add_many(self, cases: Sequence[Case]) -> None:
        """Add every case; Conflict (and none of them added) if a number exists or repeats."""
        ...

    def update(self, case: Case) -> None: ...
    def get(self, number: str) -> Case | None: ...
    def open_for(self, register: str, record_key: str, enquirer: str) -> Case | None: ...
    def open_for_many(
        self, register: str, record_keys: Sequence[str], enquirer: str
    ) -> dict[str, Case]:
        """``open_for`` of each key: record key -> case, for the keys that have one."""
        ...

    def for_member(self, code: str, include_closed: bool, limit: int) -> list[Case]: ...
    def due(self, now: datetime, limit: int) -> list[Case]:
        """Cases awaiting the owner whose deadline has passed and that were not escalated."""
        ...

    def add_timeline(self, entry: TimelineEntry) -> None: ...
    def add_timeline_many(self, entries: Sequence[TimelineEntry]) -> None:
        """``add_timeline`` of each entry, in order."""
        ...

    def timeline(self, number: str) -> list[TimelineEntry]: ...


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A sealed message as the hub keeps it: routing data in clear, the rest sealed.

    ``sealed`` is the JSON form of :class:`policenet.security.sealed.SealedMessage`.
    ``attachments`` counts the sealed attachment streams stored with it.
    """

    id: int
    case: str | None
    sender: str
    recipients: tuple[str, ...]
    kind: str
    created: datetime
    sealed: Mapping[str, Any]
    attachments: int = 0


class MessageRepository(Protocol):
    def add(self, message: StoredMessage) -> int:
        """Store a message (its ``id`` is ignored) and return its id."""
        ...

    def get(self, message_id: int) -> StoredMessage | None: ...
    def by_sealed_id(self, sealed_id: str) -> StoredMessage | None:
        """The message whose sealed header carries ``sealed_id`` (its sender's id for it)."""
        ...

    def for_member(
        self, code: str, case: str | None, after_id: int, limit: int
    ) -> list[StoredMessage]:
        """Messages ``code`` sent or received (in ``case`` when given), oldest first."""
        ...


class MemberRepository(Protocol):
    def add(self, member: Member) -> None: ...
    def update(self, member: Member) -> None: ...
    def get(self, code: str) -> Member | None: ...
    def list(self) -> list[Member]: ...


class CertificateRepository(Protocol):
    def add(self, cert: IssuedCertificate) -> None: ...
    def get(self, serial: int) -> IssuedCertificate | None: ...
    def for_member(self, member: str) -> list[IssuedCertificate]: ...
    def revoke(self, serial: int, when: datetime, reason: str) -> None: ...
    def revoked(self) -> list[IssuedCertificate]: ...


class AuditRepository(Protocol):
    def append(self, canonical: bytes, leaf_hash: bytes) -> int:
        """Store one entry and return its sequence number (0 for the first)."""
        ...

    def append_many(self, entries: Sequence[tuple[bytes, bytes]]) -> list[int]:
        """Store (canonical, leaf hash) entries in order, under consecutive sequence
        numbers, and return those numbers."""
        ...

    def size(self) -> int: ...
    def entries(self, start: int, stop: int) -> list[StoredAuditEntry]:
        """Entries with start <= seq < stop, in order."""
        ...

    def leaf_hashes(self, start: int) -> list[bytes]:
        """The leaf hashes of every entry from ``start`` on, in order."""
        ...

    def add_tree_head(self, head: SignedTreeHead) -> None: ...
    def tree_heads(self) -> list[SignedTreeHead]:
        """Every stored tree head, by size then time."""
        ...


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: who it is for, its kind and its JSON payload."""

    recipient: str
    kind: str
    payload: Mapping[str, Any]


class EventRepository(Protocol):
    def append(
        self, recipient: str, kind: str, payload: Mapping[str, Any], created: datetime
    ) -> Event: ...
    def append_many(self, events: Sequence[NewEvent], created: datetime) -> list[int]:
        """``append`` of each event, in order; returns their ids, which increase in that order."""
        ...

    def after(self, recipient: str, after_id: int, limit: int = 500) -> list[Event]: ...
    def last_id(self) -> int: ...


class OfficerRepository(Protocol):
    def add(self, officer: Officer) -> None: ...
    def update(self, officer: Officer) -> None: ...
    def get(self, username: str) -> Officer | None: ...
    def list(self) -> list[Officer]: ...


class SessionRepository(Protocol):
    def add(self, session: OfficerSession) -> None: ...
    def get(self, token_hash: str) -> OfficerSession | None: ...
    def touch(self, token_hash: str, when: datetime) -> None: ...
    def delete(self, token_hash: str) -> None: ...
    def delete_for(self, username: str) -> None: ...


class SystemTokenRepository(Protocol):
    def add(self, token: SystemToken) -> None: ...
    def get(self, token_hash: str) -> SystemToken | None: ...
    def list(self) -> list[SystemToken]: ...
    def revoke(self, name: str) -> None: ...


class InboxRepository(Protocol):
    """Events a node received from the hub, kept in the node's own database."""

    def store(self, event: Event) -> bool:
        """Keep ``event``; False if its id was already stored (nothing changes)."""
        ...

    def last_id(self) -> int:
        """The largest id stored, 0 when none."""
        ...

    def list(self, after_id: int = 0, limit: int = 500) -> list[Event]: ...


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    """Waiting for its first attempt or for its next retry."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    DEAD = "dead"
    """Every attempt failed: a dead letter, kept until an administrator retries it."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """A national system's subscription to the node's events (see :mod:`policenet.node.webhooks`).

    ``secret`` is kept as given: the node needs it to sign every delivery.
    ``kinds`` are event-kind prefixes (empty: every kind). ``queued_through``
    is the id of the last inbox event already considered for queueing.
    """

    name: str
    url: str
    secret: str
    kinds: tuple[str, ...]
    created: datetime
    active: bool = True
    max_attempts: int = 10
    queued_through: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event to deliver to one webhook, with the state of its attempts."""

    webhook: str
    event: Event
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class WebhookRepository(Protocol):
    """Webhook subscriptions of a node and the queue of deliveries to each.

    - ``add`` raises Conflict for a name that exists; ``remove``,
      ``set_active`` and ``queue`` raise NotFound for one that does not;
      ``remove`` drops the webhook's deliveries too.
    - ``queue`` adds a pending delivery (no attempts yet, due at ``now``) for
      each event id not yet queued to that webhook, and moves the webhook's
      ``queued_through`` up to ``through`` (never down), in the same
      transaction. Event ids must be in the inbox.
    - ``head`` is the pending delivery with the smallest event id of a
      webhook, due or not: deliveries of one webhook go one at a time, in
      event-id order. Deliveries carry their event, read from the inbox.
    - ``save`` writes a delivery's state, attempts, times and error; a
      delivery no longer queued (its webhook was removed) is left alone.
    - ``revive`` makes dead letters pending again with no attempts, due at
      ``now``: the one for ``event_id``, or every one when it is None; it
      returns how many.
    """

    def add(self, webhook: Webhook) -> None: ...
    def get(self, name: str) -> Webhook | None: ...
    def remove(self, name: str) -> None: ...
    def set_active(self, name: str, active: bool) -> None: ...
    def queue(self, name: str, event_ids: Sequence[int], through: int, now: datetime) -> None: ...
    def head(self, name: str) -> Delivery | None: ...
    def save(self, delivery: Delivery) -> None: ...
    def dead_letters(self, name: str, after_id: int, limit: int) -> list[Delivery]:
        """Dead deliveries of ``name`` with event ids above ``after_id``, by event id."""
        ...

    def revive(self, name: str, event_id: int | None, now: datetime) -> int: ...
    def counts(self, name: str) -> dict[DeliveryState, int]:
        """How many deliveries of ``name`` are in each state (every state is a key)."""
        ...

    def forget_delivered(self, before: datetime) -> int:
        """Drop delivered deliveries delivered before ``before``; returns how many went."""
        ...

    def list(self) -> list[Webhook]:
        """Every webhook, by name."""
        ...


class UnitOfWork(Protocol):
    """The repositories of one transaction."""

    @property
    def members(self) -> MemberRepository: ...
    @property
    def certificates(self) -> CertificateRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def officers(self) -> OfficerRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def system_tokens(self) -> SystemTokenRepository: ...
    @property
    def inbox(self) -> InboxRepository: ...
    @property
    def records(self) -> RecordRepository: ...
    @property
    def copies(self) -> CopyRepository: ...
    @property
    def cases(self) -> CaseRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def rechecks(self) -> RecheckRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...


class Store(Protocol):
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork, bool | None]:
        """A transaction: commits when the block ends normally, rolls back on an exception."""
        ...

    def reading(self) -> AbstractContextManager[UnitOfWork, bool | None]:
        """A transaction that only reads: one consistent view of the store (from its
        first read on), which neither waits for a unit of work nor holds one up.

        Writing in it is a programming error: the SQL store refuses it with the
        driver's error, the in-memory fake discards it. Use it for reads on hot
        paths: on SQLite a unit of work takes the one write lock.
        """
        ...

    def close(self) -> None: ...


__all__ = [
    "AuditRepository",
    "CaseRepository",
    "CertificateRepository",
    "CopyRepository",
    "CopyState",
    "Delivery",
    "DeliveryState",
    "EventRepository",
    "InboxRepository",
    "MemberRepository",
    "MessageRepository",
    "NewEvent",
    "OfficerRepository",
    "OfficerSession",
    "PutOutcome",
    "Recheck",
    "RecheckRepository",
    "RecordChange",
    "RecordPut",
    "RecordRepository",
    "SessionRepository",
    "Store",
    "StoredAuditEntry",
    "StoredMessage",
    "StoredRecord",
    "SystemToken",
    "SystemTokenRepository",
    "TimelineEntry",
    "UnitOfWork",
    "Webhook",
    "WebhookRepository",
]
