"""Running a uvicorn server on the fastest event loop at hand.

The hub and the node serve on uvloop (libuv, with its own TLS transport) where
it is installed, as uvicorn itself does in its "standard" setup; elsewhere
(uvloop does not build on Windows) on asyncio's own loop. Both behave the
same to the app; uvloop answers a small request in about half the CPU time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import uvicorn


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        return None
    return uvloop.new_event_loop


def serve(server: uvicorn.Server) -> None:
    """Run ``server`` until it stops (SIGINT/SIGTERM), on uvloop when available."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(server.serve())
