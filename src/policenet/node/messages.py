"""Sealed messages at the node: composed and sealed here, opened and checked here.

The node holds its member's private key; the hub never sees a message in
the clear. To send, the node seals each attachment (streamed from its own
spool) and uploads the sealed stream to the hub, then seals the body (text
and structured form fields, with the attachments' file names) for the
recipients and posts it. To read, it fetches the sealed message, verifies the
sender's signature with the sender's certificate (from the hub, checked
against the network's root CA) and decrypts it. An attachment is decrypted
to a temporary file and handed out only once the whole stream checked out.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from policenet.errors import Forbidden, IntegrityFailure, InvalidField, NotFound, TooLarge
from policenet.node.hubclient import HubClient
from policenet.security import pki
from policenet.security.sealed import (
    MAX_ATTACHMENT_BYTES,
    SealedMessage,
    new_content_key,
    open_message,
    seal,
    seal_attachment,
)

FORMS: Mapping[str, tuple[str, ...]] = {
    "request-for-information": ("question",),
    "hit-confirmation": ("confirmed", "details"),
    "request-to-extend": ("record", "until", "reason"),
    "request-to-delete": ("record", "reason"),
    "action-taken": ("action", "place", "details"),
    "free-text": (),
}
"""The structured forms and their fields (all optional text; ``text`` is always allowed)."""
ACTIONS = ("person-located", "arrested", "document-seized", "other")


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    path: Path
    size: int


class Outbox:
    """Plaintext files waiting at the node to be sealed into a message (its spool)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def new(self) -> tuple[str, Path]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        upload_id = secrets.token_hex(16)
        path = self.directory / f"{upload_id}.upload"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return upload_id, path

    def sweep(self, older_than: datetime) -> int:
        """Remove plaintext uploads and opened attachments left behind (unused, or a send
        that failed) older than a time: they must not linger unencrypted."""
        if not self.directory.is_dir():
            return 0
        cutoff = older_than.timestamp()
        removed = 0
        for path in self.directory.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def get(self, upload_id: str) -> Upload:
        if not upload_id.isalnum() or len(upload_id) != 32:
            raise InvalidField("uploads", f"{upload_id!r} is not an upload id")
        path = self.directory / f"{upload_id}.upload"
        if not path.is_file():
            raise NotFound(f"no upload {upload_id} at this node")
        return Upload(upload_id, path, path.stat().st_size)


def check_form(kind: str, fields: Mapping[str, str]) -> None:
    """InvalidField for an unknown kind or a field the form does not have."""
    if kind not in FORMS:
        raise InvalidField("kind", f"{kind!r} is not one of {', '.join(FORMS)}")
    unknown = sorted(set(fields) - set(FORMS[kind]))
    if unknown:
        raise InvalidField(
            unknown[0], f"is not a field of a {kind} message ({', '.join(FORMS[kind]) or 'none'})"
        )
    if kind == "action-taken" and fields.get("action") not in ACTIONS:
        raise InvalidField("action", f"must be one of {', '.join(ACTIONS)}")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(1 << 16):
            yield chunk


