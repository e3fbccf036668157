"""The hub's member port over real sockets: who gets in, who is refused, and revocation.

A uvicorn server runs in a thread on 127.0.0.1 with the hub's TLS context and
the peer-certificate protocol, serving a tiny app that echoes the member code
it reads from the ASGI TLS extension. Clients are httpx with node contexts.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from policenet.errors import InvalidInput
from policenet.security import pki
from policenet.security.peer import Receive, Scope, Send, peer_certificate, serve_config
from policenet.security.tls import (
    HubTLS,
    create_self_signed_server,
    hub_server_context,
    node_client_context,
    node_server_context,
)

REFRESH = 0.2
CRL_URL = "https://127.0.0.1/v1/crl"


async def echo_member(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the member code of the TLS peer and what the TLS extension said."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    cert = peer_certificate(scope)
    tls = scope.get("extensions", {}).get("tls", {})
    body = {
        "member": None if cert is None else pki.member_code_of(cert),
        "tls_version": tls.get("tls_version"),
        "cipher_suite": tls.get("cipher_suite"),
        "client_cert_name": tls.get("client_cert_name"),
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


@dataclass
class Network:
    """A hub PKI on disk, with member identities ready to connect."""

    directory: Path
    root: pki.KeyAndCertificate
    issuing: pki.KeyAndCertificate
    serials: dict[str, int]

    @property
    def crl(self) -> Path:
        return self.directory / "crl.pem"

    def hub_tls(self) -> HubTLS:
        d = self.directory
        return hub_server_context(
            d / "server.pem", d / "server.key", d / "trust.pem", self.crl, refresh_seconds=REFRESH
        )

    def client(self, who: str) -> ssl.SSLContext:
        d = self.directory
        return node_client_context(d / f"{who}.pem", d / f"{who}.key", d / "ca.pem")

    def revoke(self, *who: str, crl_number: int) -> None:
        now = datetime.now(UTC)
        entries = [(self.serials[w], now, "key_compromise") for w in who]
        pki.write_crl(
            self.crl, pki.build_crl(self.issuing, entries, crl_number=crl_number, now=now)
        )


def _member(
    directory: Path, name: str, issuer: pki.KeyAndCertificate, now: datetime, days: int = 365
) -> int:
    key = pki.generate_key()
    cert = pki.issue_member_certificate(
        issuer,
        member_code=name,
        member_name=name,
        country=None,
        public_key=key.public_key(),
        now=now,
        valid_days=days,
        crl_url=CRL_URL,
    )
    pki.write_private_key(directory / f"{name}.key", key)
    pki.write_certificates(directory / f"{name}.pem", [cert, issuer.certificate])
    return cert.serial_number


def make_network(directory: Path) -> Network:
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=500)
    root = pki.create_root_ca("Hub Root CA", long_ago)
    issuing = pki.create_issuing_ca(root, "Hub Issuing CA", long_ago)
    server_key = pki.generate_key()
    server = pki.issue_server_certificate(
        issuing,
        hostnames=["127.0.0.1", "localhost"],
        public_key=server_key.public_key(),
        now=now,
        crl_url=CRL_URL,
    )
    pki.write_private_key(directory / "server.key", server_key)
    pki.write_certificates(directory / "server.pem", [server, issuing.certificate])
    pki.write_certificates(directory / "trust.pem", [root.certificate, issuing.certificate])
    pki.write_certificates(directory / "ca.pem", [root.certificate])
    pki.write_crl(directory / "crl.pem", pki.build_crl(issuing, [], crl_number=1, now=now))
    serials = {who: _member(directory, who, issuing, now) for who in ("ncb-gb", "ncb-fr")}
    # a certificate that was valid for a year, long ago
    serials["ncb-it"] = _member(directory, "ncb-it", issuing, long_ago, days=365)
    # a member of another network, trusting our root so that only the hub's check refuses it
    other_root = pki.create_root_ca("Other Root CA", now)
    other = pki.create_issuing_ca(other_root, "Other Issuing CA", now)
    _member(directory, "ncb-xx", other, now)
    return Network(directory, root, issuing, serials)


@contextmanager
def serving(context: ssl.SSLContext) -> Iterator[int]:
    """Run the echo app with ``context`` on a free loopback port in a thread; yield the port."""
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = serve_config(echo_member, host="127.0.0.1", port=port, context=context)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Network:
    return make_network(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def port(network: Network) -> Iterator[int]:
    with serving(network.hub_tls().server_context()) as bound:
        yield bound


def get(
    context: ssl.SSLContext, port: int, host: str = "127.0.0.1", sni: str | None = None
) -> dict[str, Any]:
    """One request on a fresh connection (so each one is a new handshake)."""
    extensions = {"sni_hostname": sni} if sni else None
    with httpx.Client(verify=context, timeout=5) as client:
        response = client.get(f"https://{host}:{port}/whoami", extensions=extensions)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def refused(call: Callable[[], object]) -> None:
    """Assert that the hub refuses the connection ``call`` makes: no response at all.

    The reason does not reach the client: asyncio closes a connection whose
    handshake failed without sending OpenSSL's alert, so the client sees the
    server hang up. That the client itself did not refuse the hub is checked.
    """
    with pytest.raises(httpx.TransportError) as caught:
        call()
    assert "CERTIFICATE_VERIFY_FAILED" not in str(caught.value)


def test_an_enrolled_member_gets_its_code_back_over_tls_13(network: Network, port: int) -> None:
    body = get(network.client("ncb-gb"), port)
    assert body["member"] == "ncb-gb"
    assert body["tls_version"] == 0x0304
    assert body["cipher_suite"] in {0x1301, 0x1302, 0x1303}
    assert "CN=ncb-gb" in body["client_cert_name"]


def test_a_client_without_a_certificate_is_refused(network: Network, port: int) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(network.directory / "ca.pem")
    refused(lambda: get(context, port))


def test_a_certificate_of_another_ca_is_refused(network: Network, port: int) -> None:
    refused(lambda: get(network.client("ncb-xx"), port))


def test_an_expired_certificate_is_refused(network: Network, port: int) -> None:
    refused(lambda: get(network.client("ncb-it"), port))


def test_a_tls_12_client_is_refused(network: Network, port: int) -> None:
    context = network.client("ncb-gb")
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    refused(lambda: get(context, port))


def test_plain_http_gets_nothing(port: int) -> None:
    def plain() -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{port}/whoami", timeout=5)

    with pytest.raises(httpx.TransportError):
        plain()


def test_sessions_are_not_resumed(network: Network, port: int) -> None:
    # a resumed TLS 1.3 session skips the client certificate, and with it the CRL
    context = network.client("ncb-gb")

    def handshake(session: ssl.SSLSession | None) -> tuple[ssl.SSLSession | None, bool | None]:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls,
        ):
            tls.sendall(b"GET / HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
            while tls.recv(4096):  # read to the end: TLS 1.3 tickets come after the handshake
                pass
            return tls.session, tls.session_reused

    session, _ = handshake(None)
    assert session is not None
    _, reused = handshake(session)
    assert reused is False


@pytest.mark.parametrize("sni", [None, "localhost"], ids=["no-sni", "sni"])
def test_a_revoked_member_is_refused_without_a_restart(tmp_path: Path, sni: str | None) -> None:
    network = make_network(tmp_path)
    hub_tls = network.hub_tls()
    with serving(hub_tls.server_context()) as port:
        assert get(network.client("ncb-fr"), port, sni=sni)["member"] == "ncb-fr"

        network.revoke("ncb-fr", crl_number=2)
        revoked_at = time.monotonic()
        while True:
            try:
                get(network.client("ncb-fr"), port, sni=sni)
            except httpx.TransportError as exc:
                assert "CERTIFICATE_VERIFY_FAILED" not in str(exc)
                break
            # one refresh period, plus slack for a loaded machine
            assert time.monotonic() - revoked_at < REFRESH + 3, "revocation did not take effect"
            time.sleep(REFRESH / 4)

        assert get(network.client("ncb-gb"), port, sni=sni)["member"] == "ncb-gb"
        refused(lambda: get(network.client("ncb-fr"), port, sni=sni))
        assert hub_tls.crl_error is None
        assert network.serials["ncb-fr"] in {r.serial_number for r in hub_tls.crl}


def test_an_unreadable_new_crl_keeps_the_last_good_one(tmp_path: Path) -> None:
    network = make_network(tmp_path)
    hub_tls = network.hub_tls()
    with serving(hub_tls.server_context()) as port:
        network.revoke("ncb-fr", crl_number=2)
        hub_tls.refresh()
        refused(lambda: get(network.client("ncb-fr"), port))

        pki.write_atomically(network.crl, b"-----BEGIN X509 CRL-----\ntruncated\n")
        time.sleep(REFRESH * 1.5)
        refused(lambda: get(network.client("ncb-fr"), port))  # still revoked
        assert get(network.client("ncb-gb"), port)["member"] == "ncb-gb"  # still served
        assert hub_tls.crl_error is not None
        assert "crl.pem cannot be read: not a PEM CRL" in hub_tls.crl_error

        network.revoke(crl_number=3)  # a good CRL again, revoking no one
        hub_tls.refresh()
        assert hub_tls.crl_error is None
        assert get(network.client("ncb-fr"), port)["member"] == "ncb-fr"


def test_a_crl_signed_by_another_ca_is_not_taken(tmp_path: Path) -> None:
    network = make_network(tmp_path)
    impostor = pki.create_issuing_ca(network.root, "Hub Issuing CA", datetime.now(UTC))
    pki.write_crl(network.crl, pki.build_crl(impostor, [], crl_number=9, now=datetime.now(UTC)))
    with pytest.raises(InvalidInput, match="not signed by a CA in the trust file"):
        network.hub_tls()


def test_an_unreadable_crl_stops_the_hub_from_starting(tmp_path: Path) -> None:
    network = make_network(tmp_path)
    network.crl.write_text("not a CRL")
    with pytest.raises(InvalidInput, match=r"crl\.pem cannot be read: not a PEM CRL"):
        network.hub_tls()
    network.crl.unlink()
    with pytest.raises(InvalidInput, match=r"crl\.pem cannot be read"):
        network.hub_tls()


def test_an_out_of_date_crl_refuses_everyone_and_says_so(tmp_path: Path) -> None:
    network = make_network(tmp_path)
    stale = datetime.now(UTC) - timedelta(days=3)
    pki.write_crl(network.crl, pki.build_crl(network.issuing, [], crl_number=2, now=stale))
    hub_tls = network.hub_tls()
    assert hub_tls.crl_error is not None
    assert "out of date" in hub_tls.crl_error
    with serving(hub_tls.server_context()) as port:
        refused(lambda: get(network.client("ncb-gb"), port))


def test_the_hub_refuses_to_start_with_a_key_that_does_not_fit(tmp_path: Path) -> None:
    network = make_network(tmp_path)
    pki.write_private_key(tmp_path / "server.key", pki.generate_key())
    with pytest.raises(InvalidInput, match=r"server\.pem cannot be used"):
        network.hub_tls()


def test_the_node_refuses_a_hub_whose_name_is_not_in_its_certificate(
    network: Network, port: int
) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        get(network.client("ncb-gb"), port, sni="hub.example.org")


def test_the_node_port_serves_tls_12_without_a_client_certificate(tmp_path: Path) -> None:
    issued = create_self_signed_server(["127.0.0.1"], datetime.now(UTC))
    pki.write_private_key(tmp_path / "node.key", issued.key)
    pki.write_certificates(tmp_path / "node.pem", [issued.certificate])
    browser = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    browser.load_verify_locations(tmp_path / "node.pem")
    browser.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc_only = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cbc_only.load_verify_locations(tmp_path / "node.pem")
    cbc_only.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc_only.set_ciphers("ECDHE-ECDSA-AES128-SHA256")  # no AEAD: Mozilla "intermediate" refuses
    with serving(node_server_context(tmp_path / "node.pem", tmp_path / "node.key")) as port:
        body = get(browser, port)
        assert body["member"] is None
        assert body["tls_version"] == 0x0303
        assert body["cipher_suite"] is not None
        with pytest.raises(httpx.ConnectError):
            get(cbc_only, port)
