"""Member bundles: what the hub hands a new member, and what its node starts from.

``policenet member add --bundle OUT`` writes one; ``policenet node init
--bundle OUT`` reads it. A bundle is a directory (mode 0700)::

    member.key    the member's ECDSA P-256 private key, PKCS#8 PEM, mode 0600
    member.pem    the member certificate, then the issuing CA certificate
    ca.pem        the root CA certificate only: the node's trust anchor for the hub
    bundle.json   {"format": 1, "member": code, "name", "kind", "country",
                   "parent", "hub_url": "https://host:port"}

It travels from the hub to the member out of band (it holds a private key).
:func:`read_bundle` checks everything a node relies on before it writes
anything of its own, and names the file and the fault.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from policenet.domain.countries import validate_country
from policenet.domain.members import MemberKind, validate_code
from policenet.errors import Conflict, IntegrityFailure, InvalidField, InvalidInput
from policenet.security import pki

FORMAT = 1
KEY_FILE = "member.key"
CHAIN_FILE = "member.pem"
CA_FILE = "ca.pem"
INFO_FILE = "bundle.json"


@dataclass(frozen=True)
class MemberBundle:
    """A member's identity as the hub issued it.

    ``kind`` is a :class:`~policenet.domain.members.MemberKind` value;
    ``country`` None only for the General Secretariat; ``parent`` the NCB code
    of an agency, else None; ``hub_url`` the hub's member port,
    ``https://host:port``. ``certificate`` is signed by ``issuing``, which is
    signed by ``root``.
    """

    member_code: str
    name: str
    kind: str
    country: str | None
    parent: str | None
    hub_url: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    issuing: x509.Certificate
    root: x509.Certificate


def check_hub_url(url: str) -> str:
    """``url`` if it is ``https://host:port`` (no path beyond "/"); InvalidField otherwise."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "https" or not parts.hostname or port is None:
        raise InvalidField("hub_url", f"{url!r} is not of the form https://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidField("hub_url", f"{url!r} must name only the scheme, host and port")
    return url.rstrip("/")


def write_bundle(path: Path, bundle: MemberBundle) -> None:
    """Write ``bundle`` into the directory ``path`` (created with mode 0700).

    Raises Conflict when ``path`` exists and is not an empty directory, so a
    bundle is never written over another member's key.
    """
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise Conflict(f"bundle directory {path} exists and is not empty")
    info = {
        "format": FORMAT,
        "member": validate_code(bundle.member_code),
        "name": bundle.name,
        "kind": MemberKind(bundle.kind).value,
        "country": bundle.country,
        "parent": bundle.parent,
        "hub_url": check_hub_url(bundle.hub_url),
    }
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be created: {exc.strerror}") from None
    pki.write_private_key(path / KEY_FILE, bundle.key)
    pki.write_certificates(path / CHAIN_FILE, [bundle.certificate, bundle.issuing])
    pki.write_certificates(path / CA_FILE, [bundle.root])
    pki.write_atomically(
        path / INFO_FILE, (json.dumps(info, indent=2, ensure_ascii=False) + "\n").encode()
    )


def _info(path: Path) -> dict[str, Any]:
    file = path / INFO_FILE
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{file} cannot be read: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{file} cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{file} cannot be read: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{file} cannot be read: expected a JSON object")
    if raw.get("format") != FORMAT:
        raise InvalidInput(
            f"{file} has format {raw.get('format')!r}; this policenet reads format {FORMAT}"
        )
    for field in ("member", "name", "kind", "hub_url"):
        if not isinstance(raw.get(field), str) or not raw[field]:
            raise InvalidInput(f"{file}: {field!r} is missing or not a string")
    for field in ("country", "parent"):
        if raw.get(field) is not None and not isinstance(raw[field], str):
            raise InvalidInput(f"{file}: {field!r} must be a string or null")
    try:
        validate_code(raw["member"])
        if raw["kind"] not in {k.value for k in MemberKind}:
            raise InvalidField("kind", f"{raw['kind']!r} is not a member kind")
        if raw.get("country") is not None:
            raw["country"] = validate_country(raw["country"])
        check_hub_url(raw["hub_url"])
    except InvalidField as exc:
        raise InvalidInput(f"{file}: {exc.message}") from None
    return raw


def _check_key_private(file: Path) -> None:
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise InvalidInput(f"{file} cannot be read: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{file} cannot be read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(
            f"{file} is open to other users (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {file}"
        )


def _same_key(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)


def read_bundle(path: Path, now: datetime) -> MemberBundle:
    """Read and check the bundle in directory ``path`` at time ``now``.

    Refuses, naming the file: a missing or unreadable file; bundle.json that is
    not JSON, of another format or with a bad field; a key file open to group
    or others; member.pem without both the member and the issuing CA
    certificate; a ca.pem holding anything but one certificate; a key that
    does not match the certificate; a certificate that does not chain to
    ca.pem or is outside its validity (IntegrityFailure); a member code in
    bundle.json other than the certificate's.
    """
    if not path.is_dir():
        raise InvalidInput(f"{path} is not a bundle directory")
    info = _info(path)
    _check_key_private(path / KEY_FILE)
    key = pki.load_private_key(path / KEY_FILE)
    chain = pki.load_certificates(path / CHAIN_FILE)
    if len(chain) != 2:
        raise InvalidInput(
            f"{path / CHAIN_FILE} holds {len(chain)} certificates; expected the member "
            "certificate followed by the issuing CA certificate"
        )
    roots = pki.load_certificates(path / CA_FILE)
    if len(roots) != 1:
        raise InvalidInput(
            f"{path / CA_FILE} holds {len(roots)} certificates; expected the root CA only"
        )
    certificate, issuing = chain
    if not _same_key(key, certificate):
        raise InvalidInput(f"{KEY_FILE} does not match the certificate in {CHAIN_FILE} ({path})")
    try:
        code = pki.verify_member_chain(certificate, issuing, roots[0], now)
    except IntegrityFailure as exc:
        raise IntegrityFailure(f"{path / CHAIN_FILE}: {exc.message}") from None
    if code != info["member"]:
        raise InvalidInput(
            f"{path / INFO_FILE} names member {info['member']!r} but the certificate in "
            f"{CHAIN_FILE} names {code!r}"
        )
    return MemberBundle(
        member_code=code,
        name=info["name"],
        kind=info["kind"],
        country=info.get("country"),
        parent=info.get("parent"),
        hub_url=check_hub_url(info["hub_url"]),
        key=key,
        certificate=certificate,
        issuing=issuing,
        root=roots[0],
    )
