"""The node's API for officers and national systems (version 1).

Officers log in with password and one-time code and get a session token;
national systems use a token issued by the node's administrator. Requests
that need the hub go through the tunnel with the caller's identity attached,
so the hub's audit log names member and officer together.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from policenet.domain.officers import Role
from policenet.errors import IntegrityFailure
from policenet.node.auth import NodeDep, UserDep, require_role
from policenet.security.audit import verify_inclusion
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
    }


@router.get("/events")
async def events(
    node: NodeDep, _user: UserDep, after: Annotated[int, Query(ge=0)] = 0
) -> list[dict[str, Any]]:
    """Events the node received from the hub, after ``after``, oldest first."""

    def read() -> list[dict[str, Any]]:
        with node.store.unit_of_work() as uow:
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


async def _audit_key(node: NodeDep) -> Ed25519PublicKey:
    data = await node.hub.get("/v1/audit/public-key")
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(data["key"]))


@router.get("/audit/tree-head")
async def tree_head(node: NodeDep, user: UserDep) -> dict[str, Any]:
    """The hub's latest signed tree head, with the node's check of its signature."""
    data = await node.hub.get("/v1/audit/tree-head", officer=user.identity)
    head = tree_head_from_json(data)
    if not verify_tree_head(await _audit_key(node), head):
        raise IntegrityFailure("the hub's tree head signature does not verify")
    return {**data, "signature_verified": True}


@router.get("/audit/proofs/inclusion")
async def inclusion(
    node: NodeDep, user: UserDep, seq: Annotated[int, Query(ge=0)]
) -> dict[str, Any]:
    """Prove that audit entry ``seq`` is in the hub's log, checked here against a signed head."""
    data = await node.hub.get("/v1/audit/tree-head", officer=user.identity)
    head = tree_head_from_json(data)
    if not verify_tree_head(await _audit_key(node), head):
        raise IntegrityFailure("the hub's tree head signature does not verify")
    proof = await node.hub.get(
        "/v1/audit/proofs/inclusion",
        officer=user.identity,
        params={"seq": seq, "size": head.tree_size},
    )
    leaf = base64.b64decode(proof["leaf_hash"])
    ok = verify_inclusion(
        leaf, seq, head.tree_size, proof_from_json(proof["proof"]), head.root_hash
    )
    if not ok:
        raise IntegrityFailure(f"the hub's inclusion proof for entry {seq} does not verify")
    return {"seq": seq, "tree_size": head.tree_size, "verified": True, "proof": proof["proof"]}
