"""SQL adapters of cases, their timelines and sealed messages (see :mod:`.ports`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, update

from policenet.domain.cases import Case, CaseState, RejectionReason, case_number
from policenet.domain.registers import RegisterName
from policenet.errors import Conflict, NotFound
from policenet.store import schema
from policenet.store.ports import StoredMessage, TimelineEntry

_CHUNK = 500
"""Keys per IN (...) query: under SQLite's and PostgreSQL's parameter limits."""


def _case_values(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "register": case.register.value,
        "record_key": case.record_key,
        "owner": case.owner,
        "owner_ncb": case.owner_ncb,
        "enquirer": case.enquirer,
        "enquirer_officer": case.enquirer_officer,
        "enquirer_ncb": case.enquirer_ncb,
        "urgent": case.urgent,
        "state": case.state.value,
        "opened": case.opened,
        "deadline": case.deadline,
        "updated": case.updated,
        "hit": json.dumps(dict(case.hit), sort_keys=True, ensure_ascii=False),
        "reason": case.reason.value if case.reason else None,
        "note": case.note,
        "escalated": case.escalated,
    }


def _timeline_values(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "case_number": entry.case,
        "at": entry.at,
        "actor": entry.actor,
        "officer": entry.officer,
        "action": entry.action,
        "detail": json.dumps(dict(entry.detail), sort_keys=True, ensure_ascii=False),
    }


def _case(row: Row[Any]) -> Case:
    return Case(
        number=row.number,
        register=RegisterName(row.register),
        record_key=row.record_key,
        owner=row.owner,
        owner_ncb=row.owner_ncb,
        enquirer=row.enquirer,
        enquirer_officer=row.enquirer_officer,
        enquirer_ncb=row.enquirer_ncb,
        urgent=bool(row.urgent),
        state=CaseState(row.state),
        opened=row.opened,
        deadline=row.deadline,
        updated=row.updated,
        hit=json.loads(row.hit),
        reason=RejectionReason(row.reason) if row.reason else None,
        note=row.note,
        escalated=bool(row.escalated),
    )


class SqlCases:
    def __init__(self, conn: Connection, lock_appends: Callable[[], None]) -> None:
        self._conn = conn
        self._lock_appends = lock_appends

    def next_number(self, year: int) -> str:
        self._lock_appends()
        t = schema.cases
        # a range on the primary key (not LIKE, not COUNT): one index probe however many cases
        newest = self._conn.execute(
            select(func.max(t.c.number)).where(
                t.c.number >= f"PN-{year}-", t.c.number < f"PN-{year}."
            )
        ).scalar()
        last = int(str(newest).rsplit("-", 1)[1]) if newest else 0
        return case_number(year, last + 1)

    def next_numbers(self, year: int, count: int) -> list[str]:
        if count <= 0:
            return []
        first = int(self.next_number(year).rsplit("-", 1)[1])
        return [case_number(year, first + n) for n in range(count)]

    def add(self, case: Case) -> None:
        if self.get(case.number) is not None:
            raise Conflict(f"case {case.number} exists")
        self._conn.execute(insert(schema.cases).values(_case_values(case)))

    def add_many(self, cases: Sequence[Case]) -> None:
        if not cases:
            return
        numbers = [c.number for c in cases]
        seen: set[str] = set()
        for number in numbers:
            if number in seen:
                raise Conflict(f"case {number} exists")
            seen.add(number)
        t = schema.cases
        for start in range(0, len(numbers), _CHUNK):
            chunk = numbers[start : start + _CHUNK]
            existing = self._conn.execute(select(t.c.number).where(t.c.number.in_(chunk))).first()
            if existing is not None:
                raise Conflict(f"case {existing.number} exists")
        self._conn.execute(insert(t), [_case_values(c) for c in cases])

    def update(self, case: Case) -> None:
        t = schema.cases
        done = self._conn.execute(
            update(t).where(t.c.number == case.number).values(_case_values(case))
        )
        if done.rowcount == 0:
            raise NotFound(f"no case {case.number}")

    def get(self, number: str) -> Case | None:
        t = schema.cases
        row = self._conn.execute(select(t).where(t.c.number == number)).first()
        return _case(row) if row else None

    def open_for(self, register: str, record_key: str, enquirer: str) -> Case | None:
        t = schema.cases
        row = self._conn.execute(
            select(t)
            .where(
                t.c.register == register,
                t.c.record_key == record_key,
                t.c.enquirer == enquirer,
                t.c.state != CaseState.CLOSED.value,
            )
            .order_by(t.c.opened.desc())
            .limit(1)
        ).first()
        return _case(row) if row else None

    def open_for_many(
        self, register: str, record_keys: Sequence[str], enquirer: str
    ) -> dict[str, Case]:
        t = schema.cases
        found: dict[str, Case] = {}
        keys = list(dict.fromkeys(record_keys))
        for start in range(0, len(keys), _CHUNK):
            rows = self._conn.execute(
                select(t)
                .where(
                    t.c.register == register,
                    t.c.record_key.in_(keys[start : start + _CHUNK]),
                    t.c.enquirer == enquirer,
                    t.c.state != CaseState.CLOSED.value,
                )
                .order_by(t.c.opened.desc())
            )
            for row in rows:
                if row.record_key not in found:  # the newest case of each key comes first
                    found[row.record_key] = _case(row)
        return found

    def for_member(self, code: str, include_closed: bool, limit: int) -> list[Case]:
        t = schema.cases
        query = select(t).where(
            or_(
                t.c.owner == code,
                t.c.owner_ncb == code,
                t.c.enquirer == code,
                t.c.enquirer_ncb == code,
            )
        )
        if not include_closed:
            query = query.where(t.c.state != CaseState.CLOSED.value)
        query = query.order_by(t.c.urgent.desc(), t.c.deadline).limit(limit)
        return [_case(r) for r in self._conn.execute(query)]

    def due(self, now: datetime, limit: int) -> list[Case]:
        t = schema.cases
        query = (
            select(t)
            .where(
                t.c.state.in_([CaseState.OPEN.value, CaseState.ACKNOWLEDGED.value]),
                t.c.deadline <= now,
                t.c.escalated.is_(False),
            )
            .order_by(t.c.deadline)
            .limit(limit)
        )
        return [_case(r) for r in self._conn.execute(query)]

    def add_timeline(self, entry: TimelineEntry) -> None:
        self._conn.execute(insert(schema.case_timeline).values(_timeline_values(entry)))

    def add_timeline_many(self, entries: Sequence[TimelineEntry]) -> None:
        if entries:
            self._conn.execute(insert(schema.case_timeline), [_timeline_values(e) for e in entries])

    def timeline(self, number: str) -> list[TimelineEntry]:
        t = schema.case_timeline
        rows = self._conn.execute(select(t).where(t.c.case_number == number).order_by(t.c.id))
        return [
            TimelineEntry(r.case_number, r.at, r.actor, r.officer, r.action, json.loads(r.detail))
            for r in rows
        ]


def _message(row: Row[Any]) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        case=row.case_number,
        sender=row.sender,
        recipients=tuple(row.recipients.split(",")) if row.recipients else (),
        kind=row.kind,
        created=row.created,
        sealed=json.loads(row.sealed),
        attachments=row.attachments,
    )


class SqlMessages:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, message: StoredMessage) -> int:
        result = self._conn.execute(
            insert(schema.messages).values(
                sealed_id=str(message.sealed["header"]["id"]),
                case_number=message.case,
                sender=message.sender,
                recipients=",".join(message.recipients),
                kind=message.kind,
                created=message.created,
                sealed=json.dumps(dict(message.sealed), sort_keys=True),
                attachments=message.attachments,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get(self, message_id: int) -> StoredMessage | None:
        t = schema.messages
        row = self._conn.execute(select(t).where(t.c.id == message_id)).first()
        return _message(row) if row else None

    def by_sealed_id(self, sealed_id: str) -> StoredMessage | None:
        t = schema.messages
        row = self._conn.execute(select(t).where(t.c.sealed_id == sealed_id)).first()
        return _message(row) if row else None

    def for_member(
        self, code: str, case: str | None, after_id: int, limit: int
    ) -> list[StoredMessage]:
        t = schema.messages
        query = select(t).where(t.c.id > after_id)
        if case is not None:
            query = query.where(t.c.case_number == case)
        query = query.order_by(t.c.id)
        found: list[StoredMessage] = []
        # recipients are a short comma list; filter here rather than with LIKE patterns
        for row in self._conn.execute(query):
            message = _message(row)
            if code == message.sender or code in message.recipients:
                found.append(message)
                if len(found) >= limit:
                    break
        return found
