"""An in-memory store, the fake used by unit tests.

It keeps the same contract as the SQL adapter (see :mod:`.ports`), including
transactions: a unit of work works on a copy and replaces the state only when
the block ends without an exception.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from policenet.domain.audit import SignedTreeHead
from policenet.domain.cases import Case, CaseState, case_number, overdue
from policenet.domain.certificates import IssuedCertificate
from policenet.domain.events import BROADCAST, Event
from policenet.domain.members import Member
from policenet.domain.officers import Officer
from policenet.errors import Conflict, NotFound
from policenet.store.ports import (
    CopyState,
    Delivery,
    DeliveryState,
    NewEvent,
    OfficerSession,
    PutOutcome,
    Recheck,
    RecordChange,
    RecordPut,
    Store,
    StoredAuditEntry,
    StoredMessage,
    StoredRecord,
    SystemToken,
    TimelineEntry,
    UnitOfWork,
    Webhook,
)


@dataclass
class _State:
    members: dict[str, Member] = field(default_factory=dict)
    certificates: dict[int, IssuedCertificate] = field(default_factory=dict)
    audit: list[StoredAuditEntry] = field(default_factory=list)
    tree_heads: list[SignedTreeHead] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    officers: dict[str, Officer] = field(default_factory=dict)
    sessions: dict[str, OfficerSession] = field(default_factory=dict)
    system_tokens: dict[str, SystemToken] = field(default_factory=dict)
    inbox: dict[int, Event] = field(default_factory=dict)
    records: dict[tuple[str, str], StoredRecord] = field(default_factory=dict)
    changes: list[RecordChange] = field(default_factory=list)
    copies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    copy_states: dict[str, CopyState] = field(default_factory=dict)
    rechecks: list[tuple[Recheck, bool]] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)
    reminded: dict[tuple[str, str, bool], datetime | None] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: dict[tuple[str, int], Delivery] = field(default_factory=dict)


class _Members:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(self, member: Member) -> None:
        if member.code in self._s.members:
            raise Conflict(f"member {member.code!r} exists")
        self._s.members[member.code] = member

    def update(self, member: Member) -> None:
        if member.code not in self._s.members:
            raise NotFound(f"member {member.code!r} is not known")
        self._s.members[member.code] = member

    def get(self, code: str) -> Member | None:
        return self._s.members.get(code)

    def list(self) -> list[Member]:
        return sorted(self._s.members.values(), key=lambda m: m.code)


class _Certificates:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(self, cert: IssuedCertificate) -> None:
        if cert.serial in self._s.certificates:
            raise Conflict(f"certificate serial {cert.serial} exists")
        self._s.certificates[cert.serial] = cert

    def get(self, serial: int) -> IssuedCertificate | None:
        return self._s.certificates.get(serial)

    def for_member(self, member: str) -> list[IssuedCertificate]:
        found = [c for c in self._s.certificates.values() if c.member == member]
        return sorted(found, key=lambda c: c.not_before)

    def revoke(self, serial: int, when: datetime, reason: str) -> None:
        cert = self._s.certificates.get(serial)
        if cert is None:
            raise NotFound(f"certificate serial {serial} is not known")
        if cert.revoked_at is None:
            self._s.certificates[serial] = replace(cert, revoked_at=when, revocation_reason=reason)

    def revoked(self) -> list[IssuedCertificate]:
        return [c for c in self._s.certificates.values() if c.revoked_at is not None]


class _Audit:
    def __init__(self, s: _State) -> None:
        self._s = s

    def append(self, canonical: bytes, leaf_hash: bytes) -> int:
        seq = len(self._s.audit)
        self._s.audit.append(StoredAuditEntry(seq, canonical, leaf_hash))
        return seq

    def append_many(self, entries: Sequence[tuple[bytes, bytes]]) -> list[int]:
        return [self.append(canonical, leaf_hash) for canonical, leaf_hash in entries]

    def size(self) -> int:
        return len(self._s.audit)

    def entries(self, start: int, stop: int) -> list[StoredAuditEntry]:
        return self._s.audit[max(start, 0) : max(stop, 0)]

    def leaf_hashes(self, start: int) -> list[bytes]:
        return [e.leaf_hash for e in self._s.audit[start:]]

    def add_tree_head(self, head: SignedTreeHead) -> None:
        self._s.tree_heads.append(head)

    def tree_heads(self) -> list[SignedTreeHead]:
        return sorted(self._s.tree_heads, key=lambda h: (h.tree_size, h.timestamp_ms))


class _Events:
    def __init__(self, s: _State) -> None:
        self._s = s

    def append(
        self, recipient: str, kind: str, payload: Mapping[str, Any], created: datetime
    ) -> Event:
        event = Event(self.last_id() + 1, recipient, kind, created, dict(payload))
        self._s.events.append(event)
        return event

    def append_many(self, events: Sequence[NewEvent], created: datetime) -> list[int]:
        return [self.append(e.recipient, e.kind, e.payload, created).id for e in events]

    def after(self, recipient: str, after_id: int, limit: int = 500) -> list[Event]:
        mine = [
            e for e in self._s.events if e.id > after_id and e.recipient in (recipient, BROADCAST)
        ]
        return mine[:limit]

    def last_id(self) -> int:
        return self._s.events[-1].id if self._s.events else 0


class _Officers:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(self, officer: Officer) -> None:
        if officer.username in self._s.officers:
            raise Conflict(f"officer {officer.username!r} exists")
        self._s.officers[officer.username] = officer

    def update(self, officer: Officer) -> None:
        if officer.username not in self._s.officers:
            raise NotFound(f"officer {officer.username!r} is not known")
        self._s.officers[officer.username] = officer

    def get(self, username: str) -> Officer | None:
        return self._s.officers.get(username)

    def list(self) -> list[Officer]:
        return sorted(self._s.officers.values(), key=lambda o: o.username)


class _Sessions:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(self, session: OfficerSession) -> None:
        self._s.sessions[session.token_hash] = session

    def get(self, token_hash: str) -> OfficerSession | None:
        return self._s.sessions.get(token_hash)

    def touch(self, token_hash: str, when: datetime) -> None:
        found = self._s.sessions.get(token_hash)
        if found is not None:
            self._s.sessions[token_hash] = replace(found, last_seen=when)

    def delete(self, token_hash: str) -> None:
        self._s.sessions.pop(token_hash, None)

    def delete_for(self, username: str) -> None:
        for key in [k for k, v in self._s.sessions.items() if v.username == username]:
            del self._s.sessions[key]


class _SystemTokens:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(self, token: SystemToken) -> None:
        if any(t.name == token.name for t in self._s.system_tokens.values()):
            raise Conflict(f"a national-system token named {token.name!r} exists")
        self._s.system_tokens[token.token_hash] = token

    def get(self, token_hash: str) -> SystemToken | None:
        return self._s.system_tokens.get(token_hash)

    def list(self) -> list[SystemToken]:
        return sorted(self._s.system_tokens.values(), key=lambda t: t.name)

    def revoke(self, name: str) -> None:
        for key, token in self._s.system_tokens.items():
            if token.name == name:
                self._s.system_tokens[key] = replace(token, revoked=True)
                return
        raise NotFound(f"no national-system token named {name!r}")


class _Inbox:
    def __init__(self, s: _State) -> None:
        self._s = s

    def store(self, event: Event) -> bool:
        if event.id in self._s.inbox:
            return False
        self._s.inbox[event.id] = event
        return True

    def last_id(self) -> int:
        return max(self._s.inbox, default=0)

    def list(self, after_id: int = 0, limit: int = 500) -> list[Event]:
        return [self._s.inbox[i] for i in sorted(self._s.inbox) if i > after_id][:limit]


class _Records:
    def __init__(self, s: _State) -> None:
        self._s = s

    def _log(self, register: str, key: str, removed: bool, now: datetime) -> None:
        seq = self._s.changes[-1].seq + 1 if self._s.changes else 1
        self._s.changes.append(RecordChange(seq, register, key, removed, now))

    def put_many(
        self, register: str, items: Sequence[RecordPut], now: datetime
    ) -> list[PutOutcome]:
        outcomes = []
        for item in items:
            old = self._s.records.get((register, item.key))
            created = old.envelope.created if old else now
            envelope = replace(item.envelope, created=created)
            new = StoredRecord(register, item.key, dict(item.payload), envelope, now)
            if old is not None and old.payload == new.payload and old.envelope == envelope:
                outcomes.append(PutOutcome.UNCHANGED)
                continue
            self._s.records[(register, item.key)] = new
            self._log(register, item.key, False, now)
            outcomes.append(PutOutcome.CHANGED if old else PutOutcome.ADDED)
        return outcomes

    def remove_many(self, register: str, keys: Sequence[str], now: datetime) -> list[bool]:
        found = []
        for key in keys:
            gone = self._s.records.pop((register, key), None) is not None
            if gone:
                self._log(register, key, True, now)
            found.append(gone)
        return found

    def get_many(self, register: str, keys: Sequence[str]) -> dict[str, StoredRecord]:
        return {k: r for k in keys if (r := self._s.records.get((register, k))) is not None}

    def keys(self, register: str, after: str, limit: int) -> list[str]:
        mine = sorted(k for (reg, k) in self._s.records if reg == register and k > after)
        return mine[:limit]

    def changes(self, register: str, after_seq: int, limit: int) -> list[RecordChange]:
        return [c for c in self._s.changes if c.register == register and c.seq > after_seq][:limit]

    def last_change(self, register: str) -> int:
        return max((c.seq for c in self._s.changes if c.register == register), default=0)

    def count(self, register: str) -> int:
        return sum(1 for reg, _ in self._s.records if reg == register)

    def _mine(self, register: str) -> list[StoredRecord]:
        return [r for (reg, _), r in sorted(self._s.records.items()) if reg == register]

    def expiring(self, register: str, before: datetime, limit: int) -> list[StoredRecord]:
        found = [
            r
            for r in self._mine(register)
            if r.envelope.expires is not None
            and r.envelope.expires < before
            and self._s.reminded.get((register, r.key, True)) != r.envelope.expires
        ]
        return sorted(found, key=lambda r: r.envelope.expires or before)[:limit]

    def reviews_due(self, register: str, before: datetime, limit: int) -> list[StoredRecord]:
        found = [
            r
            for r in self._mine(register)
            if r.envelope.review_due is not None
            and r.envelope.review_due < before
            and self._s.reminded.get((register, r.key, False)) != r.envelope.review_due
        ]
        return sorted(found, key=lambda r: r.envelope.review_due or before)[:limit]

    def mark_reminded(self, register: str, key: str, expiry: bool) -> None:
        record = self._s.records.get((register, key))
        if record is not None:
            date = record.envelope.expires if expiry else record.envelope.review_due
            self._s.reminded[(register, key, expiry)] = date

    def expired(self, register: str, before: datetime, limit: int) -> list[str]:
        found = [
            r
            for r in self._mine(register)
            if r.envelope.expires is not None and r.envelope.expires < before
        ]
        return [r.key for r in sorted(found, key=lambda r: r.envelope.expires or before)][:limit]


class _Copies:
    def __init__(self, s: _State) -> None:
        self._s = s

    def state(self, register: str) -> CopyState | None:
        return self._s.copy_states.get(register)

    def set_state(self, register: str, state: CopyState) -> None:
        self._s.copy_states[register] = state

    def put(self, register: str, entries: Sequence[Mapping[str, Any]]) -> None:
        for entry in entries:
            self._s.copies[(register, str(entry["key"]))] = dict(entry)

    def keys_hashed(self, register: str, hashes: Sequence[str]) -> list[str]:
        wanted = set(hashes)
        return sorted(
            k
            for (reg, k) in self._s.copies
            if reg == register and hashlib.sha256(k.encode()).hexdigest() in wanted
        )

    def remove_hashed(self, register: str, hashes: Sequence[str]) -> int:
        wanted = set(hashes)
        gone = [
            k
            for k in self._s.copies
            if k[0] == register and hashlib.sha256(k[1].encode()).hexdigest() in wanted
        ]
        for k in gone:
            del self._s.copies[k]
        return len(gone)

    def clear(self, register: str) -> None:
        for k in [k for k in self._s.copies if k[0] == register]:
            del self._s.copies[k]

    def keys(self, register: str, after: str, limit: int) -> list[str]:
        return sorted(k for (reg, k) in self._s.copies if reg == register and k > after)[:limit]

    def get_many(self, register: str, keys: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        return {k: e for k in keys if (e := self._s.copies.get((register, k))) is not None}


class _Rechecks:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(
        self, register: str, probe: Mapping[str, Any], officer: str | None, created: datetime
    ) -> int:
        new_id = len(self._s.rechecks) + 1
        self._s.rechecks.append((Recheck(new_id, register, dict(probe), officer, created), False))
        return new_id

    def pending(self, register: str, limit: int) -> list[Recheck]:
        return [r for r, done in self._s.rechecks if r.register == register and not done][:limit]

    def done(self, ids: Sequence[int]) -> None:
        finished = set(ids)
        self._s.rechecks = [(r, done or r.id in finished) for r, done in self._s.rechecks]


class _Cases:
    def __init__(self, s: _State) -> None:
        self._s = s

    def next_number(self, year: int) -> str:
        prefix = f"PN-{year}-"
        return case_number(year, sum(1 for n in self._s.cases if n.startswith(prefix)) + 1)

    def next_numbers(self, year: int, count: int) -> list[str]:
        first = self.next_number(year)
        start = int(first.rsplit("-", 1)[1])
        return [case_number(year, start + n) for n in range(max(count, 0))]

    def add(self, case: Case) -> None:
        if case.number in self._s.cases:
            raise Conflict(f"case {case.number} exists")
        self._s.cases[case.number] = case

    def add_many(self, cases: Sequence[Case]) -> None:
        seen: set[str] = set()
        for case in cases:
            if case.number in self._s.cases or case.number in seen:
                raise Conflict(f"case {case.number} exists")
            seen.add(case.number)
        for case in cases:
            self._s.cases[case.number] = case

    def update(self, case: Case) -> None:
        if case.number not in self._s.cases:
            raise NotFound(f"no case {case.number}")
        self._s.cases[case.number] = case

    def get(self, number: str) -> Case | None:
        return self._s.cases.get(number)

    def open_for(self, register: str, record_key: str, enquirer: str) -> Case | None:
        found = [
            c
            for c in self._s.cases.values()
            if c.register.value == register
            and c.record_key == record_key
            and c.enquirer == enquirer
            and c.state is not CaseState.CLOSED
        ]
        return max(found, key=lambda c: c.opened) if found else None

    def open_for_many(
        self, register: str, record_keys: Sequence[str], enquirer: str
    ) -> dict[str, Case]:
        found = {key: self.open_for(register, key, enquirer) for key in record_keys}
        return {key: case for key, case in found.items() if case is not None}

    def for_member(self, code: str, include_closed: bool, limit: int) -> list[Case]:
        mine = [
            c
            for c in self._s.cases.values()
            if code in c.parties and (include_closed or c.state is not CaseState.CLOSED)
        ]
        return sorted(mine, key=lambda c: (not c.urgent, c.deadline))[:limit]

    def due(self, now: datetime, limit: int) -> list[Case]:
        waiting = [c for c in self._s.cases.values() if overdue(c, now)]
        return sorted(waiting, key=lambda c: c.deadline)[:limit]

    def add_timeline(self, entry: TimelineEntry) -> None:
        self._s.timeline.append(entry)

    def add_timeline_many(self, entries: Sequence[TimelineEntry]) -> None:
        self._s.timeline.extend(entries)

    def timeline(self, number: str) -> list[TimelineEntry]:
        return [e for e in self._s.timeline if e.case == number]


class _Messages:
    def __init__(self, s: _State) -> None:
        self._s = s

    def add(self, message: StoredMessage) -> int:
        if self.by_sealed_id(str(message.sealed["header"]["id"])) is not None:
            raise Conflict("a message with this sealed id exists")
        new_id = len(self._s.messages) + 1
        self._s.messages.append(replace(message, id=new_id))
        return new_id

    def get(self, message_id: int) -> StoredMessage | None:
        return next((m for m in self._s.messages if m.id == message_id), None)

    def by_sealed_id(self, sealed_id: str) -> StoredMessage | None:
        return next(
            (m for m in self._s.messages if m.sealed.get("header", {}).get("id") == sealed_id),
            None,
        )

    def for_member(
        self, code: str, case: str | None, after_id: int, limit: int
    ) -> list[StoredMessage]:
        return [
            m
            for m in self._s.messages
            if m.id > after_id
            and (case is None or m.case == case)
            and (code == m.sender or code in m.recipients)
        ][:limit]


class _Webhooks:
    def __init__(self, s: _State) -> None:
        self._s = s

    def _known(self, name: str) -> Webhook:
        found = self._s.webhooks.get(name)
        if found is None:
            raise NotFound(f"no webhook named {name!r}")
        return found

    def _mine(self, name: str, state: DeliveryState) -> list[Delivery]:
        found = [d for (w, _), d in self._s.deliveries.items() if w == name and d.state is state]
        return sorted(found, key=lambda d: d.event.id)

    def add(self, webhook: Webhook) -> None:
        if webhook.name in self._s.webhooks:
            raise Conflict(f"a webhook named {webhook.name!r} exists")
        self._s.webhooks[webhook.name] = webhook

    def get(self, name: str) -> Webhook | None:
        return self._s.webhooks.get(name)

    def remove(self, name: str) -> None:
        self._known(name)
        del self._s.webhooks[name]
        for key in [k for k in self._s.deliveries if k[0] == name]:
            del self._s.deliveries[key]

    def set_active(self, name: str, active: bool) -> None:
        self._s.webhooks[name] = replace(self._known(name), active=active)

    def queue(self, name: str, event_ids: Sequence[int], through: int, now: datetime) -> None:
        webhook = self._known(name)
        for event_id in event_ids:
            if (name, event_id) not in self._s.deliveries:
                event = self._s.inbox[event_id]
                self._s.deliveries[(name, event_id)] = Delivery(
                    name, event, DeliveryState.PENDING, 0, now
                )
        if through > webhook.queued_through:
            self._s.webhooks[name] = replace(webhook, queued_through=through)

    def head(self, name: str) -> Delivery | None:
        pending = self._mine(name, DeliveryState.PENDING)
        return pending[0] if pending else None

    def save(self, delivery: Delivery) -> None:
        key = (delivery.webhook, delivery.event.id)
        if key in self._s.deliveries:
            self._s.deliveries[key] = replace(delivery, event=self._s.deliveries[key].event)

    def dead_letters(self, name: str, after_id: int, limit: int) -> list[Delivery]:
        dead = [d for d in self._mine(name, DeliveryState.DEAD) if d.event.id > after_id]
        return dead[: max(limit, 0)]

    def revive(self, name: str, event_id: int | None, now: datetime) -> int:
        revived = 0
        for d in self._mine(name, DeliveryState.DEAD):
            if event_id is None or d.event.id == event_id:
                self._s.deliveries[(name, d.event.id)] = replace(
                    d, state=DeliveryState.PENDING, attempts=0, next_attempt_at=now
                )
                revived += 1
        return revived

    def counts(self, name: str) -> dict[DeliveryState, int]:
        return {state: len(self._mine(name, state)) for state in DeliveryState}

    def forget_delivered(self, before: datetime) -> int:
        gone = [
            k
            for k, d in self._s.deliveries.items()
            if d.state is DeliveryState.DELIVERED
            and d.delivered_at is not None
            and d.delivered_at < before
        ]
        for k in gone:
            del self._s.deliveries[k]
        return len(gone)

    def list(self) -> list[Webhook]:
        return sorted(self._s.webhooks.values(), key=lambda w: w.name)


class MemoryUnitOfWork:
    def __init__(self, state: _State) -> None:
        self.state = state
        self.members = _Members(state)
        self.certificates = _Certificates(state)
        self.audit = _Audit(state)
        self.events = _Events(state)
        self.officers = _Officers(state)
        self.sessions = _Sessions(state)
        self.system_tokens = _SystemTokens(state)
        self.inbox = _Inbox(state)
        self.records = _Records(state)
        self.copies = _Copies(state)
        self.cases = _Cases(state)
        self.messages = _Messages(state)
        self.rechecks = _Rechecks(state)
        self.webhooks = _Webhooks(state)


class MemoryStore:
    """A store in a Python dict. Units of work are serialised by a lock."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()

    @contextmanager
    def unit_of_work(self) -> Iterator[MemoryUnitOfWork]:
        with self._lock:
            working = copy.deepcopy(self._state)
            yield MemoryUnitOfWork(working)
            self._state = working

    @contextmanager
    def reading(self) -> Iterator[MemoryUnitOfWork]:
        """A copy of the committed state to read; whatever is written to it is discarded.

        Takes no lock: a unit of work replaces the state whole when it commits and
        never changes a committed one.
        """
        yield MemoryUnitOfWork(copy.deepcopy(self._state))

    def close(self) -> None:
        """Nothing to release."""


def _conforms(store: MemoryStore) -> Store:
    """Lets mypy check that the fake keeps the port's shape."""
    return store


def _uow_conforms(uow: MemoryUnitOfWork) -> UnitOfWork:
    return uow
