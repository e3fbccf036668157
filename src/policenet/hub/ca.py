"""The hub's certificate authority on disk.

Layout of a hub directory's ``ca/`` folder (written by ``policenet hub init``):

- ``root.pem`` / ``root.key``: the root CA, the trust anchor every node holds;
- ``issuing.pem`` / ``issuing.key``: the issuing CA that signs member and hub
  certificates and the CRL;
- ``trust.pem``: root and issuing certificates, what the hub's TLS layer trusts;
- ``crl.pem``: the current certificate revocation list.

Nothing reads ``root.key`` after ``hub init``: operators may move it offline
(it is needed again only to create a new issuing CA). The issuing key signs
member certificates (the administrator's command line) and the CRL (also the
running hub, which republishes it before it goes stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509

from policenet.errors import InvalidInput
from policenet.security import pki
from policenet.store.ports import UnitOfWork

CRL_REPUBLISH_BEFORE = timedelta(hours=12)
"""Republish the CRL when its next update is closer than this."""


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    root: x509.Certificate
    issuing: pki.KeyAndCertificate
    directory: Path

    @property
    def crl_path(self) -> Path:
        return self.directory / "crl.pem"

    @property
    def trust_path(self) -> Path:
        return self.directory / "trust.pem"

    @property
    def root_path(self) -> Path:
        return self.directory / "root.pem"


def create_ca(directory: Path, network_name: str, now: datetime) -> CertificateAuthority:
    """Create a root and an issuing CA under ``directory`` and an empty CRL."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = pki.create_root_ca(f"{network_name} Root CA", now)
    issuing = pki.create_issuing_ca(root, f"{network_name} Issuing CA", now)
    pki.write_private_key(directory / "root.key", root.key)
    pki.write_certificates(directory / "root.pem", [root.certificate])
    pki.write_private_key(directory / "issuing.key", issuing.key)
    pki.write_certificates(directory / "issuing.pem", [issuing.certificate])
    pki.write_certificates(directory / "trust.pem", [root.certificate, issuing.certificate])
    ca = CertificateAuthority(root=root.certificate, issuing=issuing, directory=directory)
    pki.write_crl(ca.crl_path, pki.build_crl(issuing, [], crl_number=1, now=now))
    return ca


def load_ca(directory: Path) -> CertificateAuthority:
    """Load the CA from ``directory``; InvalidInput naming the file that cannot be read.

    The root's private key is not read (it may be offline).
    """
    root = pki.load_certificates(directory / "root.pem")[0]
    issuing = pki.KeyAndCertificate(
        key=pki.load_private_key(directory / "issuing.key"),
        certificate=pki.load_certificates(directory / "issuing.pem")[0],
    )
    return CertificateAuthority(root=root, issuing=issuing, directory=directory)


def publish_crl(ca: CertificateAuthority, uow: UnitOfWork, now: datetime) -> int:
    """Write a fresh CRL listing every revoked certificate; returns the number revoked.

    The CRL number is the time in milliseconds, so it grows with every CRL
    even when two hub administrators publish one after the other.
    """
    revoked = [
        (c.serial, c.revoked_at, c.revocation_reason or "unspecified")
        for c in uow.certificates.revoked()
        if c.revoked_at is not None
    ]
    crl = pki.build_crl(ca.issuing, revoked, crl_number=int(now.timestamp() * 1000), now=now)
    pki.write_crl(ca.crl_path, crl)
    return len(revoked)


def crl_due(ca: CertificateAuthority, now: datetime) -> bool:
    """True when the published CRL is unreadable or its next update is near."""
    try:
        crl = pki.load_crl(ca.crl_path)
    except InvalidInput:
        return True
    next_update = crl.next_update_utc
    return next_update is None or next_update - now < CRL_REPUBLISH_BEFORE
