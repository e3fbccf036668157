"""The hub's audit signing key (Ed25519), kept apart from the CA keys."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from policenet.errors import InvalidInput


def create_audit_key(path: Path) -> Ed25519PrivateKey:
    """Create the key, write it (mode 0600) and its public half beside it (``public.pem``)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    (path.parent / "public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key


def load_audit_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise InvalidInput(f"audit signing key {path} not found (run policenet hub init)") from None
    except ValueError as exc:
        raise InvalidInput(f"audit signing key {path} cannot be read: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"audit signing key {path} is not an Ed25519 key")
    return key


def load_audit_public_key(path: Path) -> Ed25519PublicKey:
    """The public key beside the signing key, for verifiers without the private key."""
    public_path = path.parent / "public.pem"
    try:
        key = serialization.load_pem_public_key(public_path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"audit public key {public_path} not found") from None
    except ValueError as exc:
        raise InvalidInput(f"audit public key {public_path} cannot be read: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"audit public key {public_path} is not an Ed25519 key")
    return key
