"""The SQL adapter of the store port, for SQLite and PostgreSQL (SQLAlchemy Core).

It keeps the contract of :mod:`.ports` exactly as the in-memory fake does;
tests/integration/test_store_contract.py runs the same tests on all three.
Repositories take and return domain types, never rows.

Appending to the audit log and to the event stream is serialised across
processes, so that sequence numbers have no gaps and readers never see an
event id before every smaller one is visible:

- on SQLite every unit of work begins with ``BEGIN IMMEDIATE`` (see
  :mod:`.database`), so there is one writer at a time;
- on PostgreSQL an append first takes a transaction-level advisory lock,
  held until commit or rollback.

Open a store with :func:`policenet.store.database.open_store`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Row,
    Table,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, OperationalError

from policenet.domain.audit import SignedTreeHead
from policenet.domain.certificates import CertificatePurpose, IssuedCertificate
from policenet.domain.events import BROADCAST, Event
from policenet.domain.members import Member, MemberKind, MemberStatus
from policenet.domain.officers import Officer, Role
from policenet.domain.registers import format_registers, parse_registers
from policenet.errors import Conflict, InvalidField, InvalidInput, NotFound, Unavailable
from policenet.store import schema
from policenet.store.ports import (
    NewEvent,
    OfficerSession,
    Store,
    StoredAuditEntry,
    SystemToken,
    UnitOfWork,
)
from policenet.store.sql_cases import SqlCases, SqlMessages
from policenet.store.sql_copies import SqlCopies, SqlRechecks
from policenet.store.sql_records import SqlRecords
from policenet.store.sql_webhooks import SqlWebhooks

_WRITING = threading.local()
"""The writer lock this thread holds, if any (to refuse a nested unit of work at once)."""

WRITER_WAIT_SECONDS = 30.0
"""How long a unit of work waits for its turn to write when the store serialises writers."""

APPEND_LOCK_KEY = 0x706F_6C6E_6170_7031
"""PostgreSQL advisory lock taken before appending an audit entry or an event.

One key for both on purpose: a unit of work may append to the audit log and
then to the event stream while another does the reverse; with two locks they
could each hold one and wait for the other (a deadlock). With one lock every
appender takes it first and no cycle can form.
"""

_SERIAL_LIMIT = 16**40
"""X.509 serials are at most 20 octets; stored as 40 hex digits."""


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidField(field, f"{value.isoformat()} has no time zone; times are kept in UTC")
    return value.astimezone(UTC)


def _aware_or_none(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else _aware(value, field)


def _serial_text(serial: int) -> str:
    if not 0 <= serial < _SERIAL_LIMIT:
        raise InvalidField("serial", f"{serial} is not an X.509 serial number (0 to 2**160 - 1)")
    return format(serial, "040x")


def _payload_text(payload: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(payload), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidField("payload", f"cannot be stored as JSON: {exc}") from None


def _insert_if_absent(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert one row unless it clashes with a primary key or unique constraint.

    Returns whether the row went in. Done with ON CONFLICT DO NOTHING rather
    than by catching IntegrityError, because on PostgreSQL a failed statement
    aborts the whole transaction.
    """
    statement: Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    # SQLAlchemy reports an INSERT's row count only when asked to keep it.
    result = conn.execute(statement.execution_options(preserve_rowcount=True))
    return result.rowcount == 1


class SqlMembers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, member: Member) -> None:
        if not _insert_if_absent(self._conn, schema.members, _member_values(member)):
            raise Conflict(f"member {member.code!r} exists")

    def update(self, member: Member) -> None:
        t = schema.members
        result = self._conn.execute(
            update(t).where(t.c.code == member.code).values(**_member_values(member))
        )
        if result.rowcount == 0:
            raise NotFound(f"member {member.code!r} is not known")

    def get(self, code: str) -> Member | None:
        t = schema.members
        row = self._conn.execute(select(t).where(t.c.code == code)).first()
        return None if row is None else _member(row)

    def list(self) -> list[Member]:
        t = schema.members
        return [_member(r) for r in self._conn.execute(select(t).order_by(t.c.code))]


def _member_values(member: Member) -> dict[str, Any]:
    return {
        "code": member.code,
        "kind": member.kind.value,
        "name": member.name,
        "country": member.country,
        "parent": member.parent,
        "registers": format_registers(member.registers),
        "status": member.status.value,
        "copy_enquiries_to_ncb": member.copy_enquiries_to_ncb,
        "may_report": member.may_report,
    }


