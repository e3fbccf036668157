"""The member PKI: what the certificates and CRLs say, and the PEM files they live in."""

from __future__ import annotations

import ipaddress
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import IntegrityFailure, InvalidField, InvalidInput
from policenet.security import pki
from policenet.security.tls import create_self_signed_server

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CRL_URL = "https://hub.example.org:8443/v1/crl"


@pytest.fixture(scope="module")
def root() -> pki.KeyAndCertificate:
    return pki.create_root_ca("Test Root CA", NOW)


@pytest.fixture(scope="module")
def issuing(root: pki.KeyAndCertificate) -> pki.KeyAndCertificate:
    return pki.create_issuing_ca(root, "Test Issuing CA", NOW)


def member_cert(
    issuing: pki.KeyAndCertificate,
    code: str = "ncb-gb",
    *,
    now: datetime = NOW,
    name: str = "NCB London",
    country: str | None = "GB",
) -> x509.Certificate:
    return pki.issue_member_certificate(
        issuing,
        member_code=code,
        member_name=name,
        country=country,
        public_key=pki.generate_key().public_key(),
        now=now,
        crl_url=CRL_URL,
    )


def ext(
    cert: x509.Certificate, kind: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(kind)


def test_member_certificate_names_the_member_and_is_for_clients_only(
    issuing: pki.KeyAndCertificate,
) -> None:
    cert = member_cert(issuing)

    san = ext(cert, x509.SubjectAlternativeName).value
    assert isinstance(san, x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "urn:policenet:member:ncb-gb"
    ]
    eku = ext(cert, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = ext(cert, x509.KeyUsage).value
    assert isinstance(usage, x509.KeyUsage)
    assert usage.digital_signature and not usage.key_cert_sign
    dps = ext(cert, x509.CRLDistributionPoints).value
    assert isinstance(dps, x509.CRLDistributionPoints)
    assert dps[0].full_name == [x509.UniformResourceIdentifier(CRL_URL)]
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "GB"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "NCB London"
    assert cert.not_valid_before_utc == NOW - timedelta(minutes=5)
    assert cert.not_valid_after_utc == NOW + timedelta(days=365)
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    ski = ext(issuing.certificate, x509.SubjectKeyIdentifier).value
    assert isinstance(aki, x509.AuthorityKeyIdentifier)
    assert isinstance(ski, x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.digest
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)


def test_serials_are_random_and_distinct(issuing: pki.KeyAndCertificate) -> None:
    serials = {member_cert(issuing).serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(s.bit_length() > 64 for s in serials)


def test_long_member_name_is_cut_in_the_cn_but_identity_stays_in_the_san(
    issuing: pki.KeyAndCertificate,
) -> None:
    cert = member_cert(issuing, name="Police " * 30)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(cn, str)
    assert 0 < len(cn) <= 64
    assert pki.member_code_of(cert) == "ncb-gb"


def test_the_general_secretariat_has_no_country_in_its_subject(
    issuing: pki.KeyAndCertificate,
) -> None:
    cert = member_cert(issuing, "gs", name="General Secretariat", country=None)
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME) == []


@settings(max_examples=40, deadline=None)
@given(code=st.from_regex(r"[a-z0-9][a-z0-9-]{1,62}", fullmatch=True))
def test_member_code_round_trips_through_the_certificate(
    issuing: pki.KeyAndCertificate, code: str
) -> None:
    assert pki.member_code_of(member_cert(issuing, code)) == code


@pytest.mark.parametrize("bad", ["NCB_GB", "x", "", "ncb gb"])
def test_issuing_refuses_a_bad_member_code(issuing: pki.KeyAndCertificate, bad: str) -> None:
    with pytest.raises(InvalidField) as caught:
        member_cert(issuing, bad)
    assert caught.value.field == "code"


def test_issuing_refuses_a_key_that_is_not_p256(issuing: pki.KeyAndCertificate) -> None:
    with pytest.raises(InvalidField) as caught:
        pki.issue_member_certificate(
            issuing,
            member_code="ncb-gb",
            member_name="NCB London",
            country="GB",
            public_key=ec.generate_private_key(ec.SECP384R1()).public_key(),
            now=NOW,
            crl_url=CRL_URL,
        )
    assert caught.value.field == "public_key"


def test_issuing_refuses_a_naive_time(issuing: pki.KeyAndCertificate) -> None:
    with pytest.raises(InvalidField, match="timezone"):
        member_cert(issuing, now=NOW.replace(tzinfo=None))


def test_a_leaf_never_outlives_its_issuer(root: pki.KeyAndCertificate) -> None:
    short = pki.create_issuing_ca(root, "Short-lived Issuing CA", NOW, valid_days=30)
    cert = member_cert(short)
    assert cert.not_valid_after_utc == short.certificate.not_valid_after_utc


def test_an_expired_issuer_cannot_issue(root: pki.KeyAndCertificate) -> None:
    old = pki.create_issuing_ca(root, "Old Issuing CA", NOW - timedelta(days=40), valid_days=30)
    with pytest.raises(InvalidInput, match="expired"):
        member_cert(old)


def test_ca_certificates_carry_their_constraints(
    root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate
) -> None:
    for ca, pathlen in ((root, 1), (issuing, 0)):
        bc = ext(ca.certificate, x509.BasicConstraints)
        assert bc.critical
        assert isinstance(bc.value, x509.BasicConstraints)
        assert bc.value.ca and bc.value.path_length == pathlen
        usage = ext(ca.certificate, x509.KeyUsage).value
        assert isinstance(usage, x509.KeyUsage)
        assert usage.key_cert_sign and usage.crl_sign
    assert issuing.certificate.issuer == root.certificate.subject
    issuing.certificate.verify_directly_issued_by(root.certificate)


def test_server_certificate_names_hosts_and_ip_addresses(
    issuing: pki.KeyAndCertificate,
) -> None:
    cert = pki.issue_server_certificate(
        issuing,
        hostnames=["hub.example.org", "127.0.0.1", "::1", "HUB.example.org."],
        public_key=pki.generate_key().public_key(),
        now=NOW,
        crl_url=CRL_URL,
    )
    san = ext(cert, x509.SubjectAlternativeName).value
    assert isinstance(san, x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.DNSName) == ["hub.example.org"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    eku = ext(cert, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


@pytest.mark.parametrize("hostnames", [[], ["hub example"], ["https://hub.example.org"]])
def test_server_certificate_refuses_bad_host_names(
    issuing: pki.KeyAndCertificate, hostnames: list[str]
) -> None:
    with pytest.raises(InvalidField) as caught:
        pki.issue_server_certificate(
            issuing,
            hostnames=hostnames,
            public_key=pki.generate_key().public_key(),
            now=NOW,
            crl_url=CRL_URL,
        )
    assert caught.value.field == "hostnames"


def _cert_with_san(
    issuing: pki.KeyAndCertificate, names: list[x509.GeneralName]
) -> x509.Certificate:
    key = pki.generate_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(pki.subject_name("someone"))
        .issuer_name(issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuing.key, hashes.SHA256())


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "no subject alternative name"),
        ([x509.DNSName("node.example.org")], "no SAN URI"),
        ([x509.UniformResourceIdentifier("https://example.org/ncb-gb")], "does not name"),
        ([x509.UniformResourceIdentifier("urn:policenet:member:NOT_A_CODE")], "not a member code"),
        (
            [
                x509.UniformResourceIdentifier("urn:policenet:member:ncb-gb"),
                x509.UniformResourceIdentifier("urn:policenet:member:ncb-fr"),
            ],
            "more than one",
        ),
    ],
)
def test_member_code_of_refuses_a_certificate_naming_no_single_member(
    issuing: pki.KeyAndCertificate, names: list[x509.GeneralName], message: str
) -> None:
    with pytest.raises(InvalidField, match=message):
        pki.member_code_of(_cert_with_san(issuing, names))


def test_member_code_of_ignores_other_uris_beside_ours(issuing: pki.KeyAndCertificate) -> None:
    cert = _cert_with_san(
        issuing,
        [
            x509.UniformResourceIdentifier("https://ncb.example.gov"),
            x509.UniformResourceIdentifier("urn:policenet:member:ncb-gb"),
        ],
    )
    assert pki.member_code_of(cert) == "ncb-gb"


def test_fingerprint_is_the_sha256_of_the_der(issuing: pki.KeyAndCertificate) -> None:
    a, b = member_cert(issuing), member_cert(issuing)
    assert pki.fingerprint(a) == a.fingerprint(hashes.SHA256()).hex()
    assert len(pki.fingerprint(a)) == 64
    assert pki.fingerprint(a) != pki.fingerprint(b)


def test_crl_lists_revoked_serials_with_their_reasons(issuing: pki.KeyAndCertificate) -> None:
    revoked, kept = member_cert(issuing), member_cert(issuing)
    superseded = member_cert(issuing)
    crl = pki.build_crl(
        issuing,
        [
            (revoked.serial_number, NOW - timedelta(hours=1), "key_compromise"),
            (superseded.serial_number, NOW, "unspecified"),
        ],
        crl_number=7,
        now=NOW,
    )
    assert crl.is_signature_valid(issuing.key.public_key())
    assert crl.issuer == issuing.certificate.subject
    assert crl.get_revoked_certificate_by_serial_number(kept.serial_number) is None
    entry = crl.get_revoked_certificate_by_serial_number(revoked.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == NOW - timedelta(hours=1)
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value
    assert reason.reason is x509.ReasonFlags.key_compromise
    plain = crl.get_revoked_certificate_by_serial_number(superseded.serial_number)
    assert plain is not None
    assert len(plain.extensions) == 0  # RFC 5280: leave "unspecified" out
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    assert crl.last_update_utc == NOW
    assert crl.next_update_utc == NOW + timedelta(days=1)


def test_crl_refuses_an_unknown_reason(issuing: pki.KeyAndCertificate) -> None:
    with pytest.raises(InvalidField) as caught:
        pki.build_crl(issuing, [(1, NOW, "fell_in_the_river")], crl_number=1, now=NOW)
    assert caught.value.field == "reason"
    assert "key_compromise" in caught.value.reason  # the message lists the valid words


def test_verify_member_chain_returns_the_member_code(
    root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate
) -> None:
    cert = member_cert(issuing, "gb-metropolitan-police")
    assert (
        pki.verify_member_chain(cert, issuing.certificate, root.certificate, NOW)
        == "gb-metropolitan-police"
    )


def test_verify_member_chain_refuses_another_pki(
    root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate
) -> None:
    other_root = pki.create_root_ca("Other Root", NOW)
    other_issuing = pki.create_issuing_ca(other_root, "Other Issuing", NOW)
    cert = member_cert(other_issuing)
    with pytest.raises(IntegrityFailure, match="does not chain"):
        pki.verify_member_chain(cert, other_issuing.certificate, root.certificate, NOW)
    with pytest.raises(IntegrityFailure, match="does not chain"):
        pki.verify_member_chain(cert, issuing.certificate, root.certificate, NOW)


def test_verify_member_chain_refuses_a_server_certificate(
    root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate
) -> None:
    server = pki.issue_server_certificate(
        issuing,
        hostnames=["hub.example.org"],
        public_key=pki.generate_key().public_key(),
        now=NOW,
        crl_url=CRL_URL,
    )
    with pytest.raises(IntegrityFailure, match="EKU"):
        pki.verify_member_chain(server, issuing.certificate, root.certificate, NOW)


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (NOW + timedelta(days=366), "member certificate expired"),
        (NOW - timedelta(hours=1), "not valid before"),
    ],
)
def test_verify_member_chain_checks_dates(
    root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate, at: datetime, message: str
) -> None:
    cert = member_cert(issuing)
    with pytest.raises(IntegrityFailure, match=message):
        pki.verify_member_chain(cert, issuing.certificate, root.certificate, at)


