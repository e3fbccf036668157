"""The SQL adapter of the record repository (see :class:`policenet.store.ports.RecordRepository`).

Bulk loads put thousands of records per call, so every method works on a
whole batch: one SELECT for the keys present, then one executemany for the
inserts, one for the updates and one for the change feed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, or_, select, update

from policenet.domain.envelope import (
    Envelope,
    Mode,
    restrictions_from_dict,
    restrictions_to_dict,
)
from policenet.store import schema
from policenet.store.ports import PutOutcome, RecordChange, RecordPut, StoredRecord

_CHUNK = 500
_UPDATED = (
    "owner",
    "payload",
    "created",
    "updated",
    "expires",
    "review_due",
    "mode",
    "restrictions",
    "caveats",
)
"""Keys per IN (...) query: under SQLite's and PostgreSQL's parameter limits."""


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _values(register: str, item: RecordPut, created: datetime, now: datetime) -> dict[str, Any]:
    e = item.envelope
    return {
        "register": register,
        "key": item.key,
        "owner": e.owner,
        "payload": _json(item.payload),
        "created": created,
        "updated": now,
        "expires": e.expires,
        "review_due": e.review_due,
        "mode": e.mode.value,
        "restrictions": _json(restrictions_to_dict(e.restrictions)),
        "caveats": e.caveats,
    }


def _same(row: Row[Any], values: Mapping[str, Any]) -> bool:
    return all(
        getattr(row, name) == values[name]
        for name in ("owner", "payload", "expires", "review_due", "mode", "restrictions", "caveats")
    )


def _record(row: Row[Any]) -> StoredRecord:
    envelope = Envelope(
        owner=row.owner,
        created=row.created,
        expires=row.expires,
        review_due=row.review_due,
        mode=Mode(row.mode),
        restrictions=restrictions_from_dict(json.loads(row.restrictions)),
        caveats=row.caveats,
    )
    return StoredRecord(row.register, row.key, json.loads(row.payload), envelope, row.updated)


class SqlRecords:
    def __init__(self, conn: Connection, lock_appends: Callable[[], None]) -> None:
        self._conn = conn
        self._lock_appends = lock_appends

    def _rows(self, register: str, keys: Sequence[str]) -> dict[str, Row[Any]]:
        t = schema.register_records
        found: dict[str, Row[Any]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            query = select(t).where(t.c.register == register, t.c.key.in_(chunk))
            found.update((row.key, row) for row in self._conn.execute(query))
        return found

    def _log(self, register: str, keys: Sequence[str], removed: bool, now: datetime) -> None:
        if keys:
            self._lock_appends()
            self._conn.execute(
                insert(schema.register_changes),
                [{"register": register, "key": k, "removed": removed, "at": now} for k in keys],
            )

    def put_many(
        self, register: str, items: Sequence[RecordPut], now: datetime
    ) -> list[PutOutcome]:
        existing = self._rows(register, [i.key for i in items])
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        outcomes: list[PutOutcome] = []
        for item in items:
            row = existing.get(item.key)
            values = _values(register, item, row.created if row else now, now)
            if row is None:
                inserts.append(values)
                outcomes.append(PutOutcome.ADDED)
            elif _same(row, values):
                outcomes.append(PutOutcome.UNCHANGED)
            else:
                updates.append({**values, "b_register": register, "b_key": item.key})
                outcomes.append(PutOutcome.CHANGED)
        t = schema.register_records
        if inserts:
            self._conn.execute(insert(t), inserts)
        if updates:
            statement = (
                update(t)
                .where(t.c.register == bindparam("b_register"), t.c.key == bindparam("b_key"))
                .values({name: bindparam(name) for name in _UPDATED})
            )
            self._conn.execute(statement, updates)
        self._log(register, [v["key"] for v in inserts] + [v["key"] for v in updates], False, now)
        return outcomes

    def remove_many(self, register: str, keys: Sequence[str], now: datetime) -> list[bool]:
        present = set(self._rows(register, keys))
        t = schema.register_records
        gone = [k for k in keys if k in present]
        for start in range(0, len(gone), _CHUNK):
            chunk = gone[start : start + _CHUNK]
            self._conn.execute(delete(t).where(t.c.register == register, t.c.key.in_(chunk)))
        self._log(register, gone, True, now)
        return [k in present for k in keys]

    def get_many(self, register: str, keys: Sequence[str]) -> dict[str, StoredRecord]:
        return {k: _record(row) for k, row in self._rows(register, keys).items()}

    def keys(self, register: str, after: str, limit: int) -> list[str]:
        t = schema.register_records
        query = (
            select(t.c.key)
            .where(t.c.register == register, t.c.key > after)
            .order_by(t.c.key)
            .limit(limit)
        )
        return list(self._conn.execute(query).scalars())

    def changes(self, register: str, after_seq: int, limit: int) -> list[RecordChange]:
        t = schema.register_changes
        query = (
            select(t)
            .where(t.c.register == register, t.c.seq > after_seq)
            .order_by(t.c.seq)
            .limit(limit)
        )
        return [
            RecordChange(r.seq, r.register, r.key, bool(r.removed), r.at)
            for r in self._conn.execute(query)
        ]

    def last_change(self, register: str) -> int:
        t = schema.register_changes
        query = select(func.max(t.c.seq)).where(t.c.register == register)
        return int(self._conn.execute(query).scalar() or 0)

    def count(self, register: str) -> int:
        t = schema.register_records
        query = select(func.count()).select_from(t).where(t.c.register == register)
        return int(self._conn.execute(query).scalar() or 0)

    def expiring(self, register: str, before: datetime, limit: int) -> list[StoredRecord]:
        t = schema.register_records
        query = (
            select(t)
            .where(
                t.c.register == register,
                t.c.expires.is_not(None),
                t.c.expires < before,
                or_(t.c.reminded_expiry.is_(None), t.c.reminded_expiry != t.c.expires),
            )
            .order_by(t.c.expires)
            .limit(limit)
        )
        return [_record(r) for r in self._conn.execute(query)]

    def reviews_due(self, register: str, before: datetime, limit: int) -> list[StoredRecord]:
        t = schema.register_records
        query = (
            select(t)
            .where(
                t.c.register == register,
                t.c.review_due.is_not(None),
                t.c.review_due < before,
                or_(t.c.reminded_review.is_(None), t.c.reminded_review != t.c.review_due),
            )
            .order_by(t.c.review_due)
            .limit(limit)
        )
        return [_record(r) for r in self._conn.execute(query)]

    def mark_reminded(self, register: str, key: str, expiry: bool) -> None:
        t = schema.register_records
        column, source = (
            ("reminded_expiry", t.c.expires) if expiry else ("reminded_review", t.c.review_due)
        )
        self._conn.execute(
            update(t).where(t.c.register == register, t.c.key == key).values({column: source})
        )

    def expired(self, register: str, before: datetime, limit: int) -> list[str]:
        t = schema.register_records
        query = (
            select(t.c.key)
            .where(t.c.register == register, t.c.expires.is_not(None), t.c.expires < before)
            .order_by(t.c.expires)
            .limit(limit)
        )
        return list(self._conn.execute(query).scalars())
