"""SQL adapter of a node's webhooks and their delivery queue (see :mod:`.ports`).

A delivery row names its event by inbox id; reads join the inbox, so the
event's JSON is stored once however many webhooks it goes to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Row, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from policenet.domain.events import Event
from policenet.errors import Conflict, NotFound
from policenet.store import schema
from policenet.store.ports import Delivery, DeliveryState, Webhook

_CHUNK = 500


def _insert_skipping_clashes(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert rows, skipping any that clash with a key; for one row, whether it went in (1 or 0).

    ON CONFLICT DO NOTHING rather than catching IntegrityError, because on
    PostgreSQL a failed statement aborts the whole transaction.
    """
    if not rows:
        return 0
    statement: Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing()
    # One row goes as a single execution, whose row count every driver reports.
    params = dict(rows[0]) if len(rows) == 1 else [dict(r) for r in rows]
    result = conn.execute(statement.execution_options(preserve_rowcount=True), params)
    return int(result.rowcount)


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        name=row.name,
        url=row.url,
        secret=row.secret,
        kinds=tuple(json.loads(row.kinds)),
        created=row.created,
        active=bool(row.active),
        max_attempts=int(row.max_attempts),
        queued_through=int(row.queued_through),
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        webhook=row.webhook,
        event=Event(int(row.id), row.recipient, row.kind, row.created, json.loads(row.payload)),
        state=DeliveryState(row.state),
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


def _with_events() -> Any:
    d, i = schema.webhook_deliveries, schema.inbox
    return select(d, i).join(i, i.c.id == d.c.event_id)


class SqlWebhooks:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _known(self, name: str) -> None:
        if self.get(name) is None:
            raise NotFound(f"no webhook named {name!r}")

    def add(self, webhook: Webhook) -> None:
        values = {
            "name": webhook.name,
            "url": webhook.url,
            "secret": webhook.secret,
            "kinds": json.dumps(list(webhook.kinds)),
            "active": webhook.active,
            "max_attempts": webhook.max_attempts,
            "queued_through": webhook.queued_through,
            "created": webhook.created,
        }
        if _insert_skipping_clashes(self._conn, schema.webhooks, [values]) != 1:
            raise Conflict(f"a webhook named {webhook.name!r} exists")

    def get(self, name: str) -> Webhook | None:
        t = schema.webhooks
        row = self._conn.execute(select(t).where(t.c.name == name)).first()
        return None if row is None else _webhook(row)

    def remove(self, name: str) -> None:
        t, d = schema.webhooks, schema.webhook_deliveries
        if self._conn.execute(delete(t).where(t.c.name == name)).rowcount == 0:
            raise NotFound(f"no webhook named {name!r}")
        self._conn.execute(delete(d).where(d.c.webhook == name))

    def set_active(self, name: str, active: bool) -> None:
        t = schema.webhooks
        if (
            self._conn.execute(update(t).where(t.c.name == name).values(active=active)).rowcount
            == 0
        ):
            raise NotFound(f"no webhook named {name!r}")

    def queue(self, name: str, event_ids: Sequence[int], through: int, now: datetime) -> None:
        t = schema.webhooks
        self._known(name)
        rows = [
            {
                "webhook": name,
                "event_id": event_id,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for event_id in sorted(set(event_ids))
        ]
        for start in range(0, len(rows), _CHUNK):
            _insert_skipping_clashes(
                self._conn, schema.webhook_deliveries, rows[start : start + _CHUNK]
            )
        self._conn.execute(
            update(t)
            .where(t.c.name == name, t.c.queued_through < through)
            .values(queued_through=through)
        )

    def head(self, name: str) -> Delivery | None:
        d = schema.webhook_deliveries
        query = (
            _with_events()
            .where(d.c.webhook == name, d.c.state == DeliveryState.PENDING.value)
            .order_by(d.c.event_id)
            .limit(1)
        )
        row = self._conn.execute(query).first()
        return None if row is None else _delivery(row)

    def save(self, delivery: Delivery) -> None:
        d = schema.webhook_deliveries
        self._conn.execute(
            update(d)
            .where(d.c.webhook == delivery.webhook, d.c.event_id == delivery.event.id)
            .values(
                state=delivery.state.value,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                last_attempt_at=delivery.last_attempt_at,
                last_error=delivery.last_error,
                delivered_at=delivery.delivered_at,
            )
        )

    def dead_letters(self, name: str, after_id: int, limit: int) -> list[Delivery]:
        if limit <= 0:
            return []
        d = schema.webhook_deliveries
        query = (
            _with_events()
            .where(
                d.c.webhook == name,
                d.c.state == DeliveryState.DEAD.value,
                d.c.event_id > after_id,
            )
            .order_by(d.c.event_id)
            .limit(limit)
        )
        return [_delivery(r) for r in self._conn.execute(query)]

    def revive(self, name: str, event_id: int | None, now: datetime) -> int:
        d = schema.webhook_deliveries
        query = update(d).where(d.c.webhook == name, d.c.state == DeliveryState.DEAD.value)
        if event_id is not None:
            query = query.where(d.c.event_id == event_id)
        result = self._conn.execute(
            query.values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now)
        )
        return int(result.rowcount)

    def counts(self, name: str) -> dict[DeliveryState, int]:
        d = schema.webhook_deliveries
        query = select(d.c.state, func.count()).where(d.c.webhook == name).group_by(d.c.state)
        found = {DeliveryState(state): int(n) for state, n in self._conn.execute(query)}
        return {state: found.get(state, 0) for state in DeliveryState}

    def forget_delivered(self, before: datetime) -> int:
        d = schema.webhook_deliveries
        result = self._conn.execute(
            delete(d).where(d.c.state == DeliveryState.DELIVERED.value, d.c.delivered_at < before)
        )
        return int(result.rowcount)

    def list(self) -> list[Webhook]:
        t = schema.webhooks
        return [_webhook(r) for r in self._conn.execute(select(t).order_by(t.c.name))]
