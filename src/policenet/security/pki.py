"""The member PKI: the hub's certificate authority, member and server certificates, CRLs.

The hierarchy has two CA levels so that the root key can stay offline::

    root CA        (pathlen 1, keyCertSign + cRLSign, 20 years by default)
    └── issuing CA (pathlen 0, signs leaves and the CRL, 5 years by default)
        ├── member certificates  clientAuth; SAN URI urn:policenet:member:<code>
        └── server certificates  serverAuth; SAN DNS names and IP addresses

Every key is ECDSA P-256 and every signature ECDSA with SHA-256 (Mozilla's
"modern" TLS profile). A member is identified by the SAN URI of its
certificate and nothing else: the subject CN is a human label, cut to the 64
characters X.509 allows. Leaves start five minutes before ``now`` so that a
peer whose clock is slightly behind accepts them, and never outlive their
issuer. The CRL is signed by the issuing CA, which issues every leaf, so one
CRL covers every certificate the hub checks.

Functions that build certificates are pure: they take ``now`` (timezone-aware
UTC) and touch no files. The PEM helpers at the bottom do the file I/O; every
failure there raises :class:`~policenet.errors.InvalidInput` naming the file
and what is wrong with it. Private keys are written unencrypted with mode 0600:
the file system protects them, as it does for every TLS server's key.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from policenet.domain.countries import validate_country
from policenet.domain.members import MEMBER_URI_PREFIX, code_from_uri, member_uri, validate_code
from policenet.errors import IntegrityFailure, InvalidField, InvalidInput

CLOCK_SKEW = timedelta(minutes=5)
"""How far before ``now`` a new certificate starts, for peers whose clocks lag."""

ORGANIZATION = "policenet"

#: Revocation reasons a hub administrator may give, as words (RFC 5280 §5.3.1).
#: ``remove_from_crl`` is left out: it only has meaning in delta CRLs.
REVOCATION_REASONS: tuple[str, ...] = tuple(
    flag.name for flag in x509.ReasonFlags if flag is not x509.ReasonFlags.remove_from_crl
)

_MAX_CN = 64  # the upper bound X.509 (RFC 5280 ub-common-name) puts on a common name


@dataclass(frozen=True)
class KeyAndCertificate:
    """A private key and the certificate for its public key."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def _check_time(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidField("now", "must be timezone-aware (UTC)")


def _check_key(public_key: ec.EllipticCurvePublicKey) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise InvalidField("public_key", "must be an ECDSA P-256 public key")


def subject_name(common_name: str, country: str | None = None) -> x509.Name:
    """C=country (if given), O=policenet, CN=common name cut to the 64 characters X.509 allows."""
    label = " ".join(common_name.split())[:_MAX_CN].strip()
    if not label:
        raise InvalidField("common_name", "must not be empty")
    attributes = []
    if country is not None:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, validate_country(country)))
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, label))
    return x509.Name(attributes)