def _member(row: Row[Any]) -> Member:
    return Member(
        code=row.code,
        kind=MemberKind(row.kind),
        name=row.name,
        country=row.country,
        parent=row.parent,
        registers=parse_registers(row.registers),
        status=MemberStatus(row.status),
        copy_enquiries_to_ncb=bool(row.copy_enquiries_to_ncb),
        may_report=bool(row.may_report),
    )


class SqlCertificates:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, cert: IssuedCertificate) -> None:
        values = {
            "serial": _serial_text(cert.serial),
            "member": cert.member,
            "purpose": cert.purpose.value,
            "fingerprint": cert.fingerprint,
            "not_before": _aware(cert.not_before, "not_before"),
            "not_after": _aware(cert.not_after, "not_after"),
            "pem": cert.pem,
            "revoked_at": _aware_or_none(cert.revoked_at, "revoked_at"),
            "revocation_reason": cert.revocation_reason,
        }
        if not _insert_if_absent(self._conn, schema.certificates, values):
            raise Conflict(f"certificate serial {cert.serial} exists")

    def get(self, serial: int) -> IssuedCertificate | None:
        if not 0 <= serial < _SERIAL_LIMIT:
            return None
        t = schema.certificates
        row = self._conn.execute(select(t).where(t.c.serial == _serial_text(serial))).first()
        return None if row is None else _certificate(row)

    def for_member(self, member: str) -> list[IssuedCertificate]:
        t = schema.certificates
        query = select(t).where(t.c.member == member).order_by(t.c.not_before, t.c.serial)
        return [_certificate(r) for r in self._conn.execute(query)]

    def revoke(self, serial: int, when: datetime, reason: str) -> None:
        """Mark ``serial`` revoked at ``when``; a second revocation keeps the first."""
        if self.get(serial) is None:
            raise NotFound(f"certificate serial {serial} is not known")
        t = schema.certificates
        self._conn.execute(
            update(t)
            .where(t.c.serial == _serial_text(serial), t.c.revoked_at.is_(None))
            .values(revoked_at=_aware(when, "when"), revocation_reason=reason)
        )

    def revoked(self) -> list[IssuedCertificate]:
        """Every revoked certificate, by serial."""
        t = schema.certificates
        query = select(t).where(t.c.revoked_at.is_not(None)).order_by(t.c.serial)
        return [_certificate(r) for r in self._conn.execute(query)]


def _certificate(row: Row[Any]) -> IssuedCertificate:
    return IssuedCertificate(
        serial=int(row.serial, 16),
        member=row.member,
        purpose=CertificatePurpose(row.purpose),
        fingerprint=row.fingerprint,
        not_before=row.not_before,
        not_after=row.not_after,
        pem=row.pem,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
    )


class SqlAudit:
    def __init__(self, conn: Connection, lock_appends: Callable[[], None]) -> None:
        self._conn = conn
        self._lock_appends = lock_appends

    def append(self, canonical: bytes, leaf_hash: bytes) -> int:
        """Store one entry under the next sequence number (0 for the first) and return it.

        Serialised with every other appender (see the module docstring), so
        the maximum read here is the last committed entry and no two
        transactions take the same number.
        """
        self._lock_appends()
        seq = self.size()
        self._conn.execute(
            insert(schema.audit_entries).values(
                seq=seq, canonical=bytes(canonical), leaf_hash=bytes(leaf_hash)
            )
        )
        return seq

    def append_many(self, entries: Sequence[tuple[bytes, bytes]]) -> list[int]:
        """:meth:`append` of each entry in one statement: consecutive numbers, in order."""
        if not entries:
            return []
        self._lock_appends()
        first = self.size()
        seqs = list(range(first, first + len(entries)))
        self._conn.execute(
            insert(schema.audit_entries),
            [
                {"seq": seq, "canonical": bytes(canonical), "leaf_hash": bytes(leaf_hash)}
                for seq, (canonical, leaf_hash) in zip(seqs, entries, strict=True)
            ],
        )
        return seqs

    def size(self) -> int:
        # max + 1 rather than COUNT(*): it reads one index entry, and the
        # numbering has no gaps, so the two agree.
        t = schema.audit_entries
        last = self._conn.execute(select(func.max(t.c.seq))).scalar_one()
        return 0 if last is None else int(last) + 1

    def entries(self, start: int, stop: int) -> list[StoredAuditEntry]:
        t = schema.audit_entries
        query = select(t).where(t.c.seq >= start, t.c.seq < stop).order_by(t.c.seq)
        return [
            StoredAuditEntry(int(r.seq), bytes(r.canonical), bytes(r.leaf_hash))
            for r in self._conn.execute(query)
        ]

    def leaf_hashes(self, start: int) -> list[bytes]:
        t = schema.audit_entries
        query = select(t.c.leaf_hash).where(t.c.seq >= start).order_by(t.c.seq)
        return [bytes(h) for h in self._conn.execute(query).scalars()]

    def add_tree_head(self, head: SignedTreeHead) -> None:
        self._conn.execute(
            insert(schema.tree_heads).values(
                tree_size=head.tree_size,
                timestamp_ms=head.timestamp_ms,
                root_hash=bytes(head.root_hash),
                signature=bytes(head.signature),
            )
        )

    def tree_heads(self) -> list[SignedTreeHead]:
        t = schema.tree_heads
        query = select(t).order_by(t.c.tree_size, t.c.timestamp_ms, t.c.id)
        return [
            SignedTreeHead(
                int(r.tree_size), int(r.timestamp_ms), bytes(r.root_hash), bytes(r.signature)
            )
            for r in self._conn.execute(query)
        ]


