"""Background work of the hub and the node: periodic jobs, started and stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

log = logging.getLogger("policenet")


async def every(
    seconds: float, job: Callable[[], None], what: str, *, wait_first: bool = False
) -> None:
    """Run the blocking ``job`` in a thread every ``seconds``; a failure is logged, not fatal."""
    if wait_first:
        await asyncio.sleep(seconds)
    while True:
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("could not %s", what)
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def running(*jobs: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``jobs`` as tasks for the duration of the block, then cancel and await them."""
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
