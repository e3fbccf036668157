"""Builders for the in-process tests of the hub's and the node's HTTP APIs.

No sockets and no TLS handshake: the hub's ASGI app is wrapped in
:class:`PresentedCertificates`, which puts into each request scope the ASGI
TLS extension that :mod:`policenet.security.peer` would put there after a
handshake, for the certificate the test names in a header. The hub and the
node run inside ``starlette.testclient.TestClient`` (use it as a context
manager, so the lifespan and its background tasks run).

What the hub world holds (codes as the hub assigns them):

========================  ======  =======  ===========================
code                      kind    country  registers
========================  ======  =======  ===========================
gs                        gs      -        all
ncb-gb                    ncb     GB       all
gb-metropolitan-police    agency  GB       all (its NCB's)
ncb-fr                    ncb     FR       documents, persons
fr-police-nationale       agency  FR       documents
========================  ======  =======  ===========================
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.exceptions import StarletteDeprecationWarning
from starlette.types import ASGIApp, Receive, Scope, Send

from policenet.domain.audit import AuditEntry
from policenet.domain.certificates import CertificatePurpose
from policenet.domain.events import Event
from policenet.domain.members import Admission, Member, MemberKind, admit
from policenet.domain.officers import Role
from policenet.domain.registers import RegisterName
from policenet.hub.admission import issued_record
from policenet.hub.app import build_app
from policenet.hub.ca import CertificateAuthority, create_ca
from policenet.hub.context import HubContext
from policenet.hub.identity import OFFICER_HEADER
from policenet.node import app as node_app
from policenet.node.app import create_node, officer_directory
from policenet.node.context import NodeContext
from policenet.security import pki
from policenet.security.auditlog import AuditLog
from policenet.security.passwords import Argon2Params, totp_now
from policenet.settings import HubSettings, NodeSettings
from policenet.store.memory import MemoryStore
from tests.fakes import FakeHub

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 fork; the project pins httpx, which still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""When every test world starts (a Monday morning)."""

CRL_URL = "https://hub.invalid/v1/crl"
PRESENT_HEADER = "x-test-present-certificate"
"""Test-only header naming the certificate the TLS layer would have verified.

:class:`PresentedCertificates` removes it before the hub sees the request.
Its value ``plain`` means a connection without TLS (no extension at all).
"""

PLAIN_HTTP = "plain"
__all__ = ["TestClient"]  # re-exported: import it from here, not from starlette

TLS_1_3 = 0x0304
TLS_AES_256_GCM_SHA384 = 0x1302

FAST_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=8192, parallelism=1)
"""Light Argon2 for tests; production parameters take a tenth of a second per hash."""

PASSWORD = "Lantern-harbour-quay-42"


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def tls_extension_for(cert: x509.Certificate | None) -> dict[str, Any]:
    """The ASGI TLS extension (0.2) as policenet.security.peer.tls_extension builds it."""
    return {
        "server_cert": None,
        "client_cert_chain": (
            [] if cert is None else [cert.public_bytes(serialization.Encoding.PEM).decode("ascii")]
        ),
        "client_cert_name": None if cert is None else cert.subject.rfc4514_string(),
        "client_cert_error": None,
        "tls_version": TLS_1_3,
        "cipher_suite": TLS_AES_256_GCM_SHA384,
    }


class PresentedCertificates:
    """ASGI middleware standing in for the TLS layer in front of the hub.

    A request naming a certificate in :data:`PRESENT_HEADER` arrives as if
    the handshake had verified that certificate; one without the header as a
    TLS connection without a client certificate; ``plain`` as plain HTTP.
    """

    def __init__(self, app: ASGIApp, certificates: Mapping[str, x509.Certificate]) -> None:
        self.app = app
        self.certificates = certificates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = list(scope.get("headers", []))
            named = [v.decode("latin-1") for k, v in headers if k == PRESENT_HEADER.encode()]
            scope["headers"] = [(k, v) for k, v in headers if k != PRESENT_HEADER.encode()]
            label = named[0] if named else None
            if label != PLAIN_HTTP:
                cert = None if label is None else self.certificates[label]
                extensions: MutableMapping[str, Any] = dict(scope.get("extensions") or {})
                extensions["tls"] = tls_extension_for(cert)
                scope["extensions"] = extensions
        await self.app(scope, receive, send)