class SqlEvents:
    def __init__(self, conn: Connection, lock_appends: Callable[[], None]) -> None:
        self._conn = conn
        self._lock_appends = lock_appends

    def append(
        self, recipient: str, kind: str, payload: Mapping[str, Any], created: datetime
    ) -> Event:
        """Store an event and return it with its id, larger than any before it.

        The payload must be JSON (it comes back as parsed JSON: tuples as lists).
        """
        body = _payload_text(payload)
        created = _aware(created, "created")
        # Ids come from the database's counter, which PostgreSQL hands out
        # when a row is inserted, not when it commits: without the lock, id 8
        # could commit before id 7, and a reader that saw 8 would resume
        # after it and never see 7. Holding the lock until commit makes ids
        # become visible in order.
        self._lock_appends()
        result = self._conn.execute(
            insert(schema.events).values(
                recipient=recipient, kind=kind, created=created, payload=body
            )
        )
        (new_id,) = result.inserted_primary_key or (None,)
        if new_id is None:
            raise RuntimeError("the database returned no id for the new event")
        return Event(int(new_id), recipient, kind, created, json.loads(body))

    def append_many(self, events: Sequence[NewEvent], created: datetime) -> list[int]:
        """:meth:`append` of each event, in one statement; returns the ids, growing in order.

        On PostgreSQL the ids come back from the INSERT (SQLAlchemy's
        ``sort_by_parameter_order`` makes the database number the rows in the
        order given and return them in it). SQLite would insert one row per
        statement to return ids in order; there, with one writer at a time
        (``BEGIN IMMEDIATE``) and ``AUTOINCREMENT`` (each row takes the largest
        id ever used plus one), the new rows hold the last ids, in order.
        """
        if not events:
            return []
        created = _aware(created, "created")
        texts: dict[int, str] = {}  # one payload told to several recipients is encoded once
        rows = []
        for e in events:
            text = texts.get(id(e.payload))
            if text is None:
                text = texts[id(e.payload)] = _payload_text(e.payload)
            rows.append(
                {"recipient": e.recipient, "kind": e.kind, "created": created, "payload": text}
            )
        self._lock_appends()
        t = schema.events
        if self._conn.dialect.name == "sqlite":
            self._conn.execute(insert(t), rows)
            last = self.last_id()
            return list(range(last - len(rows) + 1, last + 1))
        result = self._conn.execute(insert(t).returning(t.c.id, sort_by_parameter_order=True), rows)
        ids = [int(new_id) for new_id in result.scalars()]
        if len(ids) != len(events):
            raise RuntimeError("the database returned no id for some of the new events")
        return ids

    def after(self, recipient: str, after_id: int, limit: int = 500) -> list[Event]:
        """Events for ``recipient`` and for all with id > ``after_id``, by id, ``limit`` at most.

        Resuming with the last id seen never skips an event (see :meth:`append`).
        """
        if limit <= 0:
            return []
        t = schema.events
        query = (
            select(t)
            .where(t.c.id > after_id, t.c.recipient.in_([recipient, BROADCAST]))
            .order_by(t.c.id)
            .limit(limit)
        )
        return [_event(r) for r in self._conn.execute(query)]

    def last_id(self) -> int:
        last = self._conn.execute(select(func.max(schema.events.c.id))).scalar_one()
        return 0 if last is None else int(last)


def _event(row: Row[Any]) -> Event:
    return Event(int(row.id), row.recipient, row.kind, row.created, json.loads(row.payload))


