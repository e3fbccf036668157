"""Following the hub's event stream from the node (nodes sit behind firewalls).

The node opens the stream itself and keeps it open. Events are stored in the
node's own database in the order they came, what has arrived together in one
transaction (up to :data:`STORE_BATCH`: a burst of hit events is stored at
the cost of a few commits, not one each); the id of the last stored event is
where a reconnection resumes, so events arrive at least once and in order,
and an event seen twice is stored once (the inbox ignores known ids). The
stream is read on while a batch is stored, up to :data:`STORE_BATCH` events
ahead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from policenet.domain.events import Event
from policenet.errors import PolicenetError
from policenet.node.hubclient import HubClient
from policenet.store.ports import Store

log = logging.getLogger("policenet.node")

STORE_BATCH = 500
"""Events stored in one transaction at most (and read ahead of the store at most)."""


class _StreamEnded:
    """Put on the queue when the stream ends; ``error`` is what ended it, if it broke."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


@dataclass
class ConnectionState:
    """What the node knows about its link to the hub, for officers and operators."""

    connected: bool = False
    last_contact: datetime | None = None
    last_event_id: int = 0
    last_error: str | None = None
    reconnects: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "connected": self.connected,
            "last_contact": self.last_contact.isoformat() if self.last_contact else None,
            "last_event_id": self.last_event_id,
            "last_error": self.last_error,
            "reconnects": self.reconnects,
        }


class EventFollower:
    """Keeps the node's inbox in step with the hub. Run :meth:`run` as a background task."""

    def __init__(
        self,
        hub: HubClient,
        store: Store,
        clock: Callable[[], datetime],
        *,
        on_event: Callable[[Event], None] | None = None,
        max_backoff: float = 10.0,
    ) -> None:
        self._hub = hub
        self._store = store
        self._clock = clock
        self._on_event = on_event
        self._max_backoff = max_backoff
        self.state = ConnectionState()

    def _store_events(self, events: list[Event]) -> list[Event]:
        """Store ``events`` in one transaction; the ones that were new."""
        with self._store.unit_of_work() as uow:
            return [event for event in events if uow.inbox.store(event)]

    def _last_id(self) -> int:
        with self._store.reading() as uow:
            return uow.inbox.last_id()

    async def follow_once(self) -> None:
        """Read the stream from the last stored id until it ends or breaks (raising what
        broke it, once every event read before is stored)."""
        after = await run_in_threadpool(self._last_id)
        self.state.last_event_id = after
        arrived: asyncio.Queue[Event | _StreamEnded] = asyncio.Queue(maxsize=STORE_BATCH)
        reader = asyncio.create_task(self._read(after, arrived))
        try:
            ended: _StreamEnded | None = None
            while ended is None:
                batch: list[Event] = []
                last = self.state.last_event_id
                item = await arrived.get()
                while True:
                    if isinstance(item, _StreamEnded):
                        ended = item
                        break
                    if item.id > last:  # an event seen before is not stored again
                        batch.append(item)
                        last = item.id
                    if len(batch) >= STORE_BATCH or arrived.empty():
                        break
                    item = arrived.get_nowait()
                if batch:
                    new = await run_in_threadpool(self._store_events, batch)
                    self.state.last_event_id = batch[-1].id
                    if self._on_event:
                        for event in new:
                            self._on_event(event)
            if ended.error is not None:
                raise ended.error
        finally:
            reader.cancel()

    async def _read(self, after: int, arrived: asyncio.Queue[Event | _StreamEnded]) -> None:
        """Put the stream's events on ``arrived``, then how it ended."""
        try:
            async for event in self._hub.events(after):
                self.state.connected = True
                self.state.last_error = None
                self.state.last_contact = self._clock()
                if event is not None:
                    await arrived.put(event)
        except Exception as exc:  # handed to follow_once, which raises it
            await arrived.put(_StreamEnded(exc))
            return
        await arrived.put(_StreamEnded())

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self.follow_once()
                self.state.last_error = "the hub closed the event stream"
            except PolicenetError as exc:
                self.state.last_error = exc.message
            except Exception as exc:
                log.exception("event stream failed")
                self.state.last_error = f"unexpected error: {type(exc).__name__}"
            if self.state.connected:
                backoff = 0.2
            self.state.connected = False
            self.state.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)