@dataclass
class HubWorld:
    """A hub over a MemoryStore, its CA on disk, and the certificates of its members."""

    hub: HubContext
    app: ASGIApp
    clock: Clock
    ca: CertificateAuthority
    store: MemoryStore
    audit_key: Ed25519PrivateKey
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)

    def as_member(self, label: str, officer: str | None = None) -> dict[str, str]:
        """Headers for a request from the holder of certificate ``label`` (a member code)."""
        headers = {PRESENT_HEADER: label}
        if officer is not None:
            headers[OFFICER_HEADER] = officer
        return headers

    def issue(
        self, code: str, *, record: bool = True, label: str | None = None
    ) -> x509.Certificate:
        """A new certificate for ``code`` from the hub's CA, stored under ``label`` (or code).

        With ``record=False`` the hub's database never hears of it: the right
        shape, from the right CA, but a serial the hub did not issue.
        """
        with self.store.unit_of_work() as uow:
            member = uow.members.get(code)
        name = member.name if member else code
        country = member.country if member else None
        cert = pki.issue_member_certificate(
            self.ca.issuing,
            member_code=code,
            member_name=name,
            country=country,
            public_key=pki.generate_key().public_key(),
            now=self.clock(),
            crl_url=CRL_URL,
        )
        if record:
            with self.store.unit_of_work() as uow:
                uow.certificates.add(issued_record(code, cert, CertificatePurpose.MEMBER))
        self.certificates[label or code] = cert
        return cert

    def member(self, code: str) -> Member:
        with self.store.unit_of_work() as uow:
            found = uow.members.get(code)
        assert found is not None, code
        return found

    def audit_entries(self) -> list[AuditEntry]:
        with self.store.unit_of_work() as uow:
            stored = uow.audit.entries(0, uow.audit.size())
        return [AuditEntry.from_canonical(e.canonical) for e in stored]

    def audit_size(self) -> int:
        with self.store.unit_of_work() as uow:
            return uow.audit.size()

    def events_for(self, recipient: str, after: int = 0) -> list[Event]:
        with self.store.unit_of_work() as uow:
            return uow.events.after(recipient, after, 10_000)


HUB_MEMBERS = (
    Admission(MemberKind.GENERAL_SECRETARIAT, "General Secretariat"),
    Admission(MemberKind.NCB, "NCB London", country="GB"),
    Admission(MemberKind.AGENCY, "Metropolitan Police", country="GB", parent="ncb-gb"),
    Admission(
        MemberKind.NCB,
        "NCB Paris",
        country="FR",
        registers=frozenset({RegisterName.DOCUMENTS, RegisterName.PERSONS}),
    ),
    Admission(
        MemberKind.AGENCY,
        "Police Nationale",
        country="FR",
        parent="ncb-fr",
        registers=frozenset({RegisterName.DOCUMENTS}),
    ),
)


def build_hub(
    directory: Path,
    *,
    store: MemoryStore | None = None,
    settings: HubSettings | None = None,
    clock: Clock | None = None,
) -> HubWorld:
    """The hub of the table above, every member admitted and holding one recorded certificate."""
    clock = clock or Clock()
    store = store if store is not None else MemoryStore()
    settings = settings or HubSettings(directory=directory, db_url="sqlite://")
    ca = create_ca(settings.ca_dir, "Test Network", clock())
    key = Ed25519PrivateKey.generate()
    hub = HubContext(
        settings=settings,
        store=store,
        audit=AuditLog(key, key.public_key()),
        audit_public_key=key.public_key(),
        clock=clock,
        ca=ca,
    )
    certificates: dict[str, x509.Certificate] = {}
    world = HubWorld(
        hub=hub,
        app=PresentedCertificates(build_app(hub), certificates),
        clock=clock,
        ca=ca,
        store=store,
        audit_key=key,
        certificates=certificates,
    )
    for request in HUB_MEMBERS:
        with store.unit_of_work() as uow:
            uow.members.add(admit(request, uow.members.list()))
    for member in HUB_MEMBERS:
        with store.unit_of_work() as uow:
            code = next(m.code for m in uow.members.list() if m.name == member.name)
        world.issue(code)
    return world


# --- the node --------------------------------------------------------------------------

NODE_MEMBER = "gb-metropolitan-police"


class ScriptedHub(FakeHub):
    """FakeHub whose canned answer may also be an error, raised as the real client would."""

    def _answer(self, method: str, path: str, officer: str | None, body: Any) -> Any:
        answer = super()._answer(method, path, officer, body)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@dataclass(frozen=True, slots=True)
class OfficerAccount:
    username: str
    password: str
    totp_secret: str
    role: Role


@dataclass
class NodeWorld:
    """A node over a MemoryStore, talking to a ScriptedHub, with a standing clock."""

    context: NodeContext
    app: ASGIApp
    hub: ScriptedHub
    clock: Clock

    def add_officer(self, username: str, role: Role = Role.OFFICER) -> OfficerAccount:
        added = self.context.officers.add_officer(
            username, username.title(), role, PASSWORD, self.clock()
        )
        return OfficerAccount(username, PASSWORD, added.totp_secret, role)

    def login_body(
        self, account: OfficerAccount, *, password: str | None = None, otp: str | None = None
    ) -> dict[str, str]:
        """What an officer types: right credentials unless ``password`` or ``otp`` say otherwise."""
        return {
            "username": account.username,
            "password": account.password if password is None else password,
            "otp": totp_now(account.totp_secret, self.clock()) if otp is None else otp,
        }


def build_node(directory: Path, *, clock: Clock | None = None) -> NodeWorld:
    """A node of the Metropolitan Police with no officers yet and events not followed."""
    clock = clock or Clock()
    settings = NodeSettings(
        directory=directory, member=NODE_MEMBER, hub_url="https://hub.invalid", db_url="sqlite://"
    )
    store = MemoryStore()
    hub = ScriptedHub()
    # create_node offers no way to choose Argon2 costs, and its officer directory hashes a
    # dummy password at once: light costs for that hash, then the directory replaced by
    # the same one with light costs (app.state.node is this context).
    with patch.object(node_app, "DEFAULT_ARGON2", FAST_ARGON2):
        context, app = create_node(settings, store=store, hub=hub, follow_events=False, clock=clock)
    context.officers = officer_directory(settings, store, argon2=FAST_ARGON2)
    return NodeWorld(context=context, app=app, hub=hub, clock=clock)