# --- files ---------------------------------------------------------------------


def test_private_key_file_is_0600_and_round_trips(tmp_path: Path) -> None:
    key = pki.generate_key()
    path = tmp_path / "member.key"
    old = os.umask(0)  # the mode must not depend on the caller's umask
    try:
        pki.write_private_key(path, key)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pki.load_private_key(path).private_numbers() == key.private_numbers()
    assert b"ENCRYPTED" not in path.read_bytes()


def test_rewriting_a_file_replaces_it_whole_and_leaves_no_temporary(
    tmp_path: Path, issuing: pki.KeyAndCertificate
) -> None:
    path = tmp_path / "crl.pem"
    pki.write_crl(path, pki.build_crl(issuing, [], crl_number=1, now=NOW))
    inode = path.stat().st_ino
    pki.write_crl(path, pki.build_crl(issuing, [(5, NOW, "superseded")], crl_number=2, now=NOW))
    assert path.stat().st_ino != inode  # a new file renamed in, not the old one rewritten
    assert len(pki.load_crl(path)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["crl.pem"]


def test_certificates_round_trip_in_order(
    tmp_path: Path, root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate
) -> None:
    path = tmp_path / "chain.pem"
    pki.write_certificates(path, [issuing.certificate, root.certificate])
    assert pki.load_certificates(path) == [issuing.certificate, root.certificate]
    with pytest.raises(InvalidInput, match="no certificates"):
        pki.write_certificates(tmp_path / "empty.pem", [])


def test_writing_into_a_missing_directory_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "member.key"
    with pytest.raises(InvalidInput, match=r"member\.key cannot be written"):
        pki.write_private_key(path, pki.generate_key())


@pytest.mark.parametrize(
    ("loader", "expected"),
    [
        (pki.load_crl, "not a PEM CRL"),
        (pki.load_certificates, "not a PEM certificate file"),
        (pki.load_private_key, "not a PEM private key"),
    ],
)
@pytest.mark.parametrize("content", [b"", b"garbage\n", b"-----BEGIN X509 CRL-----\nAAAA\n"])
def test_loaders_name_the_file_and_the_fault(
    tmp_path: Path, loader: object, expected: str, content: bytes
) -> None:
    path = tmp_path / "crl.pem"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        loader(path)  # type: ignore[operator]
    assert str(path) in caught.value.message
    assert expected in caught.value.message


@pytest.mark.parametrize("loader", [pki.load_crl, pki.load_certificates, pki.load_private_key])
def test_loaders_report_a_missing_file_or_a_directory(tmp_path: Path, loader: object) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        loader(tmp_path / "absent.pem")  # type: ignore[operator]
    with pytest.raises(InvalidInput, match="is a directory"):
        loader(tmp_path)  # type: ignore[operator]


def test_loaders_refuse_the_wrong_kind_of_pem(
    tmp_path: Path, issuing: pki.KeyAndCertificate
) -> None:
    key_file, cert_file = tmp_path / "a.key", tmp_path / "a.pem"
    pki.write_private_key(key_file, issuing.key)
    pki.write_certificates(cert_file, [issuing.certificate])
    with pytest.raises(InvalidInput, match="not a PEM certificate file"):
        pki.load_certificates(key_file)
    with pytest.raises(InvalidInput, match="not a PEM private key"):
        pki.load_private_key(cert_file)
    with pytest.raises(InvalidInput, match="not a PEM CRL"):
        pki.load_crl(cert_file)


def test_load_private_key_explains_encrypted_and_non_p256_keys(tmp_path: Path) -> None:
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        pki.generate_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(InvalidInput, match="encrypted"):
        pki.load_private_key(encrypted)
    rsa_key = tmp_path / "rsa.key"
    rsa_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InvalidInput, match="P-256"):
        pki.load_private_key(rsa_key)


def test_self_signed_node_certificate_serves_its_names() -> None:
    issued = create_self_signed_server(["node.example.gov", "10.0.0.5"], NOW)
    cert = issued.certificate
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    san = ext(cert, x509.SubjectAlternativeName).value
    assert isinstance(san, x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.DNSName) == ["node.example.gov"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5")]
    assert cert.not_valid_after_utc == NOW + timedelta(days=825)
    assert issued.key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
