"""The node's API for officers and national systems (version 1).

Officers log in with password and one-time code and get a session token;
national systems use a token issued by the node's administrator. Requests
that need the hub go through the tunnel with the caller's identity attached,
so the hub's audit log names member and officer together.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from policenet.domain.audit import SignedTreeHead
from policenet.domain.officers import Role
from policenet.errors import Forbidden, IntegrityFailure, InvalidInput, NotFound
from policenet.node.auth import NodeDep, UserDep, require_role
from policenet.security.audit import leaf_hash, verify_inclusion
from policenet.security.auditlog import proof_from_json, tree_head_from_json, verify_tree_head

router = APIRouter(prefix="/api/v1")


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    otp: str = Field(max_length=10, description="the 6-digit code from the authenticator app")


@router.post("/login")
async def login(body: Login, node: NodeDep) -> dict[str, Any]:
    """Log in; the answer's ``token`` goes into ``Authorization: Bearer``."""
    result = await run_in_threadpool(
        node.officers.login, body.username, body.password, body.otp, node.clock()
    )
    return {
        "token": result.session_token,
        "officer": {
            "username": result.officer.username,
            "display_name": result.officer.display_name,
            "role": result.officer.role.value,
        },
        "idle_timeout_minutes": node.settings.idle_timeout_minutes,
    }


@router.post("/logout")
async def logout(node: NodeDep, user: UserDep) -> dict[str, str]:
    if user.session_token:
        await run_in_threadpool(node.officers.logout, user.session_token)
    return {"status": "logged out"}


@router.get("/me")
async def me(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return {
        "identity": user.identity,
        "role": user.role.value if user.role else "system",
        "member": node.settings.member,
    }


@router.get("/status")
async def status(node: NodeDep, _user: UserDep) -> dict[str, Any]:
    """The node's member and the state of its link to the hub."""
    return {
        "member": node.settings.member,
        "hub_url": node.settings.hub_url,
        "hub": node.follower.state.as_dict(),
        "offline_copy": node.copy.status() if node.copy else None,
    }


@router.get("/events")
async def events(
    node: NodeDep, _user: UserDep, after: Annotated[int, Query(ge=0)] = 0
) -> list[dict[str, Any]]:
    """Events the node received from the hub, after ``after``, oldest first."""

    def read() -> list[dict[str, Any]]:
        with node.store.reading() as uow:
            return [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "created": e.created.isoformat(),
                    "payload": dict(e.payload),
                }
                for e in uow.inbox.list(after, 500)
            ]

    return await run_in_threadpool(read)


@router.get("/members")
async def members(node: NodeDep, user: UserDep) -> Any:
    """The network's member directory, from the hub."""
    return await node.hub.get("/v1/members", officer=user.identity)


class Scope(BaseModel):
    registers: list[str]
    copy_enquiries_to_ncb: bool = False
    may_report: bool | None = None


@router.put("/agencies/{code}/scope")
async def agency_scope(code: str, body: Scope, node: NodeDep, user: UserDep) -> Any:
    """At an NCB's node: set which registers one of its agencies may search."""
    require_role(user, Role.OPERATOR, Role.ADMIN)
    return await node.hub.put(
        f"/v1/members/{code}/scope", body.model_dump(exclude_none=True), officer=user.identity
    )


@contextlib.contextmanager
def _from_hub(what: str) -> Iterator[None]:
    """A malformed answer from the hub is the hub's fault (502), never the caller's (422)."""
    try:
        yield
    except (InvalidInput, ValueError, KeyError, TypeError) as exc:
        reason = exc.message if isinstance(exc, InvalidInput) else type(exc).__name__
        raise IntegrityFailure(f"the hub's {what} is malformed: {reason}") from None


async def _signed_head(node: NodeDep, user: UserDep) -> tuple[dict[str, Any], SignedTreeHead]:
    data = await node.hub.get("/v1/audit/tree-head", officer=user.identity)
    key_data = await node.hub.get("/v1/audit/public-key")
    with _from_hub("tree head"):
        head = tree_head_from_json(data)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key_data["key"]))
    if not verify_tree_head(key, head):
        raise IntegrityFailure("the hub's tree head signature does not verify")
    return data, head


@router.get("/audit/tree-head")
async def tree_head(node: NodeDep, user: UserDep) -> dict[str, Any]:
    """The hub's latest signed tree head, with the node's check of its signature."""
    data, _ = await _signed_head(node, user)
    return {**data, "signature_verified": True}


@router.get("/audit/proofs/inclusion")
async def inclusion(
    node: NodeDep, user: UserDep, seq: Annotated[int, Query(ge=0)]
) -> dict[str, Any]:
    """Prove that audit entry ``seq`` is in the hub's log, checked here against a signed head.

    When the caller may read the entry itself (its own, or its agencies'), the
    node hashes the entry it reads, so the proof is about that very entry
    (``entry_checked``); otherwise it relies on the leaf hash the hub gives.
    """
    _, head = await _signed_head(node, user)
    proof = await node.hub.get(
        "/v1/audit/proofs/inclusion",
        officer=user.identity,
        params={"seq": seq, "size": head.tree_size},
    )
    with _from_hub("inclusion proof"):
        leaf = base64.b64decode(proof["leaf_hash"], validate=True)
        path = proof_from_json(proof["proof"])
    entry_checked = False
    try:
        entry = await node.hub.get(f"/v1/audit/entries/{seq}", officer=user.identity)
    except (Forbidden, NotFound):
        entry = None
    if entry is not None:
        with _from_hub("audit entry"):
            if leaf_hash(entry["canonical"].encode()) != leaf:
                raise IntegrityFailure(f"entry {seq} does not hash to the leaf the hub proves")
        entry_checked = True
    if not verify_inclusion(leaf, seq, head.tree_size, path, head.root_hash):
        raise IntegrityFailure(f"the hub's inclusion proof for entry {seq} does not verify")
    return {
        "seq": seq,
        "tree_size": head.tree_size,
        "verified": True,
        "entry_checked": entry_checked,
        "proof": proof["proof"],
    }
