"""The hub's composition root: one settings object in, one ASGI app out.

Nothing connects at import. :func:`create_hub` opens the store, loads the
audit key and builds the app; :mod:`policenet.hub.server` serves it over TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from policenet.clock import utc_now
from policenet.errors import PolicenetError
from policenet.hub.admission import MemberAdministration
from policenet.hub.api import router
from policenet.hub.ca import crl_due, load_ca, publish_crl
from policenet.hub.cases import escalate_due
from policenet.hub.cases_api import router as cases_router
from policenet.hub.context import HubContext
from policenet.hub.dna_api import router as dna_router
from policenet.hub.documents_api import router as documents_router
from policenet.hub.identity import OFFICER_HEADER, Identification
from policenet.hub.keys import load_audit_key
from policenet.hub.messages import MAX_SEALED_ATTACHMENT_BYTES, AttachmentShelf
from policenet.hub.messages_api import router as messages_router
from policenet.hub.persons_api import router as persons_router
from policenet.hub.records_api import router as records_router
from policenet.hub.retention import purge, remind
from policenet.security.auditlog import AuditLog
from policenet.security.peer import peer_certificate
from policenet.settings import HubSettings
from policenet.store.database import open_store
from policenet.store.ports import Store
from policenet.web.background import every, running
from policenet.web.errors import (
    install_error_handlers,
    internal_error_response,
    policenet_error_response,
)
from policenet.web.limits import BodySizeLimit

log = logging.getLogger("policenet.hub")


class MemberGate:
    """Refuses every request that does not come from an active member's certificate.

    Sits outside the router, so no route (and no 404) answers an unknown caller.
    Refusals are audited.
    """

    def __init__(self, app: ASGIApp, hub: HubContext) -> None:
        self.app = app
        self.hub = hub
        self.identification = Identification(hub)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        cert = peer_certificate(scope)
        headers = dict(scope.get("headers", []))
        officer = headers.get(OFFICER_HEADER.encode())
        try:
            caller = await asyncio.to_thread(
                self.identification.identify, cert, officer.decode("latin-1") if officer else None
            )
        except PolicenetError as exc:
            path = str(scope.get("path", ""))
            try:
                await asyncio.to_thread(
                    self.identification.refusal, cert, exc.message, path, self.hub.clock()
                )
            except Exception:
                log.exception("could not audit a refused request")
            if scope["type"] == "http":
                await policenet_error_response(exc)(scope, receive, send)
            return
        except Exception as exc:
            if scope["type"] == "http":
                await internal_error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def build_app(hub: HubContext) -> ASGIApp:
    """The hub's ASGI app around ``hub``."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loaded = await asyncio.to_thread(hub.documents.load, hub.store)
        log.info("travel documents index built: %d records", loaded)
        profiles = await asyncio.to_thread(hub.dna.load, hub.store)
        log.info("DNA index built: %d profiles", profiles)
        persons = await asyncio.to_thread(hub.persons.load, hub.store)
        log.info("persons index built: %d records", persons)
        # the indexes are millions of long-lived objects: keep the cyclic garbage collector
        # from walking them again and again (it took a third of a large check's time)
        gc.collect()
        gc.freeze()
        settings = hub.settings
        async with running(
            # fresh tree heads while the log grows, so proofs have recent anchors
            every(
                settings.tree_head_interval_seconds,
                lambda: _sign_if_grown(hub),
                "sign a tree head",
                wait_first=True,
            ),
            # a stale CRL would lock every member out
            every(600.0, lambda: _republish_if_due(hub), "republish the CRL"),
            every(15.0, lambda: _escalate_once(hub), "escalate overdue cases"),
            every(settings.retention_interval_seconds, lambda: _retain_once(hub), "run retention"),
            every(3600.0, lambda: _sweep_uploads(hub), "sweep abandoned uploads"),
        ):
            yield
        with hub.store.unit_of_work() as uow:
            hub.audit.sign_tree_head(uow, hub.clock())

    app = FastAPI(
        title="policenet hub",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/v1/openapi.json",
    )
    app.state.hub = hub
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(documents_router)
    app.include_router(dna_router)
    app.include_router(persons_router)
    app.include_router(cases_router)
    app.include_router(records_router)
    app.include_router(messages_router)
    return BodySizeLimit(
        MemberGate(app, hub),
        hub.settings.max_request_bytes,
        large={
            "/v1/documents/load": hub.settings.max_load_bytes,
            "/v1/dna/load": hub.settings.max_load_bytes,
            "/v1/persons/load": hub.settings.max_load_bytes,
            "/v1/attachments": MAX_SEALED_ATTACHMENT_BYTES,
        },
    )


def _sign_if_grown(hub: HubContext) -> None:
    with hub.store.unit_of_work() as uow:
        hub.audit.sign_if_grown(uow, hub.clock())


def _escalate_once(hub: HubContext) -> None:
    with hub.store.unit_of_work() as uow:
        escalated = escalate_due(uow, hub.audit, hub.clock())
    if escalated:
        hub.bell.ring()


def _sweep_uploads(hub: HubContext) -> None:
    """Remove attachment uploads that no message took within a day."""
    removed = AttachmentShelf(hub.settings.directory / "attachments").sweep(
        hub.clock() - timedelta(days=1)
    )
    if removed:
        log.info("removed %d abandoned attachment uploads", removed)


def _retain_once(hub: HubContext) -> None:
    settings = hub.settings
    now = hub.clock()
    with hub.store.unit_of_work() as uow:
        reminded = remind(
            uow, now, hub.expiry_notice, timedelta(days=settings.review_reminder_days)
        )
        removed = purge(uow, hub.audit, now, timedelta(days=settings.expired_record_grace_days))
    if reminded or removed:
        log.info("retention: %d reminders sent, %d expired records removed", reminded, removed)
        hub.bell.ring()


def _republish_if_due(hub: HubContext) -> None:
    ca = hub.ca
    if ca is None:
        return
    now = hub.clock()
    if crl_due(ca, now):
        with hub.store.unit_of_work() as uow:
            publish_crl(ca, uow, now)
        log.info("CRL republished")


def create_hub(
    settings: HubSettings,
    *,
    clock: Callable[[], datetime] = utc_now,
    store: Store | None = None,
    crl_error: Callable[[], str | None] = lambda: None,
) -> tuple[HubContext, ASGIApp]:
    """Build the hub from its settings: the one composition root of the hub role."""
    store = store or open_store(settings.db_url)
    signing_key: Ed25519PrivateKey = load_audit_key(settings.audit_key_path)
    audit = AuditLog(signing_key, signing_key.public_key())
    hub = HubContext(
        ca=load_ca(settings.ca_dir),
        settings=settings,
        store=store,
        audit=audit,
        audit_public_key=signing_key.public_key(),
        signing_key=signing_key,
        deadlines=settings.deadline_policy(),
        expiry_notice=settings.expiry_notice(),
        clock=clock,
        crl_error=crl_error,
    )
    return hub, build_app(hub)


def create_administration(
    settings: HubSettings, *, clock: Callable[[], datetime] = utc_now
) -> tuple[MemberAdministration, Store]:
    """The hub administrator's service over the hub's store and CA (for the command line)."""
    store = open_store(settings.db_url)
    signing_key = load_audit_key(settings.audit_key_path)
    admin = MemberAdministration(
        store,
        load_ca(settings.ca_dir),
        AuditLog(signing_key, signing_key.public_key()),
        hub_url=settings.public_url,
        certificate_days=settings.member_certificate_days,
        clock=clock,
    )
    return admin, store
