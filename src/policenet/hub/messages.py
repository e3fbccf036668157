"""Sealed messages at the hub: checked, routed and kept, never read.

A member uploads each sealed attachment stream first (``POST
/v1/attachments``: spooled to disk, digest and size computed), then posts the
sealed message naming its uploads. The hub checks that the message comes
from the member whose certificate opened the connection, that its signature
verifies with that certificate, that its recipients may receive it (the NCBs
of its case, or NCBs at all outside a case), and that every upload matches
the size and SHA-256 the signed header gives. Only then is the message
stored, in one transaction with its audit entry, case timeline and events:
a message is whole or absent.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import IO

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from policenet.domain.members import MemberKind
from policenet.errors import Conflict, Forbidden, IntegrityFailure, InvalidField, NotFound
from policenet.hub.caller import Caller
from policenet.hub.cases import visible_case
from policenet.security.sealed import MAX_ATTACHMENT_BYTES, SealedMessage, verify
from policenet.store.ports import StoredMessage, TimelineEntry, UnitOfWork

MESSAGE_KINDS = (
    "request-for-information",
    "hit-confirmation",
    "request-to-extend",
    "request-to-delete",
    "action-taken",
    "free-text",
)
MAX_SEALED_ATTACHMENT_BYTES = MAX_ATTACHMENT_BYTES + MAX_ATTACHMENT_BYTES // 64 + 65536
"""A sealed stream is a little larger than its plaintext (a tag and a frame per chunk)."""


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    size: int
    sha256: str


class AttachmentShelf:
    """Sealed attachment streams on the hub's disk: pending uploads, then filed by message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _pending(self, member: str) -> Path:
        path = self.directory / "pending" / member
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def new_upload(self, member: str) -> tuple[str, IO[bytes]]:
        upload_id = secrets.token_hex(16)
        path = self._pending(member) / f"{upload_id}.part"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return upload_id, os.fdopen(fd, "wb")

    def finish(self, member: str, upload_id: str) -> Upload:
        part = self._pending(member) / f"{upload_id}.part"
        digest = hashlib.sha256()
        size = 0
        with part.open("rb") as source:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        part.rename(part.with_suffix(".sealed"))
        return Upload(upload_id, size, digest.hexdigest())

    def discard(self, member: str, upload_id: str) -> None:
        for suffix in (".part", ".sealed"):
            (self._pending(member) / f"{upload_id}{suffix}").unlink(missing_ok=True)

    def pending(self, member: str, upload_id: str) -> Path:
        if not upload_id.isalnum() or len(upload_id) != 32:
            raise InvalidField("uploads", f"{upload_id!r} is not an upload id")
        path = self._pending(member) / f"{upload_id}.sealed"
        if not path.is_file():
            raise NotFound(f"no finished upload {upload_id} from {member}")
        return path

    def sweep(self, older_than: datetime) -> int:
        """Remove uploads no message took (crashed or refused senders) older than a time."""
        pending = self.directory / "pending"
        if not pending.is_dir():
            return 0
        removed = 0
        cutoff = older_than.timestamp()
        for path in pending.glob("*/*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def file(self, message_id: int, index: int) -> Path:
        return self.directory / str(message_id) / f"{index}.sealed"

    def file_away(self, message_id: int, uploads: Sequence[Path]) -> None:
        """Move a message's uploads into its own folder (after the message is stored)."""
        folder = self.directory / str(message_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for index, path in enumerate(uploads):
            shutil.move(path, folder / f"{index}.sealed")


def _digest_of(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def accept_message(
    uow: UnitOfWork,
    caller: Caller,
    sealed: SealedMessage,
    uploads: Sequence[Path],
    now: datetime,
) -> StoredMessage:
    """Check a sealed message against its sender, recipients and uploads; store it.

    Raises Forbidden (wrong sender, recipients outside the case or not NCBs),
    IntegrityFailure (bad signature, an upload that does not match the signed
    header), Conflict (the same message id twice) or InvalidField.
    """
    member = caller.member
    if sealed.sender != member.code:
        raise Forbidden(f"the message says it is from {sealed.sender}, but {member.code} sent it")
    kind = str(sealed.header["kind"])
    if kind not in MESSAGE_KINDS:
        raise InvalidField("kind", f"{kind!r} is not one of {', '.join(MESSAGE_KINDS)}")
    issued = uow.certificates.get(caller.serial)
    if issued is None:
        raise Forbidden("the certificate of this connection is not known to the hub")
    public_key = x509.load_pem_x509_certificate(issued.pem.encode()).public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not verify(sealed, public_key):
        raise IntegrityFailure(f"the message's signature does not verify with {member.code}'s key")
    case_number = sealed.header.get("case")
    recipients = set(sealed.recipients)
    if not recipients:
        raise InvalidField("recipients", "a message needs at least one recipient")
    if case_number:
        case = visible_case(uow, member, str(case_number))
        allowed = set(case.ncbs) - {member.code}
        if member.code not in case.ncbs:
            raise Forbidden(f"only the NCBs of case {case.number} exchange messages in it")
    else:
        allowed = {
            m.code
            for m in uow.members.list()
            if m.active and m.kind in (MemberKind.NCB, MemberKind.GENERAL_SECRETARIAT)
        } - {member.code}
    outside = sorted(recipients - allowed)
    if outside:
        where = f"case {case_number}" if case_number else "the network's NCBs"
        raise Forbidden(f"{', '.join(outside)} may not receive this message: not among {where}")
    described = list(sealed.header.get("attachments", []))
    if len(described) != len(uploads):
        raise InvalidField(
            "uploads", f"the message describes {len(described)} attachments, {len(uploads)} given"
        )
    for entry, path in zip(described, uploads, strict=True):
        size, digest = _digest_of(path)
        if size != entry["sealed_size"] or digest != entry["sha256"]:
            raise IntegrityFailure(
                f"attachment {entry['index']} does not match the signed message "
                f"({size} bytes uploaded, {entry['sealed_size']} signed): truncated or altered"
            )
    if uow.messages.by_sealed_id(sealed.message_id) is not None:
        raise Conflict(f"message {sealed.message_id} was already delivered")
    stored = StoredMessage(
        id=0,
        case=str(case_number) if case_number else None,
        sender=member.code,
        recipients=tuple(sorted(recipients)),
        kind=kind,
        created=now,
        sealed=sealed.to_json(),
        attachments=len(uploads),
    )
    message_id = uow.messages.add(stored)
    detail = {
        "message": message_id,
        "kind": kind,
        "attachments": len(uploads),
        "recipients": ",".join(sorted(recipients)),
    }
    if stored.case:
        uow.cases.add_timeline(
            TimelineEntry(stored.case, now, member.code, caller.officer, "message", detail)
        )
    uow.events.append(member.code, "message.sent", {**detail, "case": stored.case}, now)
    for recipient in sorted(recipients):
        uow.events.append(
            recipient,
            "message.received",
            {**detail, "case": stored.case, "sender": member.code},
            now,
        )
    return replace(stored, id=message_id)


__all__ = ["MESSAGE_KINDS", "AttachmentShelf", "Upload", "accept_message"]
