"""The verified TLS peer certificate, handed to the ASGI app in the connection scope.

uvicorn 0.54 does not implement the ASGI TLS extension (its HTTP protocols
build the scope without ``extensions``), so :class:`PeerCertificateHttpToolsProtocol`
(uvicorn's httptools protocol, which parses HTTP in C) adds it: once the TLS
handshake is over it reads the peer certificate from the connection's
``ssl_object`` and puts, into every ``http`` and
``websocket`` scope of that connection::

    scope["extensions"]["tls"] = {
        "server_cert": None,
        "client_cert_chain": [leaf PEM],      # [] when the client sent none
        "client_cert_name": "CN=...,O=...",   # RFC 4514; None when no certificate
        "client_cert_error": None,
        "tls_version": 0x0304,
        "cipher_suite": 0x1302,
    }

following the ASGI TLS extension, version 0.2. Only the leaf is given
(Python 3.11 has no public way to read the verified chain); it was verified
by OpenSSL before the app sees a byte, because the hub context requires a
valid client certificate. Plain-HTTP connections get no ``tls`` extension.

Identity comes from here and nowhere else: :func:`peer_certificate` reads it
back, and the app must never take a member's identity from a header.
:func:`serve_config` turns uvicorn's proxy headers off for the same reason,
and WebSockets off, because uvicorn's WebSocket protocols take the app from
the config and would not see the extension; a scope without it reads as "no
certificate", so a forgotten path fails closed.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TLS_VERSIONS = {"TLSv1.3": 0x0304, "TLSv1.2": 0x0303, "TLSv1.1": 0x0302, "TLSv1": 0x0301}


_SUITE_IDS: dict[str, int] = {}


def _suite_id(context: ssl.SSLContext, name: str) -> int | None:
    if name not in _SUITE_IDS:
        # OpenSSL's cipher id is 0x0300XXXX; the low 16 bits are the IANA suite number
        _SUITE_IDS.update((c["name"], c["id"] & 0xFFFF) for c in context.get_ciphers())
    return _SUITE_IDS.get(name)


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> dict[str, Any]:
    """The ASGI TLS extension (version 0.2) describing one finished handshake."""
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name: str | None = None
    if der:
        cert = x509.load_der_x509_certificate(der)
        chain.append(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
        name = cert.subject.rfc4514_string()
    cipher = ssl_object.cipher()
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(version) if version else None,
        "cipher_suite": _suite_id(ssl_object.context, cipher[0]) if cipher else None,
    }


class _WithTLS:
    """An ASGI app that adds the connection's TLS extension to each scope."""

    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self._app = app
        self._tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            extensions = dict(scope.get("extensions") or {})
            # a copy per request, so that nothing one request does leaks into the next
            extensions["tls"] = {
                **self._tls,
                "client_cert_chain": list(self._tls["client_cert_chain"]),
            }
            scope["extensions"] = extensions
        await self._app(scope, receive, send)


class PeerCertificateHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, giving the app the ASGI TLS extension on TLS connections."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            wrapped = _WithTLS(cast(ASGIApp, self.app), tls_extension(ssl_object))
            self.app = cast(Any, wrapped)


def peer_certificate(scope: Scope) -> x509.Certificate | None:
    """The client certificate of the scope's TLS connection, or None when there is none.

    None means no TLS, no client certificate, or a server that does not
    provide the ASGI TLS extension; callers treat all three as unauthenticated.
    """
    extensions = scope.get("extensions") or {}
    tls = extensions.get("tls") if isinstance(extensions, dict) else None
    if not isinstance(tls, dict):
        return None
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    return x509.load_pem_x509_certificate(str(chain[0]).encode("ascii"))


def serve_config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    context: ssl.SSLContext,
    log_level: str = "warning",
    graceful_shutdown_seconds: float = 2.0,
) -> uvicorn.Config:
    """A uvicorn config serving ``app`` over TLS with ``context`` and the TLS extension.

    Proxy headers are off (the client address is the socket's), WebSockets are
    off (see the module docstring) and the ``Server`` header is not sent.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=PeerCertificateHttpToolsProtocol,
        ws="none",
        ssl_context_factory=lambda _config, _default: context,
        proxy_headers=False,
        server_header=False,
        log_level=log_level,
        # event streams never end on their own; do not let them hold a shutdown
        timeout_graceful_shutdown=int(graceful_shutdown_seconds),
    )