class SqlOfficers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, officer: Officer) -> None:
        if not _insert_if_absent(self._conn, schema.officers, _officer_values(officer)):
            raise Conflict(f"officer {officer.username!r} exists")

    def update(self, officer: Officer) -> None:
        t = schema.officers
        result = self._conn.execute(
            update(t).where(t.c.username == officer.username).values(**_officer_values(officer))
        )
        if result.rowcount == 0:
            raise NotFound(f"officer {officer.username!r} is not known")

    def get(self, username: str) -> Officer | None:
        t = schema.officers
        row = self._conn.execute(select(t).where(t.c.username == username)).first()
        return None if row is None else _officer(row)

    def list(self) -> list[Officer]:
        t = schema.officers
        return [_officer(r) for r in self._conn.execute(select(t).order_by(t.c.username))]


def _officer_values(officer: Officer) -> dict[str, Any]:
    return {
        "username": officer.username,
        "display_name": officer.display_name,
        "role": officer.role.value,
        "password_hash": officer.password_hash,
        "totp_secret": officer.totp_secret,
        "created": _aware(officer.created, "created"),
        "disabled": officer.disabled,
        "failed_logins": officer.failed_logins,
        "locked_until": _aware_or_none(officer.locked_until, "locked_until"),
        "last_totp_step": officer.last_totp_step,
    }


def _officer(row: Row[Any]) -> Officer:
    return Officer(
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        password_hash=row.password_hash,
        totp_secret=row.totp_secret,
        created=row.created,
        disabled=bool(row.disabled),
        failed_logins=int(row.failed_logins),
        locked_until=row.locked_until,
        last_totp_step=row.last_totp_step,
    )


