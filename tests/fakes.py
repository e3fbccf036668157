"""Fakes of the ports that unit tests use beside :class:`policenet.store.memory.MemoryStore`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from policenet.domain.events import Event
from policenet.errors import NotFound, Unavailable
from policenet.node.hubclient import HubClient


class FakeHub:
    """A hub in memory: answers from canned routes and streams the events it holds.

    ``routes`` maps (method, path) to an answer. ``log`` holds the hub's events;
    ``drop_after`` makes each stream break after that many events (a flaky
    network), and ``down`` makes every call raise Unavailable.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.log: list[Event] = []
        self.calls: list[tuple[str, str, str | None, Any]] = []
        self.drop_after: int | None = None
        self.down = False
        self.streams_opened = 0

    def _answer(self, method: str, path: str, officer: str | None, body: Any) -> Any:
        self.calls.append((method, path, officer, body))
        if self.down:
            raise Unavailable("fake hub is down")
        if (method, path) not in self.routes:
            raise NotFound(f"the fake hub has no answer for {method} {path}")
        return self.routes[(method, path)]

    async def get(
        self, path: str, *, officer: str | None = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        return self._answer("GET", path, officer, dict(params or {}))

    async def put(self, path: str, body: Any, *, officer: str | None = None) -> Any:
        return self._answer("PUT", path, officer, body)

    async def post(self, path: str, body: Any, *, officer: str | None = None) -> Any:
        return self._answer("POST", path, officer, body)

    async def post_raw(self, path: str, body: Any, *, officer: str | None = None) -> bytes:
        return json.dumps(await self.post(path, body, officer=officer)).encode()

    async def post_stream(
        self,
        path: str,
        chunks: AsyncIterator[bytes],
        *,
        params: Mapping[str, Any] | None = None,
        officer: str | None = None,
    ) -> Any:
        body = b"".join([chunk async for chunk in chunks])
        return self._answer(
            "POST-STREAM", path, officer, {"params": dict(params or {}), "body": body}
        )

    async def _stream(self, path: str, officer: str | None) -> AsyncIterator[bytes]:
        for chunk in self._answer("GET-STREAM", path, officer, None):
            yield chunk

    def get_stream(self, path: str, *, officer: str | None = None) -> AsyncIterator[bytes]:
        return self._stream(path, officer)

    async def events_after(self, after: int) -> AsyncIterator[Event | None]:
        if self.down:
            raise Unavailable("fake hub is down")
        self.streams_opened += 1
        for sent, event in enumerate(e for e in self.log if e.id > after):
            if self.drop_after is not None and sent >= self.drop_after:
                raise Unavailable("fake stream dropped")
            yield event
            await asyncio.sleep(0)
        yield None  # a heartbeat, then the stream ends

    def events(self, after: int) -> AsyncIterator[Event | None]:
        return self.events_after(after)

    async def aclose(self) -> None:
        """Nothing to release."""


def as_port(hub: FakeHub) -> HubClient:
    """Lets mypy check that the fake keeps the port's shape."""
    return hub
