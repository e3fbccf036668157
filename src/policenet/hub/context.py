"""What the hub's request handlers share: built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from policenet.domain.cases import DeadlinePolicy
from policenet.domain.registers import RegisterName
from policenet.hub.ca import CertificateAuthority
from policenet.hub.dna import DnaRegister
from policenet.hub.documents import DocumentRegister
from policenet.hub.persons import PersonRegister
from policenet.security.auditlog import AuditLog
from policenet.settings import HubSettings
from policenet.store.ports import Store
from policenet.web.bell import EventBell


@dataclass
class HubContext:
    settings: HubSettings
    store: Store
    audit: AuditLog
    audit_public_key: Ed25519PublicKey
    clock: Callable[[], datetime]
    signing_key: Ed25519PrivateKey | None = None
    """The hub's Ed25519 key, for what nodes must verify later (offline copies)."""
    ca: CertificateAuthority | None = None
    """The CA, for republishing the CRL; None in tests that do not need it."""
    crl_error: Callable[[], str | None] = lambda: None
    bell: EventBell = field(default_factory=EventBell)
    documents: DocumentRegister = field(default_factory=DocumentRegister)
    dna: DnaRegister = field(default_factory=DnaRegister)
    persons: PersonRegister = field(default_factory=PersonRegister)
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    expiry_notice: dict[RegisterName, timedelta] = field(
        default_factory=lambda: {r: timedelta(days=183) for r in RegisterName}
    )
    """How long before expiry owners are reminded, per register (checked at start)."""
