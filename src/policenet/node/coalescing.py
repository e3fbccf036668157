"""Concurrent document checks of one caller go to the hub as one request.

A border crossing's national system sends single checks from many gates at
once, all under one identity. Each request to the hub has a fixed cost (a
request over the tunnel, the hub's certificate check, one audit entry, one
transaction) far above the cost of one more document in it, so the node
merges what arrives while a check of the same caller is with the hub:

- a check that finds no request of its caller in flight goes at once: no
  timer, nothing waits when the node is quiet;
- checks arriving meanwhile queue; when the request in flight returns, all of
  them go in one request (up to :data:`MAX_CHECK_BATCH` documents, the rest in
  the next), so under load a caller has at most one request with the hub;
- the hub's answer is split back: each check gets its own answers, numbered
  from 0 in its own order, with the request's ``checked_at`` and ``source``
  (a check that went alone gets the hub's JSON as it came, never decoded; a
  merged answer that does not hold one answer per document is refused);
- an error from the hub (unreachable, refused) reaches every check of that
  request, each of which then falls back to the offline copy as it would alone.

Checks are merged only when they share the caller (the officer or national
system the node vouches for) and ``tolerant``: the hub decides access and
audits per caller. The hub's audit entry says how many checks one request
carried (``requests`` in its detail), so nothing about who asked what is lost.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic_core

from policenet.errors import IntegrityFailure, Unavailable
from policenet.node.hubclient import HubClient
from policenet.registers.documents.requests import MAX_CHECK_BATCH

CHECK_PATH = "/v1/documents/check"


@dataclass
class _Check:
    documents: Sequence[Mapping[str, Any]]
    answer: asyncio.Future[bytes]


@dataclass
class _Lane:
    """The checks of one caller waiting for the hub, and the task sending them (a lane
    exists while its task runs, and no longer)."""

    waiting: deque[_Check] = field(default_factory=deque)
    sending: asyncio.Task[None] | None = None


class CheckCoalescer:
    """Sends one caller's concurrent document checks to the hub as few requests as it can."""

    def __init__(self, hub: HubClient, *, limit: int = MAX_CHECK_BATCH) -> None:
        self._hub = hub
        self._limit = limit
        self._lanes: dict[tuple[str, bool], _Lane] = {}

    async def check(
        self, officer: str, documents: Sequence[Mapping[str, Any]], *, tolerant: bool = False
    ) -> bytes:
        """The hub's answer to ``documents`` (at most ``limit``), as if sent alone: JSON.

        Raises what the hub's request raised (Unavailable when it cannot be reached).
        """
        if not 0 < len(documents) <= self._limit:
            raise ValueError(f"a check holds 1 to {self._limit} documents, not {len(documents)}")
        key = (officer, tolerant)
        lane = self._lanes.setdefault(key, _Lane())
        check = _Check(documents, asyncio.get_running_loop().create_future())
        lane.waiting.append(check)
        if lane.sending is None:
            lane.sending = asyncio.create_task(self._send_all(key, lane))
        return await check.answer

    async def _send_all(self, key: tuple[str, bool], lane: _Lane) -> None:
        """Send the lane's checks, one merged request at a time, until none waits."""
        try:
            while lane.waiting:
                group: list[_Check] = []
                size = 0
                while lane.waiting and size + len(lane.waiting[0].documents) <= self._limit:
                    check = lane.waiting.popleft()
                    if check.answer.done():  # its caller went away (a cancelled request)
                        continue
                    group.append(check)
                    size += len(check.documents)
                if group:
                    await self._send(key, group)
        finally:
            # nothing waits now (no await since the loop saw an empty queue), unless the
            # sender was cancelled (the node stopping): its waiting checks get an answer too
            del self._lanes[key]
            for check in lane.waiting:
                if not check.answer.done():
                    check.answer.set_exception(Unavailable("the node stopped sending checks"))

    async def _send(self, key: tuple[str, bool], group: list[_Check]) -> None:
        officer, tolerant = key
        body: dict[str, Any] = {
            "documents": [d for check in group for d in check.documents],
            "tolerant": tolerant,
        }
        if len(group) > 1:
            body["requests"] = len(group)
        try:
            raw = await self._hub.post_raw(CHECK_PATH, body, officer=officer)
            if len(group) == 1:
                if not group[0].answer.done():
                    group[0].answer.set_result(raw)
                return
            parts = _split(json.loads(raw), [len(check.documents) for check in group])
        except Exception as exc:  # every check of the request gets the hub's error
            for check in group:
                if not check.answer.done():
                    check.answer.set_exception(exc)
            return
        for check, part in zip(group, parts, strict=True):
            if not check.answer.done():
                check.answer.set_result(pydantic_core.to_json(part))


def _split(reply: Any, sizes: Sequence[int]) -> list[dict[str, Any]]:
    """The hub's answer to a merged check, cut into the answers of the checks it held."""
    answers = reply.get("answers") if isinstance(reply, dict) else None
    if not isinstance(answers, list):
        raise IntegrityFailure("the hub's answer to a check holds no list of answers")
    if len(answers) != sum(sizes):
        raise IntegrityFailure(
            f"the hub gave {len(answers)} answers to a check of {sum(sizes)} documents"
        )
    parts = []
    start = 0
    for size in sizes:
        own = [{**a, "index": a["index"] - start} for a in answers[start : start + size]]
        parts.append({**reply, "answers": own})
        start += size
    return parts


__all__ = ["CHECK_PATH", "CheckCoalescer"]
