"""Serving a node on its own HTTPS port."""

from __future__ import annotations

import uvicorn

from policenet.node.app import create_node
from policenet.security.tls import node_server_context
from policenet.settings import NodeSettings
from policenet.web.serving import serve


def run_node(settings: NodeSettings, *, verbose: bool = False) -> None:
    """Serve the node until interrupted, following the hub's events in the background."""
    context = node_server_context(settings.tls_dir / "web.pem", settings.tls_dir / "web.key")
    _, app = create_node(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info" if verbose else "warning",
        ssl_context_factory=lambda _config, _default: context,
        timeout_graceful_shutdown=2,
        lifespan="on",
    )
    serve(uvicorn.Server(config))
