"""Live updates for the case inbox: a Server-Sent Events stream of what the node hears.

The node already keeps the hub's events in its inbox (the event follower),
and rings its bell as each is stored; this stream wakes then and tells an
open inbox page, when case events arrived, that it should fetch its table
again (``static/live.js``). Pages work without it:
the inbox also reloads when the officer asks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from policenet.node.auth import NodeDep
from policenet.node.context import NodeContext
from policenet.node.ui.pages import PageDep
from policenet.node.ui.web import PREFIX, language, require_operator

router = APIRouter(prefix=PREFIX, include_in_schema=False)

POLL_SECONDS = 5.0
"""How often the stream looks at the inbox without being woken by the node's bell."""
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 600.0
"""A stream ends after this long; the browser reconnects by itself (and its session is
checked again)."""


def _latest(node: NodeContext, after: int) -> tuple[int, list[str]]:
    with node.store.reading() as uow:
        events = uow.inbox.list(after, 200)
    kinds = [e.kind for e in events]
    return (events[-1].id if events else after), kinds


def _last_id(node: NodeContext) -> int:
    with node.store.reading() as uow:
        return uow.inbox.last_id()


async def _stream(node: NodeContext, after: int, request: Request) -> AsyncIterator[bytes]:
    """From ``after`` (a reconnecting browser's Last-Event-ID), or from now (-1)."""
    last = after if after >= 0 else await run_in_threadpool(_last_id, node)
    yield b"retry: 2000\n\n"
    loop = asyncio.get_running_loop()
    started = quiet = loop.time()
    while loop.time() - started < STREAM_SECONDS:
        if await request.is_disconnected():
            return
        last_seen, kinds = await run_in_threadpool(_latest, node, last)
        cases = [k for k in kinds if k.startswith("case.")]
        if cases:
            data = json.dumps({"events": cases, "last": last_seen})
            yield f"event: cases\nid: {last_seen}\ndata: {data}\n\n".encode()
            quiet = loop.time()
        last = last_seen
        if loop.time() - quiet > HEARTBEAT_SECONDS:
            yield b": heartbeat\n\n"
            quiet = loop.time()
        await node.bell.wait(POLL_SECONDS)


@router.get("/live")
async def live(request: Request, node: NodeDep, page: PageDep) -> StreamingResponse:
    """Events for the inbox page: ``event: cases`` when case events arrive."""
    require_operator(page, language(request))
    header = request.headers.get("last-event-id", "")
    after = int(header) if header.isdigit() else -1
    return StreamingResponse(
        _stream(node, after, request),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
