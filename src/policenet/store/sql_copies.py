"""SQL adapters of a node's offline copies and pending re-checks (see :mod:`.ports`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from policenet.store import schema
from policenet.store.ports import CopyState, Recheck

_CHUNK = 500


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SqlCopies:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def state(self, register: str) -> CopyState | None:
        t = schema.copy_state
        row = self._conn.execute(select(t).where(t.c.register == register)).first()
        if row is None:
            return None
        return CopyState(
            position=row.position,
            synced_at=row.synced_at,
            hub_key=row.hub_key,
            snapshot_done=bool(row.snapshot_done),
            snapshot_key=row.snapshot_key,
        )

    def set_state(self, register: str, state: CopyState) -> None:
        t = schema.copy_state
        values = {
            "position": state.position,
            "synced_at": state.synced_at,
            "hub_key": state.hub_key,
            "snapshot_done": state.snapshot_done,
            "snapshot_key": state.snapshot_key,
        }
        changed = self._conn.execute(update(t).where(t.c.register == register).values(values))
        if changed.rowcount == 0:
            self._conn.execute(insert(t).values(register=register, **values))

    def put(self, register: str, entries: Sequence[Mapping[str, Any]]) -> None:
        if not entries:
            return
        t = schema.copy_entries
        keys = [str(e["key"]) for e in entries]
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            self._conn.execute(delete(t).where(t.c.register == register, t.c.key.in_(chunk)))
        self._conn.execute(
            insert(t),
            [
                {
                    "register": register,
                    "key": str(e["key"]),
                    "key_hash": _hash(str(e["key"])),
                    "entry": json.dumps(e, sort_keys=True, ensure_ascii=False),
                }
                for e in entries
            ],
        )

    def keys_hashed(self, register: str, hashes: Sequence[str]) -> list[str]:
        t = schema.copy_entries
        found: list[str] = []
        for start in range(0, len(hashes), _CHUNK):
            chunk = list(hashes[start : start + _CHUNK])
            query = select(t.c.key).where(t.c.register == register, t.c.key_hash.in_(chunk))
            found += list(self._conn.execute(query).scalars())
        return sorted(found)

    def remove_hashed(self, register: str, hashes: Sequence[str]) -> int:
        t = schema.copy_entries
        gone = 0
        for start in range(0, len(hashes), _CHUNK):
            chunk = list(hashes[start : start + _CHUNK])
            result = self._conn.execute(
                delete(t).where(t.c.register == register, t.c.key_hash.in_(chunk))
            )
            gone += result.rowcount
        return gone

    def clear(self, register: str) -> None:
        self._conn.execute(
            delete(schema.copy_entries).where(schema.copy_entries.c.register == register)
        )

    def keys(self, register: str, after: str, limit: int) -> list[str]:
        t = schema.copy_entries
        query = (
            select(t.c.key)
            .where(t.c.register == register, t.c.key > after)
            .order_by(t.c.key)
            .limit(limit)
        )
        return list(self._conn.execute(query).scalars())

    def get_many(self, register: str, keys: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        t = schema.copy_entries
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            query = select(t.c.key, t.c.entry).where(t.c.register == register, t.c.key.in_(chunk))
            found.update((row.key, json.loads(row.entry)) for row in self._conn.execute(query))
        return found


class SqlRechecks:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(
        self, register: str, probe: Mapping[str, Any], officer: str | None, created: datetime
    ) -> int:
        result = self._conn.execute(
            insert(schema.rechecks).values(
                register=register,
                probe=json.dumps(dict(probe), sort_keys=True),
                officer=officer,
                created=created,
                done=False,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def pending(self, register: str, limit: int) -> list[Recheck]:
        t = schema.rechecks
        query = (
            select(t)
            .where(t.c.register == register, t.c.done.is_(False))
            .order_by(t.c.id)
            .limit(limit)
        )
        return [
            Recheck(r.id, r.register, json.loads(r.probe), r.officer, r.created)
            for r in self._conn.execute(query)
        ]

    def done(self, ids: Sequence[int]) -> None:
        t = schema.rechecks
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            self._conn.execute(update(t).where(t.c.id.in_(chunk)).values(done=True))
