"""The node's message routes (``/api/v1/messages``, ``/api/v1/uploads``) for NCB operators.

Attachments are uploaded to the node first (``POST /api/v1/uploads``, the
file as the body), then named in the message. Every message is sealed and
opened here, with this member's key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from policenet.domain.officers import Role
from policenet.errors import Forbidden, InvalidField, TooLarge
from policenet.node.auth import NodeDep, NodeUser, UserDep, require_role
from policenet.security.sealed import MAX_ATTACHMENT_BYTES

router = APIRouter(prefix="/api/v1")


def _may_read(user: NodeUser) -> None:
    """Messages between NCBs are for operators and the NCB's own systems, not every officer."""
    if not (user.is_system or user.role in (Role.OPERATOR, Role.ADMIN)):
        raise Forbidden(
            f"reading messages needs the operator or admin role or a national-system token; "
            f"{user.identity} has neither"
        )


@router.post("/uploads")
async def upload(request: Request, node: NodeDep, user: UserDep) -> dict[str, Any]:
    """Keep a file (the body, at most 50 MB) at the node until a message takes it."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    upload_id, path = node.messenger.outbox.new()
    size = 0
    try:
        with path.open("wb") as sink:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise TooLarge(f"an attachment may be at most {MAX_ATTACHMENT_BYTES} bytes")
                sink.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return {"upload": upload_id, "size": size}


class Attachment(BaseModel):
    upload: str = Field(description="the id POST /api/v1/uploads gave")
    name: str = Field(min_length=1, max_length=200, description="the file name to show")


class NewMessage(BaseModel):
    case: str | None = Field(None, max_length=32, description="the case it belongs to")
    recipients: list[str] | None = Field(
        None, max_length=50, description="member codes (default: the other NCB of the case)"
    )
    kind: str = Field("free-text", description="the form: request-for-information, ...")
    text: str = Field("", max_length=100_000)
    fields: dict[str, str] = Field(default_factory=dict, description="the form's fields")
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)


@router.post("/messages")
async def send(body: NewMessage, node: NodeDep, user: UserDep) -> dict[str, Any]:
    """Seal a message for its recipients (signed by this member) and send it through the hub."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    recipients = body.recipients
    if recipients is None:
        if not body.case:
            raise InvalidField("recipients", "name the recipients of a message outside a case")
        case = await node.hub.get(f"/v1/cases/{body.case}", officer=user.identity)
        recipients = sorted({case["enquirer_ncb"], case["owner_ncb"]} - {node.settings.member})
        if not recipients:
            raise InvalidField("recipients", f"case {body.case} has no other NCB to write to")
    return await node.messenger.send(
        recipients=recipients,
        case=body.case,
        kind=body.kind,
        text=body.text,
        fields=body.fields,
        uploads=[(a.upload, a.name) for a in body.attachments],
        now=node.clock(),
        officer=user.identity,
    )


@router.get("/messages")
async def read_messages(
    node: NodeDep,
    user: UserDep,
    case: Annotated[str | None, Query(max_length=32)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """This member's messages, opened and checked here (operators and national systems)."""
    _may_read(user)
    params: dict[str, Any] = {"after": after}
    if case:
        params["case"] = case
    stored = await node.hub.get("/v1/messages", officer=user.identity, params=params)
    return [await node.messenger.read(item) for item in stored]


@router.get("/messages/{message_id}/attachments/{index}")
async def download(message_id: int, index: int, node: NodeDep, user: UserDep) -> FileResponse:
    """One attachment, decrypted and checked whole before a byte is sent."""
    _may_read(user)
    name, path = await node.messenger.attachment(message_id, index, officer=user.identity)
    return FileResponse(
        path,
        filename=name,
        media_type="application/octet-stream",
        background=BackgroundTask(path.unlink, missing_ok=True),
        headers={"Cache-Control": "no-store"},
    )
