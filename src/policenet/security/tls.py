"""TLS contexts for the hub's member port, the node's tunnel to it, and the node's own port.

The hub's member port (:class:`HubTLS`)
    TLS 1.3 only; a client certificate is required and must chain to the
    policenet CA (``trust``: root and issuing CA certificates, nothing else)
    and must not be listed in the CRL (``VERIFY_CRL_CHECK_LEAF``, with
    ``VERIFY_X509_STRICT``). Session tickets are turned off (``num_tickets =
    0``): a resumed TLS 1.3 session skips the certificate, so a member revoked
    after its first connection could otherwise keep coming back.

How a new CRL takes effect without a restart
    OpenSSL reads the CRL from the ``X509_STORE`` of the ``SSL_CTX`` that an
    ``SSL`` object points to *at the time it verifies the peer*. The server
    holds one context whose ``sni_callback`` runs while the ClientHello is
    processed, before the client's certificate arrives; it sets
    ``ssl_object.context = hub_tls.current()``, which becomes
    ``SSL_set_SSL_CTX`` and swaps in a context built from the fresh CRL. The
    callback runs for every handshake, also when the client sends no SNI (a
    client that connects by IP address sends none). The verify mode and flags
    stay those of the SSL object, copied from the first context at its
    creation; every context here is built alike, so nothing changes there.
    The integration tests check all of this with real handshakes.
    ``current()`` looks at crl.pem's inode, mtime and size at most every
    ``refresh_seconds`` and rebuilds the context when they change (rereading
    the server certificate and key too, so a renewed one is taken with it).

    The other way, loading the new CRL into the one existing context
    (``load_verify_locations``), was tried and is not used: OpenSSL keeps
    every CRL in the store and, among CRLs of one issuer, uses the one with
    the latest thisUpdate. CRL times have one-second resolution, so a CRL
    published in the same second as the one before it (a revocation right
    after an admission, say) would be ignored, and the store would grow with
    every CRL. Swapping whole contexts has neither trap, and an old context
    goes away with its last connection.

    A connection that is already open is not touched: the CRL gates new
    connections. The app must refuse requests of a member whose status is
    revoked on connections opened before the revocation.

    A refused client learns little: asyncio closes a connection whose
    handshake failed without sending OpenSSL's alert and logs it only in
    debug mode, so the client sees the server hang up ("Server disconnected
    without sending a response") and the hub logs nothing.

    A CRL that cannot be read or whose signature does not verify at start-up
    is an InvalidInput error. Later, a bad rewrite keeps the last good CRL,
    logs an error and sets :attr:`HubTLS.crl_error` for the app to report. A
    CRL past its nextUpdate makes OpenSSL refuse every member; ``crl_error``
    says so too.

The node's tunnel (:func:`node_client_context`)
    TLS 1.3 only, the member certificate as client certificate, trusting only
    the bundle's ``ca.pem``, host name checked.

The node's own HTTPS port (:func:`node_server_context`)
    For officers' browsers and national systems: TLS 1.2 or 1.3, forward-secret
    AEAD suites only (Mozilla "intermediate"), no client certificate.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from policenet.errors import InvalidInput
from policenet.security import pki

log = logging.getLogger(__name__)

_FileStamp = tuple[int, int, int, int]


def _stamp(path: Path) -> _FileStamp:
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _ssl_failure(path: Path, exc: ssl.SSLError) -> InvalidInput:
    return InvalidInput(f"{path} cannot be used: {exc.reason or exc}")


def _checked_crl(path: Path, trust: Sequence[x509.Certificate]) -> x509.CertificateRevocationList:
    """Read ``path`` and check that one of the ``trust`` CAs signed it."""
    crl = pki.load_crl(path)
    for ca in trust:
        if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
            return crl
    raise InvalidInput(
        f"{path} cannot be used: the CRL of {crl.issuer.rfc4514_string()} is not signed by "
        "a CA in the trust file"
    )


def _pem(certs: Sequence[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


class HubTLS:
    """The hub's member-port TLS configuration, with a CRL reloaded while the server runs.

    Hand :meth:`server_context` to the server once. ``refresh_seconds`` bounds
    how long a rewritten crl.pem takes to be used (plus one handshake).
    ``clock`` is a monotonic clock in seconds, replaceable in tests. Safe to
    use from several threads.
    """

    def __init__(
        self,
        server_chain: Path,
        server_key: Path,
        trust: Path,
        crl: Path,
        *,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server_chain = server_chain
        self._server_key = server_key
        self._crl_path = crl
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._trust = pki.load_certificates(trust)
        try:
            self._stamp = _stamp(crl)  # before reading, so a rewrite in between is seen later
        except OSError as exc:
            raise InvalidInput(f"{crl} cannot be read: {exc.strerror}") from None
        self._crl = _checked_crl(crl, self._trust)
        self._server_context = self._build()
        self._server_context.sni_callback = self._on_client_hello
        self._current = self._server_context
        self._checked_at = clock()
        self._reload_error: str | None = None

    def server_context(self) -> ssl.SSLContext:
        """The context to give the server; it swaps in :meth:`current` on every handshake."""
        return self._server_context

    def current(self) -> ssl.SSLContext:
        """The context built with the newest good CRL, reloading crl.pem first if it is due."""
        with self._lock:
            if self._clock() - self._checked_at >= self._refresh_seconds:
                self._reload_if_changed()
            return self._current

    def refresh(self) -> None:
        """Look at crl.pem now, whatever ``refresh_seconds`` says."""
        with self._lock:
            self._reload_if_changed()

    @property
    def crl(self) -> x509.CertificateRevocationList:
        """The CRL in use (the last good one)."""
        return self._crl

    @property
    def crl_error(self) -> str | None:
        """Why the CRL in use is not crl.pem's, or why members are all refused; None if fine."""
        if self._reload_error is not None:
            return self._reload_error
        due = self._crl.next_update_utc
        if due is not None and pki.utc_now() >= due:
            return (
                f"{self._crl_path} is out of date: its next update was due {due:%Y-%m-%d %H:%M} "
                "UTC; every member is refused until a fresh CRL is written"
            )
        return None

    def _on_client_hello(
        self, ssl_object: ssl.SSLObject, _server_name: str | None, context: ssl.SSLContext
    ) -> None:
        fresh = self.current()
        if fresh is not context:
            ssl_object.context = fresh

    def _build(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        # Mozilla "modern" rejects X448 and secp521r1, which OpenSSL offers by
        # default; Python 3.11 can name only one group, and X25519 is the one
        # every TLS 1.3 client offers first.
        context.set_ecdh_curve("X25519")
        context.maximum_version = ssl.TLSVersion.TLSv1_3
        context.verify_mode = ssl.CERT_REQUIRED
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF | ssl.VERIFY_X509_STRICT
        context.num_tickets = 0
        try:
            context.load_cert_chain(self._server_chain, self._server_key)
        except ssl.SSLError as exc:
            raise _ssl_failure(self._server_chain, exc) from None
        except OSError as exc:
            raise InvalidInput(f"{self._server_chain} cannot be read: {exc.strerror}") from None
        context.load_verify_locations(cadata=_pem(self._trust))
        try:
            context.load_verify_locations(cafile=self._crl_path)
        except ssl.SSLError as exc:
            raise _ssl_failure(self._crl_path, exc) from None
        except OSError as exc:
            raise InvalidInput(f"{self._crl_path} cannot be read: {exc.strerror}") from None
        return context

    def _reload_if_changed(self) -> None:
        self._checked_at = self._clock()
        try:
            stamp = _stamp(self._crl_path)
        except OSError as exc:
            self._keep_last_good(f"{self._crl_path} cannot be read: {exc.strerror}")
            return
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            crl = _checked_crl(self._crl_path, self._trust)
            context = self._build()
        except InvalidInput as exc:
            self._keep_last_good(exc.message)
            return
        self._crl, self._current, self._reload_error = crl, context, None
        log.info("loaded %s: %d revoked certificates", self._crl_path, len(crl))

    def _keep_last_good(self, reason: str) -> None:
        self._reload_error = (
            f"{reason}; still using the CRL of {self._crl.last_update_utc:%Y-%m-%d %H:%M} UTC"
        )
        log.error("%s", self._reload_error)


def hub_server_context(
    server_chain: Path,
    server_key: Path,
    trust: Path,
    crl: Path,
    *,
    refresh_seconds: float = 5.0,
) -> HubTLS:
    """The hub's member-port TLS configuration (see :class:`HubTLS`).

    ``server_chain`` is the hub's certificate followed by the issuing CA;
    ``trust`` the root and issuing CA certificates; ``crl`` the issuing CA's
    CRL. Raises InvalidInput naming the file that cannot be read or used.
    """
    return HubTLS(server_chain, server_key, trust, crl, refresh_seconds=refresh_seconds)


def node_client_context(member_chain: Path, member_key: Path, ca: Path) -> ssl.SSLContext:
    """The node's context for its tunnel to the hub: TLS 1.3, member certificate, only ``ca``.

    ``member_chain`` is the member certificate followed by the issuing CA
    (member.pem of a bundle); ``ca`` the root CA (ca.pem). Host names are
    checked. Raises InvalidInput naming the file that cannot be read or used.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.load_verify_locations(cadata=_pem(pki.load_certificates(ca)))
    _load_chain(context, member_chain, member_key)
    return context


def node_server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The context of the node's own HTTPS port: TLS 1.2 minimum, no client certificate.

    ``cert`` is the server certificate with any intermediates, ``key`` its key
    (any algorithm OpenSSL accepts: the certificate may come from a national PKI).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # TLS 1.2 suites: forward secret AEAD only (Mozilla "intermediate"); 1.3 suites are all fine
    context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    context.verify_mode = ssl.CERT_NONE
    _load_chain(context, cert, key)
    return context


def _load_chain(context: ssl.SSLContext, chain: Path, key: Path) -> None:
    for path in (chain, key):
        if not path.is_file():
            raise InvalidInput(f"{path} cannot be read: no such file")
    try:
        context.load_cert_chain(chain, key)
    except ssl.SSLError as exc:
        raise InvalidInput(
            f"{chain} and {key} cannot be used together: {exc.reason or exc}"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"{chain} or {key} cannot be read: {exc.strerror}") from None


def create_self_signed_server(
    hostnames: Sequence[str], now: datetime, valid_days: int = 825
) -> pki.KeyAndCertificate:
    """A self-signed certificate for a node's own HTTPS port, so that it runs out of the box.

    Browsers warn about it. Operators replace it with a certificate from their
    national PKI (write it and its key where the node's settings point). 825
    days is the longest validity browsers accepted for a server certificate.
    """
    key = pki.generate_key()
    names = pki.server_names(hostnames)
    name = pki.subject_name(hostnames[0])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - pki.CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return pki.KeyAndCertificate(key, certificate)
