"""Signed JSON documents: what the hub hands out that a node must be able to trust later.

The signature is Ed25519 over a label (which says what kind of document it
is, so a signature for one kind never verifies as another) and the
document's canonical JSON (sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def canonical_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(key: Ed25519PrivateKey, label: str, body: Mapping[str, Any]) -> str:
    """The base64 signature of ``body`` under ``label``."""
    return base64.b64encode(key.sign(label.encode() + b"\x00" + canonical_json(body))).decode()


def verify(
    public_key: Ed25519PublicKey, label: str, body: Mapping[str, Any], signature: str
) -> bool:
    """True when ``signature`` is the hub's over ``body`` under ``label``, else False."""
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, label.encode() + b"\x00" + canonical_json(body))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
