"""Following the hub's event stream from the node (nodes sit behind firewalls).

The node opens the stream itself and keeps it open. Each event is stored in
the node's own database before the next is read; the id of the last stored
event is where a reconnection resumes, so events arrive at least once and in
order, and an event seen twice is stored once (the inbox ignores known ids).
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

    def _store_event(self, event: Event) -> bool:
        with self._store.unit_of_work() as uow:
            return uow.inbox.store(event)

    def _last_id(self) -> int:
        with self._store.unit_of_work() as uow:
            return uow.inbox.last_id()

    async def follow_once(self) -> None:
        """Read the stream from the last stored id until it ends or breaks."""
        after = await run_in_threadpool(self._last_id)
        self.state.last_event_id = after
        async for event in self._hub.events(after):
            self.state.connected = True
            self.state.last_error = None
            self.state.last_contact = self._clock()
            if event is None:
                continue
            if event.id <= self.state.last_event_id:
                continue
            if await run_in_threadpool(self._store_event, event) and self._on_event:
                self._on_event(event)
            self.state.last_event_id = event.id

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
