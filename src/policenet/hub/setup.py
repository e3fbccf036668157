"""``policenet hub init``: a new hub directory with its CA, TLS identity, audit key and database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509

from policenet.domain.certificates import CertificatePurpose
from policenet.errors import Conflict
from policenet.hub.admission import issued_record
from policenet.hub.ca import CertificateAuthority, create_ca, load_ca
from policenet.hub.keys import create_audit_key
from policenet.security import pki
from policenet.settings import HubSettings, load, save
from policenet.store.database import open_store


def init_hub(
    directory: Path,
    *,
    db_url: str | None,
    host: str,
    port: int,
    hostnames: tuple[str, ...],
    public_url: str | None,
    network_name: str,
    now: datetime,
) -> HubSettings:
    """Create everything a hub needs under ``directory``; refuses a directory already in use.

    ``db_url`` defaults to SQLite in the directory. Nothing is left behind when
    a step fails before the settings file is written (it is written last).
    """
    directory = directory.resolve()
    if (directory / "hub.toml").exists():
        raise Conflict(f"{directory} already holds a hub (hub.toml exists)")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = public_url or f"https://{hostnames[0] if hostnames else host}:{port}"
    settings = HubSettings(
        directory=directory,
        db_url=db_url or "sqlite:///hub.db",
        host=host,
        port=port,
        public_url=url,
        hostnames=hostnames,
    )
    ca = create_ca(settings.ca_dir, network_name, now)
    server_cert = issue_hub_certificate(settings, ca, now)
    create_audit_key(settings.audit_key_path)
    resolved = settings.db_url
    if resolved.startswith("sqlite:///") and not resolved.startswith("sqlite:////"):
        resolved = f"sqlite:///{directory / resolved.removeprefix('sqlite:///')}"
    store = open_store(resolved, create=True)
    try:
        with store.unit_of_work() as uow:
            uow.certificates.add(issued_record("hub", server_cert, CertificatePurpose.HUB_SERVER))
    finally:
        store.close()
    save(settings)
    return load(HubSettings, directory)


def issue_hub_certificate(
    settings: HubSettings, ca: CertificateAuthority, now: datetime
) -> x509.Certificate:
    """Issue the hub's TLS server certificate and write it with its key to ``tls/``.

    The files are replaced atomically; a running hub picks the new certificate
    up when it restarts.
    """
    key = pki.generate_key()
    cert = pki.issue_server_certificate(
        ca.issuing,
        hostnames=settings.hostnames,
        public_key=key.public_key(),
        now=now,
        valid_days=settings.server_certificate_days,
        crl_url=f"{settings.public_url}/v1/crl",
    )
    settings.tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki.write_private_key(settings.tls_dir / "server.key", key)
    pki.write_certificates(settings.tls_dir / "server.pem", [cert, ca.issuing.certificate])
    return cert


def renew_hub_certificate(settings: HubSettings, now: datetime) -> x509.Certificate:
    """``policenet hub renew-certificate``: a fresh server certificate, recorded in the store."""
    cert = issue_hub_certificate(settings, load_ca(settings.ca_dir), now)
    store = open_store(settings.db_url)
    try:
        with store.unit_of_work() as uow:
            uow.certificates.add(issued_record("hub", cert, CertificatePurpose.HUB_SERVER))
    finally:
        store.close()
    return cert