class SqlSessions:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, session: OfficerSession) -> None:
        """Keep ``session``; one with the same token hash is replaced."""
        values = {
            "token_hash": session.token_hash,
            "username": session.username,
            "created": _aware(session.created, "created"),
            "last_seen": _aware(session.last_seen, "last_seen"),
            "csrf_token": session.csrf_token,
        }
        changes = {k: v for k, v in values.items() if k != "token_hash"}
        t = schema.officer_sessions
        if self._conn.dialect.name == "postgresql":
            pg = postgresql.insert(t).values(**values)
            self._conn.execute(
                pg.on_conflict_do_update(index_elements=[t.c.token_hash], set_=changes)
            )
        else:
            lite = sqlite.insert(t).values(**values)
            self._conn.execute(
                lite.on_conflict_do_update(index_elements=[t.c.token_hash], set_=changes)
            )

    def get(self, token_hash: str) -> OfficerSession | None:
        t = schema.officer_sessions
        row = self._conn.execute(select(t).where(t.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return OfficerSession(
            row.token_hash, row.username, row.created, row.last_seen, row.csrf_token
        )

    def touch(self, token_hash: str, when: datetime) -> None:
        """Set the session's last activity; nothing happens for an unknown token."""
        t = schema.officer_sessions
        self._conn.execute(
            update(t).where(t.c.token_hash == token_hash).values(last_seen=_aware(when, "when"))
        )

    def delete(self, token_hash: str) -> None:
        t = schema.officer_sessions
        self._conn.execute(delete(t).where(t.c.token_hash == token_hash))

    def delete_for(self, username: str) -> None:
        t = schema.officer_sessions
        self._conn.execute(delete(t).where(t.c.username == username))


class SqlSystemTokens:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, token: SystemToken) -> None:
        """Keep ``token``; Conflict if a token of the same name (or hash) exists."""
        values = {
            "token_hash": token.token_hash,
            "name": token.name,
            "created": _aware(token.created, "created"),
            "revoked": token.revoked,
        }
        if not _insert_if_absent(self._conn, schema.system_tokens, values):
            raise Conflict(f"a national-system token named {token.name!r} exists")

    def get(self, token_hash: str) -> SystemToken | None:
        t = schema.system_tokens
        row = self._conn.execute(select(t).where(t.c.token_hash == token_hash)).first()
        return None if row is None else _system_token(row)

    def list(self) -> list[SystemToken]:
        t = schema.system_tokens
        return [_system_token(r) for r in self._conn.execute(select(t).order_by(t.c.name))]

    def revoke(self, name: str) -> None:
        t = schema.system_tokens
        result = self._conn.execute(update(t).where(t.c.name == name).values(revoked=True))
        if result.rowcount == 0:
            raise NotFound(f"no national-system token named {name!r}")


def _system_token(row: Row[Any]) -> SystemToken:
    return SystemToken(row.name, row.token_hash, row.created, bool(row.revoked))


class SqlInbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def store(self, event: Event) -> bool:
        values = {
            "id": event.id,
            "recipient": event.recipient,
            "kind": event.kind,
            "created": _aware(event.created, "created"),
            "payload": _payload_text(event.payload),
        }
        return _insert_if_absent(self._conn, schema.inbox, values)

    def last_id(self) -> int:
        last = self._conn.execute(select(func.max(schema.inbox.c.id))).scalar_one()
        return 0 if last is None else int(last)

    def list(self, after_id: int = 0, limit: int = 500) -> list[Event]:
        if limit <= 0:
            return []
        t = schema.inbox
        query = select(t).where(t.c.id > after_id).order_by(t.c.id).limit(limit)
        return [_event(r) for r in self._conn.execute(query)]


class SqlUnitOfWork:
    """The repositories of one transaction on one connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._appends_locked = False
        self.members = SqlMembers(connection)
        self.certificates = SqlCertificates(connection)
        self.audit = SqlAudit(connection, self._lock_appends)
        self.events = SqlEvents(connection, self._lock_appends)
        self.officers = SqlOfficers(connection)
        self.sessions = SqlSessions(connection)
        self.system_tokens = SqlSystemTokens(connection)
        self.inbox = SqlInbox(connection)
        self.records = SqlRecords(connection, self._lock_appends)
        self.copies = SqlCopies(connection)
        self.cases = SqlCases(connection, self._lock_appends)
        self.messages = SqlMessages(connection)
        self.rechecks = SqlRechecks(connection)
        self.webhooks = SqlWebhooks(connection)

    def _lock_appends(self) -> None:
        # SQLite needs nothing: BEGIN IMMEDIATE already made this the only writer.
        if not self._appends_locked and self.connection.dialect.name == "postgresql":
            self.connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY}
            )
        self._appends_locked = True


class SqlStore:
    """A store in a SQL database. Safe to share between threads; close it when done.

    Build it with :func:`policenet.store.database.open_store`, which checks
    the schema first.
    """

    def __init__(
        self,
        engine: Engine,
        where: str,
        *,
        reader: Engine | None = None,
        writer_lock: threading.Lock | None = None,
    ) -> None:
        """``reader`` serves :meth:`reading` (``engine`` if None); ``writer_lock``, if given,
        is held around every :meth:`unit_of_work` (SQLite: one writer at a time, see
        :func:`policenet.store.database.open_store`)."""
        self._engine = engine
        self._reader = reader if reader is not None else engine
        self._where = where
        self._writer_lock = writer_lock

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def where(self) -> str:
        """The database, for messages: a file path, or a URL without its password."""
        return self._where

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """One transaction: commit when the block ends normally, roll back on an exception.

        A database that cannot be reached or stays locked past the busy
        timeout raises Unavailable; a value the database refuses (too long
        for its column) raises InvalidInput.
        """
        lock = self._writer_lock
        if lock is not None:
            if getattr(_WRITING, "store", None) is lock:
                # it would wait for itself: a unit of work inside another on this thread
                raise RuntimeError("a unit of work was begun inside another on the same thread")
            if not lock.acquire(timeout=WRITER_WAIT_SECONDS):
                raise Unavailable(
                    "the database is busy; try again",
                    detail=f"database at {self._where}: no write turn in {WRITER_WAIT_SECONDS} s",
                )
            _WRITING.store = lock
        try:
            with self._translated(), self._engine.begin() as conn:
                yield SqlUnitOfWork(conn)
        finally:
            if lock is not None:
                _WRITING.store = None
                lock.release()

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        """A read-only transaction: one consistent view, never waiting for a writer.

        Writing in it fails (the database refuses it); errors are translated
        as for :meth:`unit_of_work`.
        """
        with self._translated(), self._reader.begin() as conn:
            yield SqlUnitOfWork(conn)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise Unavailable(
                "the database is unavailable; the operator's log has the details",
                detail=f"database at {self._where}: {_reason(exc)}",
            ) from exc
        except DataError as exc:
            raise InvalidInput(
                "the database refused a value (too long or of the wrong kind)",
                detail=f"database at {self._where}: {_reason(exc)}",
            ) from exc

    def close(self) -> None:
        """Close every pooled connection. The store must not be used afterwards."""
        self._engine.dispose()
        self._reader.dispose()


def _reason(exc: Exception) -> str:
    """The first line of the driver's message, without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or ["unknown error"])[0]


def _conforms(store: SqlStore) -> Store:
    """Lets mypy check that the adapter keeps the port's shape."""
    return store


def _uow_conforms(uow: SqlUnitOfWork) -> UnitOfWork:
    return uow


__all__ = ["APPEND_LOCK_KEY", "SqlStore", "SqlUnitOfWork"]
