"""Member bundles: written by the hub, read and checked by a new node."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from policenet.errors import Conflict, IntegrityFailure, InvalidField, InvalidInput
from policenet.security import pki
from policenet.security.bundle import MemberBundle, check_hub_url, read_bundle, write_bundle

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def root() -> pki.KeyAndCertificate:
    return pki.create_root_ca("Test Root CA", NOW)


@pytest.fixture(scope="module")
def issuing(root: pki.KeyAndCertificate) -> pki.KeyAndCertificate:
    return pki.create_issuing_ca(root, "Test Issuing CA", NOW)


def make_bundle(
    root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate, code: str = "gb-met-police"
) -> MemberBundle:
    key = pki.generate_key()
    cert = pki.issue_member_certificate(
        issuing,
        member_code=code,
        member_name="Metropolitan Police",
        country="GB",
        public_key=key.public_key(),
        now=NOW,
        crl_url="https://hub.example.org:8443/v1/crl",
    )
    return MemberBundle(
        member_code=code,
        name="Metropolitan Police",
        kind="agency",
        country="GB",
        parent="ncb-gb",
        hub_url="https://hub.example.org:8443",
        key=key,
        certificate=cert,
        issuing=issuing.certificate,
        root=root.certificate,
    )


@pytest.fixture
def bundle(root: pki.KeyAndCertificate, issuing: pki.KeyAndCertificate) -> MemberBundle:
    return make_bundle(root, issuing)


@pytest.fixture
def written(tmp_path: Path, bundle: MemberBundle) -> Path:
    path = tmp_path / "bundle"
    write_bundle(path, bundle)
    return path


def _public(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_bundle_round_trips(written: Path, bundle: MemberBundle) -> None:
    read = read_bundle(written, NOW + timedelta(days=1))
    assert (read.member_code, read.name, read.kind, read.country, read.parent, read.hub_url) == (
        "gb-met-police",
        "Metropolitan Police",
        "agency",
        "GB",
        "ncb-gb",
        "https://hub.example.org:8443",
    )
    assert (read.certificate, read.issuing, read.root) == (
        bundle.certificate,
        bundle.issuing,
        bundle.root,
    )
    assert _public(read.key) == _public(bundle.key)


def test_bundle_files_and_modes(written: Path, bundle: MemberBundle) -> None:
    assert sorted(p.name for p in written.iterdir()) == [
        "bundle.json",
        "ca.pem",
        "member.key",
        "member.pem",
    ]
    assert stat.S_IMODE(written.stat().st_mode) == 0o700
    assert stat.S_IMODE((written / "member.key").stat().st_mode) == 0o600
    assert pki.load_certificates(written / "member.pem") == [bundle.certificate, bundle.issuing]
    assert pki.load_certificates(written / "ca.pem") == [bundle.root]
    info = json.loads((written / "bundle.json").read_text())
    assert info == {
        "format": 1,
        "member": "gb-met-police",
        "name": "Metropolitan Police",
        "kind": "agency",
        "country": "GB",
        "parent": "ncb-gb",
        "hub_url": "https://hub.example.org:8443",
    }


def test_write_refuses_a_non_empty_directory_but_takes_an_empty_one(
    tmp_path: Path, bundle: MemberBundle
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("keep me")
    with pytest.raises(Conflict, match="not empty"):
        write_bundle(full, bundle)
    assert [p.name for p in full.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    write_bundle(empty, bundle)
    assert stat.S_IMODE(empty.stat().st_mode) == 0o700
    assert read_bundle(empty, NOW).member_code == bundle.member_code


def test_write_refuses_a_bad_hub_url(tmp_path: Path, bundle: MemberBundle) -> None:
    with pytest.raises(InvalidField) as caught:
        write_bundle(tmp_path / "b", replace(bundle, hub_url="http://hub.example.org:8443"))
    assert caught.value.field == "hub_url"
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://hub.example.org:8443",
        "https://hub.example.org",
        "https://:8443",
        "https://hub.example.org:8443/api",
        "https://user@hub.example.org:8443",
        "https://hub.example.org:99999",
    ],
)
def test_check_hub_url_refuses_anything_but_https_host_port(url: str) -> None:
    with pytest.raises(InvalidField):
        check_hub_url(url)


@pytest.mark.parametrize(
    "url", ["https://hub.example.org:8443", "https://127.0.0.1:8443/", "https://[::1]:8443"]
)
def test_check_hub_url_accepts_https_host_port(url: str) -> None:
    assert check_hub_url(url) == url.rstrip("/")


def test_read_refuses_a_key_that_does_not_match(written: Path) -> None:
    pki.write_private_key(written / "member.key", pki.generate_key())
    with pytest.raises(
        InvalidInput, match=r"member\.key does not match the certificate in member\.pem"
    ):
        read_bundle(written, NOW)


def test_read_refuses_a_certificate_of_another_ca(written: Path) -> None:
    other = pki.create_root_ca("Impostor Root CA", NOW)
    pki.write_certificates(written / "ca.pem", [other.certificate])
    with pytest.raises(IntegrityFailure, match="does not chain"):
        read_bundle(written, NOW)


def test_read_refuses_an_expired_certificate(written: Path) -> None:
    with pytest.raises(IntegrityFailure, match="expired"):
        read_bundle(written, NOW + timedelta(days=400))


def test_read_refuses_a_code_other_than_the_certificates(written: Path) -> None:
    info = json.loads((written / "bundle.json").read_text())
    info["member"] = "ncb-gb"
    (written / "bundle.json").write_text(json.dumps(info))
    with pytest.raises(InvalidInput) as caught:
        read_bundle(written, NOW)
    assert "'ncb-gb'" in caught.value.message
    assert "'gb-met-police'" in caught.value.message


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_read_refuses_a_key_open_to_others(written: Path, mode: int) -> None:
    (written / "member.key").chmod(mode)
    with pytest.raises(InvalidInput, match="chmod 600"):
        read_bundle(written, NOW)


@pytest.mark.parametrize("name", ["member.key", "member.pem", "ca.pem", "bundle.json"])
def test_read_names_a_missing_file(written: Path, name: str) -> None:
    (written / name).unlink()
    with pytest.raises(InvalidInput, match="no such file") as caught:
        read_bundle(written, NOW)
    assert name in caught.value.message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
        ('{"format": 2}', "format 2"),
    ],
)
def test_read_refuses_bad_bundle_json(written: Path, content: str, message: str) -> None:
    (written / "bundle.json").write_text(content)
    with pytest.raises(InvalidInput, match=message):
        read_bundle(written, NOW)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("member", None, "'member' is missing"),
        ("kind", "police-box", "not a member kind"),
        ("country", "UK", "ISO 3166-1"),
        ("country", 44, "string or null"),
        ("hub_url", "ftp://hub", "https://host:port"),
    ],
)
def test_read_refuses_a_bad_field_in_bundle_json(
    written: Path, field: str, value: object, message: str
) -> None:
    info = json.loads((written / "bundle.json").read_text())
    info[field] = value
    (written / "bundle.json").write_text(json.dumps(info))
    with pytest.raises(InvalidInput, match=message):
        read_bundle(written, NOW)


def test_read_refuses_a_chain_without_the_issuing_ca(written: Path, bundle: MemberBundle) -> None:
    pki.write_certificates(written / "member.pem", [bundle.certificate])
    with pytest.raises(InvalidInput, match="holds 1 certificates"):
        read_bundle(written, NOW)


def test_read_refuses_a_path_that_is_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a bundle directory"):
        read_bundle(tmp_path / "absent", NOW)
