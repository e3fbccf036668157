"""The hub's message routes: sealed attachments up, sealed messages in and out.

The hub never holds a key that opens a message; it checks and routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from policenet.domain.audit import AuditEntry, Outcome
from policenet.errors import Conflict, NotFound, PolicenetError, TooLarge
from policenet.hub.api import CallerDep, HubDep
from policenet.hub.caller import Caller
from policenet.hub.context import HubContext
from policenet.hub.messages import MAX_SEALED_ATTACHMENT_BYTES, AttachmentShelf, accept_message
from policenet.security.sealed import SealedMessage
from policenet.store.ports import StoredMessage

router = APIRouter(prefix="/v1")


def shelf(hub: HubContext) -> AttachmentShelf:
    return AttachmentShelf(hub.settings.directory / "attachments")


def _entry(
    who: Caller,
    action: str,
    outcome: str,
    hub: HubContext,
    target: str | None,
    **detail: str | int | bool | None,
) -> AuditEntry:
    return AuditEntry(
        time=hub.clock(),
        member=who.member.code,
        officer=who.officer,
        action=action,
        outcome=outcome,
        target=target,
        detail=detail,
    )


@router.post("/attachments")
async def upload_attachment(request: Request, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Upload one sealed attachment stream (the body); answers its id, size and SHA-256.

    The stream is spooled to disk as it arrives; a stream cut short is
    discarded. It becomes part of a message only when a message names it.
    """
    store = shelf(hub)
    upload_id, sink = await run_in_threadpool(store.new_upload, who.member.code)
    size = 0
    try:
        with sink:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_SEALED_ATTACHMENT_BYTES:
                    raise TooLarge(
                        f"a sealed attachment may be at most {MAX_SEALED_ATTACHMENT_BYTES} bytes"
                    )
                sink.write(chunk)
        upload = await run_in_threadpool(store.finish, who.member.code, upload_id)
    except BaseException as exc:
        store.discard(who.member.code, upload_id)
        reason = exc.message if isinstance(exc, PolicenetError) else "the upload was cut short"
        await run_in_threadpool(_audit_upload, hub, who, Outcome.REFUSED, upload_id, size, reason)
        raise
    await run_in_threadpool(_audit_upload, hub, who, Outcome.OK, upload.id, upload.size, None)
    return {"upload": upload.id, "size": upload.size, "sha256": upload.sha256}


def _audit_upload(
    hub: HubContext, who: Caller, outcome: str, upload_id: str, size: int, reason: str | None
) -> None:
    with hub.store.unit_of_work() as uow:
        hub.audit.append(
            uow, _entry(who, "attachment.upload", outcome, hub, upload_id, size=size, reason=reason)
        )


class MessagePost(BaseModel):
    sealed: dict[str, Any] = Field(description="the sealed message (see docs/security.md)")
    uploads: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="upload ids of its attachments, in index order",
    )


def _message_json(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "case": message.case,
        "sender": message.sender,
        "recipients": list(message.recipients),
        "kind": message.kind,
        "created": message.created.isoformat(),
        "attachments": message.attachments,
        "sealed": dict(message.sealed),
    }


@router.post("/messages")
def post_message(body: MessagePost, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """Deliver a sealed message: checked, stored whole with its attachments, recipients told."""
    now = hub.clock()
    store = shelf(hub)
    try:
        sealed = SealedMessage.from_json(body.sealed)
        with hub.store.unit_of_work() as uow:
            # a retry of a delivered message (its answer lost) is told so, before its
            # uploads are looked for: they were filed with the message
            if uow.messages.by_sealed_id(sealed.message_id) is not None:
                raise Conflict(f"message {sealed.message_id} was already delivered")
        paths = [store.pending(who.member.code, u) for u in body.uploads]
        with hub.store.unit_of_work() as uow:
            stored = accept_message(uow, who, sealed, paths, now)
            hub.audit.append(
                uow,
                _entry(
                    who,
                    "message.send",
                    Outcome.OK,
                    hub,
                    stored.case,
                    message=stored.id,
                    kind=stored.kind,
                    recipients=",".join(stored.recipients),
                    attachments=stored.attachments,
                ),
            )
            store.file_away(stored.id, paths)
    except PolicenetError as exc:
        with hub.store.unit_of_work() as uow:
            hub.audit.append(
                uow, _entry(who, "message.send", Outcome.REFUSED, hub, None, reason=exc.message)
            )
        raise
    hub.bell.ring()
    return _message_json(stored)


@router.get("/messages")
def list_messages(
    hub: HubDep,
    who: CallerDep,
    case: Annotated[str | None, Query(max_length=32, description="only this case")] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Sealed messages the caller sent or received, oldest first."""
    with hub.store.unit_of_work() as uow:
        found = uow.messages.for_member(who.member.code, case, after, limit)
        hub.audit.append(uow, _entry(who, "message.list", Outcome.OK, hub, case, count=len(found)))
    return [_message_json(m) for m in found]


def _readable(hub: HubContext, who: Caller, message_id: int) -> StoredMessage:
    with hub.store.unit_of_work() as uow:
        message = uow.messages.get(message_id)
        allowed = message is not None and (
            who.member.code == message.sender or who.member.code in message.recipients
        )
        hub.audit.append(
            uow,
            _entry(
                who,
                "message.read",
                Outcome.OK if allowed else Outcome.REFUSED,
                hub,
                str(message_id),
            ),
        )
    if message is None or not allowed:
        raise NotFound(f"no message {message_id} for {who.member.code}")
    return message


@router.get("/messages/{message_id}")
def get_message(message_id: int, hub: HubDep, who: CallerDep) -> dict[str, Any]:
    """One sealed message, to its sender or a recipient."""
    return _message_json(_readable(hub, who, message_id))


@router.get("/messages/{message_id}/attachments/{index}")
def get_attachment(message_id: int, index: int, hub: HubDep, who: CallerDep) -> StreamingResponse:
    """The sealed stream of one attachment, to the message's sender or a recipient."""
    message = _readable(hub, who, message_id)
    if not 0 <= index < message.attachments:
        raise NotFound(f"message {message_id} has no attachment {index}")
    path = shelf(hub).file(message_id, index)

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as source:
            while chunk := source.read(1 << 16):
                yield chunk

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@router.get("/members/{code}/certificates")
def member_certificates(code: str, hub: HubDep, who: CallerDep) -> list[dict[str, Any]]:
    """A member's certificates (PEM): what nodes seal messages to and verify them with."""
    with hub.store.unit_of_work() as uow:
        if uow.members.get(code) is None:
            raise NotFound(f"no member with code {code!r}")
        certs = uow.certificates.for_member(code)
        hub.audit.append(uow, _entry(who, "member.certificates", Outcome.OK, hub, code))
    now = hub.clock()
    return [
        {
            "serial": str(c.serial),
            "not_before": c.not_before.isoformat(),
            "not_after": c.not_after.isoformat(),
            "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            "valid": c.valid_at(now),
            "pem": c.pem,
        }
        for c in certs
    ]
