"""The node's composition root: settings in, ASGI app out (nothing connects at import)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from starlette.types import ASGIApp

from policenet.clock import utc_now
from policenet.domain.officers import LockoutPolicy
from policenet.node import ui
from policenet.node.api import router
from policenet.node.cases_api import router as cases_router
from policenet.node.context import NodeContext
from policenet.node.dna_api import router as dna_router
from policenet.node.documents_api import router as documents_router
from policenet.node.follower import EventFollower
from policenet.node.hubclient import HubClient, TunnelHubClient
from policenet.node.messages import Messenger, Outbox
from policenet.node.messages_api import router as messages_router
from policenet.node.officers import OfficerDirectory
from policenet.node.offline import OfflineCopy
from policenet.node.persons_api import router as persons_router
from policenet.node.records_api import router as records_router
from policenet.node.ui.web import PREFIX as UI_PREFIX
from policenet.node.ui.web import SecurityHeaders
from policenet.node.webhooks import WebhookForwarder, WebhookSubscriptions
from policenet.node.webhooks_api import router as webhooks_router
from policenet.security.passwords import DEFAULT_ARGON2, Argon2Params
from policenet.security.sealed import MAX_ATTACHMENT_BYTES
from policenet.security.tls import node_client_context
from policenet.settings import NodeSettings
from policenet.store.database import open_store
from policenet.store.ports import Store
from policenet.web.background import every, running
from policenet.web.bell import EventBell
from policenet.web.errors import install_error_handlers
from policenet.web.limits import BodySizeLimit


def _sweep(outbox: Outbox, clock: Callable[[], datetime]) -> None:
    """Plaintext files waiting to be sealed, or opened, must not linger: a day at most."""
    outbox.sweep(clock() - timedelta(days=1))


def tunnel_to_hub(settings: NodeSettings) -> TunnelHubClient:
    """The mTLS client for this node's bundle."""
    bundle = settings.bundle_dir
    context = node_client_context(bundle / "member.pem", bundle / "member.key", bundle / "ca.pem")
    return TunnelHubClient(settings.hub_url, context, timeout=settings.hub_timeout_seconds)


def officer_directory(
    settings: NodeSettings, store: Store, *, argon2: Argon2Params | None = None
) -> OfficerDirectory:
    """The officer accounts of this node, with the lockout and idle rules of its settings."""
    return OfficerDirectory(
        store,
        policy=LockoutPolicy(
            max_failures=settings.max_failed_logins,
            lock_for=timedelta(minutes=settings.lockout_minutes),
        ),
        idle_timeout=timedelta(minutes=settings.idle_timeout_minutes),
        issuer=f"policenet {settings.member}",
        argon2=argon2 or DEFAULT_ARGON2,
    )


def create_node(
    settings: NodeSettings,
    *,
    clock: Callable[[], datetime] = utc_now,
    store: Store | None = None,
    hub: HubClient | None = None,
    follow_events: bool = True,
    argon2: Argon2Params | None = None,
) -> tuple[NodeContext, ASGIApp]:
    """Build the node: the one composition root of the node role."""
    store = store or open_store(settings.db_url)
    hub = hub or tunnel_to_hub(settings)
    copy = (
        OfflineCopy(store, hub, clock, refresh_seconds=settings.copy_refresh_seconds)
        if settings.offline_copy
        else None
    )
    forwarder = WebhookForwarder(store, clock)
    bell = EventBell()

    def heard() -> None:
        """An event from the hub was stored: webhooks and the live inbox go on at once."""
        forwarder.nudge()
        bell.ring()

    context = NodeContext(
        copy=copy,
        messenger=Messenger(
            settings.member, settings.bundle_dir, hub, Outbox(settings.directory / "outbox")
        ),
        settings=settings,
        store=store,
        officers=officer_directory(settings, store, argon2=argon2),
        hub=hub,
        follower=EventFollower(hub, store, clock, on_event=lambda _: heard()),
        webhooks=WebhookSubscriptions(store, clock),
        forwarder=forwarder,
        clock=clock,
        bell=bell,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if copy is not None:
            await asyncio.to_thread(copy.load)
        outbox = context.messenger.outbox
        jobs = [
            every(3600.0, lambda: _sweep(outbox, clock), "sweep the outbox"),
        ]
        if follow_events:
            jobs.append(context.follower.run())
            jobs.append(forwarder.run())
            if copy is not None:
                jobs.append(copy.run(settings.member))
        try:
            async with running(*jobs):
                yield
        finally:
            await hub.aclose()
            await forwarder.aclose()

    app = FastAPI(
        title=f"policenet node {settings.member}",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.node = context
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(documents_router)
    app.include_router(dna_router)
    app.include_router(persons_router)
    app.include_router(cases_router)
    app.include_router(messages_router)
    app.include_router(records_router)
    app.include_router(webhooks_router)
    ui.install(app)

    @app.get("/health")
    async def health() -> dict[str, object]:
        """Liveness for the operator's monitoring; says whether the hub is connected."""
        return {"status": "ok", "hub_connected": context.follower.state.connected}

    return context, SecurityHeaders(
        BodySizeLimit(
            app,
            settings.max_request_bytes,
            large={
                "/api/v1/documents/load": settings.max_load_bytes,
                "/api/v1/dna/load": settings.max_load_bytes,
                "/api/v1/persons/load": settings.max_load_bytes,
                "/api/v1/uploads": MAX_ATTACHMENT_BYTES + 1,
                f"{UI_PREFIX}/cases/*": MAX_ATTACHMENT_BYTES + 64 * 1024,
            },
            pages=UI_PREFIX,
        )
    )