class Messenger:
    """Seals, sends, fetches and opens this member's messages."""

    def __init__(self, member: str, bundle: Path, hub: HubClient, outbox: Outbox) -> None:
        self.member = member
        self._bundle = bundle
        self._hub = hub
        self.outbox = outbox

    def _key(self) -> ec.EllipticCurvePrivateKey:
        return pki.load_private_key(self._bundle / "member.key")

    async def certificates(self, code: str, at: datetime | None = None) -> list[x509.Certificate]:
        """``code``'s certificates that chain to the network's root CA and name ``code``.

        With ``at``, those valid at that time (to verify an older message);
        without it, those the hub says are valid now (to seal a new one).
        The hub is not trusted here: a certificate that does not chain to the
        root in this node's bundle is ignored.
        """
        root = pki.load_certificates(self._bundle / "ca.pem")[0]
        issuing = pki.load_certificates(self._bundle / "member.pem")[1]
        found = []
        for item in await self._hub.get(f"/v1/members/{code}/certificates"):
            cert = x509.load_pem_x509_certificate(str(item["pem"]).encode())
            if at is None and not item["valid"]:
                continue
            when = at or cert.not_valid_before_utc
            try:
                if pki.verify_member_chain(cert, issuing, root, when) != code:
                    continue
            except (IntegrityFailure, InvalidField):
                continue
            found.append(cert)
        return found

    async def send(
        self,
        *,
        recipients: Sequence[str],
        case: str | None,
        kind: str,
        text: str,
        fields: Mapping[str, str],
        uploads: Sequence[tuple[str, str]],
        now: datetime,
        officer: str | None,
    ) -> dict[str, Any]:
        """Seal and send; ``uploads`` are (upload id, file name) pairs from the outbox."""
        check_form(kind, fields)
        if len(text) > 100_000:
            raise InvalidField("text", f"{len(text)} characters; at most 100000")
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for code in recipients:
            certs = await self.certificates(code)
            if not certs:
                raise Forbidden(f"{code} has no valid certificate to seal a message to")
            public = certs[-1].public_key()
            if not isinstance(public, ec.EllipticCurvePublicKey):
                raise IntegrityFailure(f"{code}'s certificate does not hold a P-256 key")
            keys[code] = public
        content_key = new_content_key()
        descriptors = []
        upload_ids = []
        for index, (upload_id, name) in enumerate(uploads):
            upload = self.outbox.get(upload_id)
            if upload.size > MAX_ATTACHMENT_BYTES:
                raise TooLarge(f"attachments may be at most {MAX_ATTACHMENT_BYTES} bytes")
            stream = seal_attachment(content_key, index, _file_chunks(upload.path))
            answer = await self._hub.post_stream("/v1/attachments", _aiter(stream), officer=officer)
            descriptors.append(stream.descriptor(name))
            upload_ids.append(str(answer["upload"]))
        body = json.dumps({"text": text, "fields": dict(fields)}, ensure_ascii=False).encode()
        sealed, _ = seal(
            self.member,
            self._key(),
            keys,
            kind=kind,
            case=case,
            now=now,
            body=body,
            attachments=descriptors,
            content_key=content_key,
        )
        answer = await self._hub.post(
            "/v1/messages", {"sealed": sealed.to_json(), "uploads": upload_ids}, officer=officer
        )
        for upload_id, _ in uploads:
            self.outbox.get(upload_id).path.unlink(missing_ok=True)
        return {k: v for k, v in answer.items() if k != "sealed"}

    async def read(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """A stored message opened and checked; ``error`` instead of content if it fails."""
        summary = {k: v for k, v in stored.items() if k != "sealed"}
        try:
            sealed = SealedMessage.from_json(stored["sealed"])
            opened = await self._open(sealed)
        except (IntegrityFailure, Forbidden, InvalidField) as exc:
            return {**summary, "signature_verified": False, "error": exc.message}
        content = json.loads(opened.body)
        return {
            **summary,
            "signature_verified": True,
            "text": content.get("text", ""),
            "fields": content.get("fields", {}),
            "attachment_names": [a.name for a in opened.attachments],
        }

    async def _open(self, sealed: SealedMessage) -> Any:
        created = datetime.fromisoformat(str(sealed.header["created"]))
        candidates = await self.certificates(sealed.sender, at=created)
        failure: IntegrityFailure | None = None
        for cert in candidates:
            public = cert.public_key()
            if not isinstance(public, ec.EllipticCurvePublicKey):
                continue
            try:
                return open_message(sealed, self.member, self._key(), public)
            except IntegrityFailure as exc:
                failure = exc
        raise failure or IntegrityFailure(
            f"no certificate of {sealed.sender} valid when the message was sealed"
        )

    async def attachment(
        self, message_id: int, index: int, *, officer: str | None = None
    ) -> tuple[str, Path]:
        """Decrypt attachment ``index`` of a message into a temporary file; (name, path).

        The file exists only if the whole stream verified; the caller removes it.
        """
        stored = await self._hub.get(f"/v1/messages/{message_id}", officer=officer)
        sealed = SealedMessage.from_json(stored["sealed"])
        opened = await self._open(sealed)
        if not 0 <= index < len(opened.attachments):
            raise NotFound(f"message {message_id} has no attachment {index}")
        self.outbox.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryFile(dir=self.outbox.directory) as sealed_copy:
            async for piece in self._hub.get_stream(
                f"/v1/messages/{message_id}/attachments/{index}", officer=officer
            ):
                sealed_copy.write(piece)
            sealed_copy.seek(0)
            fd, name = tempfile.mkstemp(dir=self.outbox.directory, suffix=".open")
            path = Path(name)
            try:
                with os.fdopen(fd, "wb") as out:
                    pieces = iter(lambda: sealed_copy.read(1 << 16), b"")
                    for chunk in opened.open_attachment(index, pieces):
                        out.write(chunk)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return opened.attachments[index].name, path


async def _aiter(stream: Iterator[bytes]) -> AsyncIterator[bytes]:
    for piece in stream:
        yield piece
