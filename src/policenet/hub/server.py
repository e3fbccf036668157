"""Serving the hub: uvicorn over TLS 1.3 with client certificates required."""

from __future__ import annotations

import logging

import uvicorn

from policenet.hub.app import create_hub
from policenet.security.peer import serve_config
from policenet.security.tls import hub_server_context
from policenet.settings import HubSettings
from policenet.web.serving import serve

log = logging.getLogger("policenet.hub")


def run_hub(settings: HubSettings, *, verbose: bool = False) -> None:
    """Serve the hub until interrupted (SIGINT/SIGTERM); ``verbose`` logs every request."""
    tls = hub_server_context(
        server_chain=settings.tls_dir / "server.pem",
        server_key=settings.tls_dir / "server.key",
        trust=settings.ca_dir / "trust.pem",
        crl=settings.ca_dir / "crl.pem",
        refresh_seconds=settings.crl_refresh_seconds,
    )
    _, app = create_hub(settings, crl_error=lambda: tls.crl_error)
    config = serve_config(
        app,
        host=settings.host,
        port=settings.port,
        context=tls.server_context(),
        log_level="info" if verbose else "warning",
    )
    server = uvicorn.Server(config)
    log.info("hub listening on %s", settings.public_url)
    serve(server)