def _ski(certificate: x509.Certificate) -> x509.SubjectKeyIdentifier:
    return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def _sign(builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return builder.sign(key, hashes.SHA256())


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def create_root_ca(common_name: str, now: datetime, valid_days: int = 7300) -> KeyAndCertificate:
    """A new self-signed root CA (path length 1: it signs one issuing CA level)."""
    _check_time(now)
    key = generate_key()
    name = subject_name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return KeyAndCertificate(key, _sign(builder, key))


def create_issuing_ca(
    root: KeyAndCertificate, common_name: str, now: datetime, valid_days: int = 1825
) -> KeyAndCertificate:
    """A new issuing CA signed by ``root`` (path length 0: it signs only leaves and CRLs).

    Its validity is cut to end with the root's.
    """
    _check_time(now)
    key = generate_key()
    builder = (
        _issued_by(root, now, valid_days)
        .subject_name(subject_name(common_name))
        .public_key(key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return KeyAndCertificate(key, _sign(builder, root.key))


def _issued_by(
    issuer: KeyAndCertificate, now: datetime, valid_days: int
) -> x509.CertificateBuilder:
    """A builder with the parts every certificate signed by ``issuer`` shares."""
    if valid_days < 1:
        raise InvalidField("valid_days", f"must be at least 1, not {valid_days}")
    not_after = min(now + timedelta(days=valid_days), issuer.certificate.not_valid_after_utc)
    if not_after <= now:
        raise InvalidInput(
            f"the issuer {issuer.certificate.subject.rfc4514_string()} expired on "
            f"{issuer.certificate.not_valid_after_utc:%Y-%m-%d}; it cannot issue certificates"
        )
    return (
        x509.CertificateBuilder()
        .issuer_name(issuer.certificate.subject)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                _ski(issuer.certificate)
            ),
            critical=False,
        )
    )


def _leaf(
    issuer: KeyAndCertificate,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    valid_days: int,
    crl_url: str,
) -> x509.CertificateBuilder:
    _check_time(now)
    _check_key(public_key)
    if not crl_url.startswith(("http://", "https://")):
        raise InvalidField("crl_url", f"{crl_url!r} is not an http(s) URL")
    return (
        _issued_by(issuer, now, valid_days)
        .public_key(public_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
    )


def issue_member_certificate(
    issuer: KeyAndCertificate,
    *,
    member_code: str,
    member_name: str,
    country: str | None,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    valid_days: int = 365,
    crl_url: str,
) -> x509.Certificate:
    """A client certificate naming ``member_code`` in its SAN URI (clientAuth only).

    The subject is CN=member name (cut to 64 characters), O=policenet and
    C=country when given. Raises InvalidField for a bad code, country, key or URL.
    """
    uri = member_uri(validate_code(member_code))
    builder = (
        _leaf(issuer, public_key, now, valid_days, crl_url)
        .subject_name(subject_name(member_name, country))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    return _sign(builder, issuer.key)


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    label = host.strip().rstrip(".").lower()
    if not label or any(c.isspace() or c in "/:@" for c in label):
        raise InvalidField("hostnames", f"{host!r} is neither a DNS name nor an IP address")
    return x509.DNSName(label)


def server_names(hostnames: Sequence[str]) -> list[x509.GeneralName]:
    """SAN entries for ``hostnames``: an IPAddress for an IP literal, a DNSName otherwise."""
    if not hostnames:
        raise InvalidField("hostnames", "name at least one host name or IP address")
    names: list[x509.GeneralName] = []
    for host in hostnames:
        name = _general_name(host)
        if name not in names:
            names.append(name)
    return names


def issue_server_certificate(
    issuer: KeyAndCertificate,
    *,
    hostnames: Sequence[str],
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    valid_days: int = 365,
    crl_url: str,
) -> x509.Certificate:
    """A TLS server certificate for ``hostnames`` (serverAuth only).

    IP literals ("127.0.0.1", "::1") become IPAddress SANs, other names DNSName
    SANs; the CN is the first name, for people reading the certificate.
    """
    names = server_names(hostnames)
    builder = (
        _leaf(issuer, public_key, now, valid_days, crl_url)
        .subject_name(subject_name(hostnames[0]))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    return _sign(builder, issuer.key)


def revocation_reason(word: str) -> x509.ReasonFlags:
    """The RFC 5280 reason for one of :data:`REVOCATION_REASONS`; InvalidField otherwise."""
    if word not in REVOCATION_REASONS:
        raise InvalidField(
            "reason",
            f"{word!r} is not a revocation reason; use one of {', '.join(REVOCATION_REASONS)}",
        )
    return x509.ReasonFlags[word]


def build_crl(
    issuer: KeyAndCertificate,
    revoked: Sequence[tuple[int, datetime, str]],
    *,
    crl_number: int,
    now: datetime,
    next_update: timedelta = timedelta(days=1),
) -> x509.CertificateRevocationList:
    """A CRL signed by ``issuer`` listing ``(serial, revoked_at, reason word)`` entries.

    ``crl_number`` must grow with each CRL the issuer publishes. The reason
    "unspecified" is left out of the entry, as RFC 5280 asks. A TLS peer that
    checks CRLs refuses everyone once ``now + next_update`` has passed, so the
    hub must publish a new CRL before then.
    """
    _check_time(now)
    if crl_number < 0:
        raise InvalidField("crl_number", f"must not be negative, not {crl_number}")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                _ski(issuer.certificate)
            ),
            critical=False,
        )
    )
    for serial, revoked_at, word in revoked:
        _check_time(revoked_at)
        reason = revocation_reason(word)
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
        if reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer.key, hashes.SHA256())


