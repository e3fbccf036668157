"""The node's event follower: at least once, in order, resumable, applied once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from policenet.domain.events import Event
from policenet.errors import Unavailable
from policenet.node.follower import STORE_BATCH, EventFollower
from policenet.store.memory import MemoryStore
from tests.fakes import FakeHub

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _events(n: int) -> list[Event]:
    return [Event(i, "ncb-gb", "hub.notice", T0, {"n": i}) for i in range(1, n + 1)]


def _inbox(store: MemoryStore) -> list[int]:
    with store.unit_of_work() as uow:
        return [e.id for e in uow.inbox.list(0, 5000)]


def test_follow_once_stores_every_event_in_order() -> None:
    hub, store = FakeHub(), MemoryStore()
    hub.log = _events(5)
    follower = EventFollower(hub, store, lambda: T0)
    asyncio.run(follower.follow_once())
    assert _inbox(store) == [1, 2, 3, 4, 5]
    assert follower.state.last_event_id == 5
    assert follower.state.connected


def test_a_dropped_stream_resumes_from_the_last_stored_event_without_duplicates() -> None:
    hub, store = FakeHub(), MemoryStore()
    hub.log = _events(7)
    hub.drop_after = 3
    applied: list[int] = []
    follower = EventFollower(hub, store, lambda: T0, on_event=lambda e: applied.append(e.id))

    async def until_caught_up() -> None:
        task = asyncio.create_task(follower.run())
        for _ in range(200):
            if follower.state.last_event_id == 7:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    follower._max_backoff = 0.01
    asyncio.run(until_caught_up())
    assert _inbox(store) == list(range(1, 8))
    assert applied == list(range(1, 8)), "an event was applied twice or skipped"
    assert hub.streams_opened >= 3


def test_an_event_seen_again_is_not_applied_again() -> None:
    hub, store = FakeHub(), MemoryStore()
    hub.log = _events(3)
    applied: list[int] = []
    asyncio.run(
        EventFollower(hub, store, lambda: T0, on_event=lambda e: applied.append(e.id)).follow_once()
    )
    # a new follower (the node restarted) is offered the same events again
    asyncio.run(
        EventFollower(hub, store, lambda: T0, on_event=lambda e: applied.append(e.id)).follow_once()
    )
    assert applied == [1, 2, 3]


def test_an_unreachable_hub_is_reported_in_the_connection_state() -> None:
    hub, store = FakeHub(), MemoryStore()
    hub.down = True
    follower = EventFollower(hub, store, lambda: T0, max_backoff=0.01)

    async def briefly() -> None:
        task = asyncio.create_task(follower.run())
        await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(briefly())
    assert follower.state.connected is False
    assert follower.state.last_error == "fake hub is down"
    assert follower.state.reconnects >= 1


class CountingStore(MemoryStore):
    """A MemoryStore that counts its units of work."""

    units = 0

    def unit_of_work(self) -> Any:
        self.units += 1
        return super().unit_of_work()


def test_a_burst_of_events_is_stored_in_order_in_a_few_transactions() -> None:
    hub, store = FakeHub(), CountingStore()
    hub.log = _events(1200)
    applied: list[int] = []
    follower = EventFollower(hub, store, lambda: T0, on_event=lambda e: applied.append(e.id))
    asyncio.run(follower.follow_once())
    assert _inbox(store) == list(range(1, 1201))
    assert applied == list(range(1, 1201))
    # one to read the last id, then batches of what had arrived (at most 500 each)
    assert 1 + 1200 // STORE_BATCH <= store.units <= 60, store.units


def test_events_read_before_the_stream_broke_are_stored_and_the_break_is_raised() -> None:
    hub, store = FakeHub(), MemoryStore()
    hub.log = _events(5)
    hub.drop_after = 3
    follower = EventFollower(hub, store, lambda: T0)
    with pytest.raises(Unavailable, match="dropped"):
        asyncio.run(follower.follow_once())
    assert _inbox(store) == [1, 2, 3]
    assert follower.state.last_event_id == 3
