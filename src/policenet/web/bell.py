"""Waking the event streams of one process when something new arrives.

The hub rings its bell when it appends events (its members' streams wake at
once); a node rings its bell when its follower stores an event from the hub
(the web UI's live inbox wakes at once). Streams still poll now and then, for
what another process wrote.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class EventBell:
    """Wakes the event streams of this process (see the module docstring)."""

    _waiters: set[asyncio.Event] = field(default_factory=set)

    def ring(self) -> None:
        for waiter in list(self._waiters):
            waiter.set()

    async def wait(self, timeout: float) -> None:
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)