def member_code_of(cert: x509.Certificate) -> str:
    """The member code named by the certificate's one policenet SAN URI.

    Raises InvalidField("certificate", ...) when the certificate has no SAN URI,
    only URIs of other schemes, or more than one policenet member URI.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise InvalidField(
            "certificate", "has no subject alternative name, so it names no policenet member"
        ) from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    ours = [uri for uri in uris if uri.startswith(MEMBER_URI_PREFIX)]
    if len(ours) > 1:
        raise InvalidField("certificate", f"names more than one policenet member: {ours}")
    if not ours:
        if uris:
            return code_from_uri(uris[0])  # raises, naming the foreign URI
        raise InvalidField("certificate", "has no SAN URI, so it names no policenet member")
    return code_from_uri(ours[0])


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 of the certificate's DER encoding, lower-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def _check_dates(cert: x509.Certificate, label: str, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise IntegrityFailure(
            f"{label} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC "
            "(check this machine's clock)"
        )
    if now >= cert.not_valid_after_utc:
        raise IntegrityFailure(f"{label} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")


def verify_member_chain(
    leaf: x509.Certificate, issuing: x509.Certificate, root: x509.Certificate, now: datetime
) -> str:
    """Check that ``leaf`` is a member certificate of ``root``'s PKI at ``now``; return its code.

    The path leaf → issuing → root is checked by cryptography's RFC 5280
    verifier as a TLS client certificate (signatures, validity, CA
    constraints, clientAuth). Revocation is not checked here: that is the CRL's
    job at the TLS layer. Raises IntegrityFailure naming what is wrong.
    """
    _check_time(now)
    _check_dates(root, "the root CA certificate", now)
    _check_dates(issuing, "the issuing CA certificate", now)
    _check_dates(leaf, "the member certificate", now)
    verifier = PolicyBuilder().store(Store([root])).time(now).build_client_verifier()
    try:
        verifier.verify(leaf, [issuing])
    except VerificationError as exc:
        raise IntegrityFailure(
            f"the member certificate does not chain to the root CA "
            f"{root.subject.rfc4514_string()}: {exc}"
        ) from None
    try:
        return member_code_of(leaf)
    except InvalidField as exc:
        raise IntegrityFailure(f"the member certificate {exc.reason}") from None


# --- PEM files ---------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path} cannot be read: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} cannot be read: it is a directory") from None
    except PermissionError:
        raise InvalidInput(f"{path} cannot be read: permission denied") from None
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror}") from None


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new, never half.

    The file is created with ``mode`` from the start (so a key is never
    readable by others, not even for a moment) and renamed over ``path``.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(fd, mode)  # the umask may have taken bits away; put them back exactly
            out.write(data)
            out.flush()
            os.fsync(fd)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InvalidInput(f"{path} cannot be written: {exc.strerror}") from None


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM, mode 0600, atomically."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomically(path, data, 0o600)


def write_certificates(path: Path, certs: Sequence[x509.Certificate]) -> None:
    """Write ``certs`` as concatenated PEM (leaf first for a chain), mode 0644, atomically."""
    if not certs:
        raise InvalidInput(f"{path}: no certificates to write")
    write_atomically(path, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))


def write_crl(path: Path, crl: x509.CertificateRevocationList) -> None:
    """Write ``crl`` as PEM, mode 0644, atomically (a TLS server may be reading it)."""
    write_atomically(path, crl.public_bytes(serialization.Encoding.PEM))


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read an unencrypted PEM ECDSA P-256 private key; InvalidInput naming the file otherwise."""
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidInput(
            f"{path} cannot be read: the key is encrypted with a password; policenet keys are "
            "unencrypted and protected by file permissions (chmod 600)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput(f"{path} cannot be read: not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidInput(f"{path} cannot be used: policenet keys are ECDSA P-256")
    return key


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Read one or more PEM certificates, in file order; InvalidInput naming the file otherwise."""
    data = _read(path)
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InvalidInput(f"{path} cannot be read: not a PEM certificate file") from None


def load_crl(path: Path) -> x509.CertificateRevocationList:
    """Read a PEM CRL; InvalidInput naming the file otherwise."""
    data = _read(path)
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError:
        raise InvalidInput(f"{path} cannot be read: not a PEM CRL") from None


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (for the edges; pure code takes ``now``)."""
    return datetime.now(UTC)
