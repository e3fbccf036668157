"""Sealed messages: signed by the sending member, readable only by the members it names.

Members exchange messages in follow-up cases through the hub. The hub routes,
stores and audits them, and checks who sent them, but cannot read them::

    SealedMessage
      header      clear, signed: format, id, sender, recipients, case, kind, created,
                  attachments [{index, sealed_size, sha256 of the sealed stream}]
      keys        per key holder (each recipient and the sender): the content key,
                  wrapped for that member's public key
      nonce, ciphertext   the body and the attachments' file names, AES-256-GCM
      signature   the sender's ECDSA P-256 / SHA-256 signature over all of the above

- A fresh random 32-byte content key per message. The body key is
  HKDF-SHA256(content key, info="policenet-message-v1/body"); each attachment
  key is derived from it too (:mod:`policenet.security.sealed_stream`), so one
  wrapped key per member opens the body and every attachment.
- Key wrapping is ECIES: for each key holder a fresh P-256 key pair, ECDH with
  the member's public key, HKDF-SHA256 (info = "policenet-keywrap-v1", the
  ephemeral point, the member's point) to a one-time key, which seals the
  content key with AES-256-GCM (fixed nonce: the key is used once; AAD = the
  member's code). A wrapped key is 113 bytes: the 65-byte uncompressed
  ephemeral point, then 48 bytes of ciphertext and tag.
- The body is sealed with AAD = the canonical JSON of the header, and the
  plaintext is a 4-byte length, the canonical JSON ``{"names": [...]}`` of the
  attachment file names (sensitive, so never in the header), then the body.
- The signature covers "policenet-message-v1", NUL, then the canonical JSON of
  ``{"header", "nonce", "ciphertext_sha256", "keys"}``. Signing the keys stops
  the hub from swapping a member's wrapped key; signing the digests of the
  ciphertext and of each attachment stream stops a recipient, who knows the
  content key, from passing off content of its own as the sender's.

One key per member: the member's TLS client key (ECDSA P-256) both signs and
receives wrapped keys. This is a deliberate simplification. The uses are kept
apart by labels: signed data starts with "policenet-message-v1\\x00" (a TLS 1.3
CertificateVerify starts with 64 spaces), and ECDH output only ever goes
through HKDF with the "policenet-keywrap-v1" label. Member certificates carry
the digitalSignature key usage only; this module does not read key usages.
Two consequences: there is no forward secrecy (whoever steals a member's key
can read every message the hub stored for it), and a member's key rollover
makes its old messages unreadable unless it keeps the old key. ECDSA
signatures are malleable: identify messages by ``header["id"]``, never by
their signature bytes.

The hub's part: check that ``header["sender"]`` is the member the TLS
connection authenticated, :func:`verify` with that member's certificate key
before storing, and check each uploaded attachment stream with
:func:`~policenet.security.sealed_stream.check_sealed_attachment`. Nothing here
does file or network I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from policenet.domain.members import validate_code
from policenet.errors import Forbidden, IntegrityFailure, InvalidField, InvalidInput, TooLarge
from policenet.security.sealed_stream import (
    CONTENT_KEY_BYTES,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    AttachmentDigest,
    SealedStream,
    check_attachment_entries,
    check_content_key,
    check_name,
    check_sealed_attachment,
    new_content_key,
    open_attachment,
    seal_attachment,
)
from policenet.security.signed import canonical_json

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "MAX_BODY_BYTES",
    "AttachmentDigest",
    "OpenedMessage",
    "SealedMessage",
    "SealedStream",
    "check_sealed_attachment",
    "new_content_key",
    "open_attachment",
    "open_message",
    "seal",
    "seal_attachment",
    "verify",
]

FORMAT = 1
"""The version of the sealed message format this module writes and reads."""
MAX_BODY_BYTES = 1024 * 1024
"""The most body text one message may carry (1 MiB); files travel as attachments."""
SIGNATURE_LABEL = b"policenet-message-v1"
_BODY_LABEL = b"policenet-message-v1/body"
_KEYWRAP_LABEL = b"policenet-keywrap-v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_POINT_BYTES = 65
WRAPPED_KEY_BYTES = _POINT_BYTES + CONTENT_KEY_BYTES + _TAG_BYTES
_KEYWRAP_NONCE = bytes(_NONCE_BYTES)  # each key-wrapping key seals exactly one content key
_FIELDS = ("header", "keys", "nonce", "ciphertext", "signature")
_HEADER_FIELDS = ("format", "id", "sender", "recipients", "case", "kind", "created", "attachments")
_MAX_RECIPIENTS = 256
_KIND = re.compile(r"[a-z][a-z0-9-]{0,31}")
_MESSAGE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class SealedMessage:
    """A message as the hub routes and stores it. Binary fields are bytes; base64 in JSON.

    ``keys`` maps each key holder's member code (every recipient and the
    sender) to its wrapped content key. Build one with :func:`seal` or
    :meth:`from_json`; a message built by hand may be malformed, which
    :func:`verify` reports as False.
    """

    header: Mapping[str, Any]
    keys: Mapping[str, bytes]
    nonce: bytes
    ciphertext: bytes
    signature: bytes

    @property
    def sender(self) -> str:
        return str(self.header["sender"])

    @property
    def recipients(self) -> tuple[str, ...]:
        """The members it is for, without the sender, in code order."""
        return tuple(self.header["recipients"])

    @property
    def message_id(self) -> str:
        """32 hex digits chosen by the sender: what deduplicates a message delivered twice."""
        return str(self.header["id"])

    def to_json(self) -> dict[str, Any]:
        return {
            "header": json.loads(canonical_json(dict(self.header))),
            "keys": {code: _b64(blob) for code, blob in sorted(self.keys.items())},
            "nonce": _b64(self.nonce),
            "ciphertext": _b64(self.ciphertext),
            "signature": _b64(self.signature),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> SealedMessage:
        """Parse and check the form of a message (not its signature: see :func:`verify`).

        InvalidField names the first bad field, e.g. ``header.attachments[0].sha256``
        or ``keys.ncb-fr``; InvalidInput when ``data`` is not JSON at all.
        """
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError:
                raise InvalidInput("a sealed message must be a JSON object") from None
        if not isinstance(data, Mapping):
            raise InvalidInput("a sealed message must be a JSON object")
        for name in data:
            if name not in _FIELDS:
                raise InvalidField(str(name), "is not a field of a sealed message")
        for name in _FIELDS:
            if name not in data:
                raise InvalidField(name, "is missing")
        header = _check_header(data["header"])
        raw_keys = data["keys"]
        if not isinstance(raw_keys, Mapping):
            raise InvalidField("keys", "must be an object of member code to base64")
        keys = {str(code): _unb64(blob, f"keys.{code}") for code, blob in raw_keys.items()}
        message = cls(
            header=header,
            keys=keys,
            nonce=_unb64(data["nonce"], "nonce"),
            ciphertext=_unb64(data["ciphertext"], "ciphertext"),
            signature=_unb64(data["signature"], "signature"),
        )
        _check_parts(message)
        return message


@dataclass(frozen=True)
class OpenedMessage:
    """What a key holder reads from a verified message.

    ``attachments`` gives each attachment's file name with the sealed size
    and digest its stream must have; ``content_key`` opens those streams.
    """

    body: bytes
    content_key: bytes
    attachments: tuple[AttachmentDigest, ...]

    def open_attachment(self, index: int, sealed: Iterable[bytes]) -> Iterator[bytes]:
        """The plaintext of attachment ``index`` (see :func:`open_attachment` for the caveats)."""
        if not 0 <= index < len(self.attachments):
            raise InvalidField("index", f"the message has no attachment {index}")
        item = self.attachments[index]
        return open_attachment(self.content_key, index, sealed, item.sha256, item.sealed_size)


def _check_code(code: object, field: str) -> str:
    if not isinstance(code, str):
        raise InvalidField(field, "must be a member code")
    try:
        return validate_code(code)
    except InvalidField as exc:
        raise InvalidField(field, exc.reason) from None


def _check_kind(kind: object, field: str) -> str:
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise InvalidField(field, f"{kind!r} is not a message kind (a-z, 0-9, '-'; 1-32)")
    return kind


def _check_case(case: object, field: str) -> str | None:
    if case is None:
        return None
    if not isinstance(case, str) or not case.strip() or len(case) > 64 or not case.isprintable():
        raise InvalidField(field, f"{case!r} is not a case number (1-64 printable characters)")
    return case


def _check_header(header: object) -> dict[str, Any]:
    """A copy of ``header`` if it has exactly the fields of a sealed message's header."""
    if not isinstance(header, Mapping):
        raise InvalidField("header", "must be an object")
    for name in header:
        if name not in _HEADER_FIELDS:
            raise InvalidField(f"header.{name}", "is not a field of a sealed message's header")
    for name in _HEADER_FIELDS:
        if name not in header:
            raise InvalidField(f"header.{name}", "is missing")
    if type(header["format"]) is not int or header["format"] != FORMAT:
        raise InvalidField("header.format", f"{header['format']!r} is not {FORMAT}, the one known")
    if not isinstance(header["id"], str) or not _MESSAGE_ID.fullmatch(header["id"]):
        raise InvalidField("header.id", "must be 32 lower-case hex digits")
    sender = _check_code(header["sender"], "header.sender")
    recipients = header["recipients"]
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= _MAX_RECIPIENTS:
        raise InvalidField("header.recipients", f"must list 1 to {_MAX_RECIPIENTS} member codes")
    for code in recipients:
        _check_code(code, "header.recipients")
    if recipients != sorted(set(recipients)) or sender in recipients:
        raise InvalidField(
            "header.recipients", "must list codes once each, in order, without the sender"
        )
    _check_case(header["case"], "header.case")
    _check_kind(header["kind"], "header.kind")
    try:
        created = datetime.fromisoformat(header["created"])
    except (TypeError, ValueError):
        raise InvalidField("header.created", "must be an ISO 8601 time") from None
    if created.utcoffset() is None:
        raise InvalidField("header.created", "must carry its UTC offset")
    check_attachment_entries(header["attachments"], "header.attachments")
    return dict(header)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidField(field, "must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField(field, "is not valid base64") from None


def _check_parts(message: SealedMessage) -> None:
    """InvalidField unless the parts other than the header have the right form and holders."""
    holders = {message.header["sender"], *message.header["recipients"]}
    if set(message.keys) != holders:
        missing = sorted(holders - set(message.keys))
        extra = sorted(set(message.keys) - holders)
        raise InvalidField(
            "keys", f"must hold the sender and each recipient (missing {missing}, extra {extra})"
        )
    for code, blob in message.keys.items():
        if not isinstance(blob, bytes) or len(blob) != WRAPPED_KEY_BYTES:
            raise InvalidField(f"keys.{code}", f"a wrapped key is {WRAPPED_KEY_BYTES} bytes")
    if not isinstance(message.nonce, bytes) or len(message.nonce) != _NONCE_BYTES:
        raise InvalidField("nonce", f"must be {_NONCE_BYTES} bytes")
    if not isinstance(message.ciphertext, bytes) or len(message.ciphertext) < _TAG_BYTES:
        raise InvalidField("ciphertext", f"must be at least {_TAG_BYTES} bytes")
    if len(message.ciphertext) > MAX_BODY_BYTES + 64 * 1024:
        raise InvalidField("ciphertext", f"is longer than a {MAX_BODY_BYTES}-byte body can seal to")
    if not isinstance(message.signature, bytes) or not 8 <= len(message.signature) <= 80:
        raise InvalidField("signature", "is not an ECDSA P-256 signature")


def _signed_bytes(
    header: Mapping[str, Any], nonce: bytes, ciphertext: bytes, keys: Mapping[str, bytes]
) -> bytes:
    covered = {
        "header": dict(header),
        "nonce": _b64(nonce),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "keys": {code: _b64(blob) for code, blob in keys.items()},
    }
    return SIGNATURE_LABEL + b"\x00" + canonical_json(covered)


def _body_cipher(content_key: bytes) -> AESGCM:
    key = HKDF(hashes.SHA256(), 32, salt=None, info=_BODY_LABEL).derive(content_key)
    return AESGCM(key)


def _body_aad(header: Mapping[str, Any]) -> bytes:
    return _BODY_LABEL + b"\x00" + canonical_json(dict(header))


def _point(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _keywrap_cipher(shared: bytes, ephemeral_point: bytes, member_point: bytes) -> AESGCM:
    info = _KEYWRAP_LABEL + b"\x00" + ephemeral_point + member_point
    return AESGCM(HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(shared))


def _wrap(content_key: bytes, code: str, public_key: ec.EllipticCurvePublicKey) -> bytes:
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    ephemeral_point = _point(ephemeral.public_key())
    cipher = _keywrap_cipher(
        ephemeral.exchange(ec.ECDH(), public_key), ephemeral_point, _point(public_key)
    )
    aad = _KEYWRAP_LABEL + b"\x00" + code.encode()
    return ephemeral_point + cipher.encrypt(_KEYWRAP_NONCE, content_key, aad)


def _unwrap(blob: bytes, code: str, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    ephemeral_point, wrapped = blob[:_POINT_BYTES], blob[_POINT_BYTES:]
    failure = IntegrityFailure(
        f"the content key for {code} does not unwrap with this key: "
        "the wrong private key, or a key the sender did not seal for it"
    )
    try:
        ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ephemeral_point)
        shared = private_key.exchange(ec.ECDH(), ephemeral)
        cipher = _keywrap_cipher(shared, ephemeral_point, _point(private_key.public_key()))
        return cipher.decrypt(_KEYWRAP_NONCE, wrapped, _KEYWRAP_LABEL + b"\x00" + code.encode())
    except (ValueError, InvalidTag):
        raise failure from None


def _p256_public(key: object, field: str) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidField(field, "must be an ECDSA P-256 public key")
    return key


def _p256_private(key: object, field: str) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidField(field, "must be an ECDSA P-256 private key")
    return key


def seal(
    sender_code: str,
    sender_key: ec.EllipticCurvePrivateKey,
    recipients: Mapping[str, ec.EllipticCurvePublicKey],
    *,
    kind: str,
    case: str | None,
    now: datetime,
    body: bytes,
    attachments: Sequence[AttachmentDigest] = (),
    content_key: bytes | None = None,
) -> tuple[SealedMessage, bytes]:
    """Seal ``body`` from ``sender_code`` for ``recipients``; return the message and content key.

    ``recipients`` maps member codes (not the sender's) to their certificates'
    public keys; the sender always gets a key of its own too. With
    attachments, first take :func:`new_content_key`, seal each stream with
    :func:`seal_attachment` under it, then pass the key and the streams'
    descriptors here, in index order (0, 1, ...). ``kind`` is a short word
    (``request``, ``reply``...), ``case`` the case number or None, ``now`` the
    sending time (timezone-aware). InvalidField names a bad argument; TooLarge
    for a body over :data:`MAX_BODY_BYTES`.
    """
    sender = _check_code(sender_code, "sender_code")
    _p256_private(sender_key, "sender_key")
    if not 1 <= len(recipients) <= _MAX_RECIPIENTS:
        raise InvalidField("recipients", f"name 1 to {_MAX_RECIPIENTS} members to send to")
    holders = {sender: sender_key.public_key()}
    for code, public_key in recipients.items():
        _check_code(code, "recipients")
        if code == sender:
            raise InvalidField("recipients", f"list the members sent to, not the sender {sender}")
        holders[code] = _p256_public(public_key, f"recipients.{code}")
    if not isinstance(body, bytes):
        raise InvalidField("body", "must be bytes")
    if len(body) > MAX_BODY_BYTES:
        raise TooLarge(f"the message body is {len(body)} bytes; at most {MAX_BODY_BYTES}")
    if len(attachments) > MAX_ATTACHMENTS:
        raise TooLarge(f"{len(attachments)} attachments; at most {MAX_ATTACHMENTS} per message")
    for position, item in enumerate(attachments):
        if item.index != position:
            raise InvalidField("attachments", f"attachment {position} was sealed as {item.index}")
        check_name(item.name)
    if now.utcoffset() is None:
        raise InvalidField("now", "must be timezone-aware (UTC)")
    key = new_content_key() if content_key is None else check_content_key(content_key)
    header = {
        "format": FORMAT,
        "id": secrets.token_hex(16),
        "sender": sender,
        "recipients": sorted(recipients),
        "case": _check_case(case, "case"),
        "kind": _check_kind(kind, "kind"),
        "created": now.astimezone(UTC).isoformat(),
        "attachments": [item.header_entry() for item in attachments],
    }
    manifest = canonical_json({"names": [item.name for item in attachments]})
    plaintext = len(manifest).to_bytes(4, "big") + manifest + body
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = _body_cipher(key).encrypt(nonce, plaintext, _body_aad(header))
    keys = {code: _wrap(key, code, public) for code, public in sorted(holders.items())}
    signature = sender_key.sign(
        _signed_bytes(header, nonce, ciphertext, keys), ec.ECDSA(hashes.SHA256())
    )
    return SealedMessage(header, keys, nonce, ciphertext, signature), key


def verify(message: SealedMessage, sender_public_key: ec.EllipticCurvePublicKey) -> bool:
    """True when ``message`` is well formed and signed by ``sender_public_key``; else False.

    Needs no private key: the hub calls it before storing a message. The
    caller picks the key of the member ``message.sender`` names (and the hub
    also checks that this is the member who uploaded it).
    """
    _p256_public(sender_public_key, "sender_public_key")
    try:
        _check_header(message.header)
        _check_parts(message)
        covered = _signed_bytes(message.header, message.nonce, message.ciphertext, message.keys)
        sender_public_key.verify(message.signature, covered, ec.ECDSA(hashes.SHA256()))
    except (InvalidField, InvalidSignature, ValueError, TypeError):
        return False
    return True


def open_message(
    message: SealedMessage,
    recipient_code: str,
    recipient_key: ec.EllipticCurvePrivateKey,
    sender_public_key: ec.EllipticCurvePublicKey,
) -> OpenedMessage:
    """Verify ``message``, then decrypt it as ``recipient_code`` (a recipient or the sender).

    IntegrityFailure when the signature does not verify (the message was
    altered or forged) or a part does not decrypt (``recipient_key`` is not
    the key of ``recipient_code``); Forbidden when ``recipient_code`` holds no
    key to the message.
    """
    _p256_private(recipient_key, "recipient_key")
    if not verify(message, sender_public_key):
        raise IntegrityFailure(
            "the sealed message does not carry a valid signature of its sender: "
            "it was altered on the way, or forged"
        )
    blob = message.keys.get(recipient_code)
    if blob is None:
        raise Forbidden(f"{recipient_code} is not among the members this message was sealed for")
    content_key = _unwrap(blob, recipient_code, recipient_key)
    try:
        plaintext = _body_cipher(content_key).decrypt(
            message.nonce, message.ciphertext, _body_aad(message.header)
        )
    except InvalidTag:
        raise IntegrityFailure("the message body does not decrypt: it was altered") from None
    names, body = _split(plaintext, len(message.header["attachments"]))
    attachments = tuple(
        AttachmentDigest(entry["index"], name, entry["sealed_size"], entry["sha256"])
        for entry, name in zip(message.header["attachments"], names, strict=True)
    )
    return OpenedMessage(body, content_key, attachments)


def _split(plaintext: bytes, count: int) -> tuple[list[str], bytes]:
    """The attachment names and the body; IntegrityFailure if the sender sealed nonsense."""
    malformed = IntegrityFailure("the sealed body is malformed: the sender's software is faulty")
    length = int.from_bytes(plaintext[:4], "big")
    if len(plaintext) < 4 + length:
        raise malformed
    try:
        manifest = json.loads(plaintext[4 : 4 + length])
        names = manifest["names"]
        if not isinstance(names, list) or len(names) != count:
            raise malformed
        names = [check_name(name) for name in names]
    except (ValueError, TypeError, KeyError, InvalidField):
        raise malformed from None
    return names, plaintext[4 + length :]
