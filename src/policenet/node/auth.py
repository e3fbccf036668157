"""Who is calling the node: an officer with a session, or a national system with a token.

Both present ``Authorization: Bearer <token>``. Session tokens start with
``pn_s_`` (from ``POST /api/v1/login``), national-system tokens with ``pn_n_``
(from ``policenet node token add``). The identity passed on to the hub is the
officer's username, or ``sys.<name>`` for a national system.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from policenet.domain.officers import Role
from policenet.errors import Forbidden, Unauthenticated
from policenet.node.context import NodeContext

SESSION_PREFIX = "pn_s_"
SYSTEM_PREFIX = "pn_n_"


@dataclass(frozen=True, slots=True)
class NodeUser:
    """The person or system behind a request; ``role`` is None for a national system."""

    identity: str
    role: Role | None
    session_token: str | None = None

    @property
    def is_system(self) -> bool:
        return self.role is None


def node(request: Request) -> NodeContext:
    context: NodeContext = request.app.state.node
    return context


NodeDep = Annotated[NodeContext, Depends(node)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("log in first: send Authorization: Bearer <token>")
    return token.strip()


async def current_user(request: Request, context: NodeDep) -> NodeUser:
    token = _bearer(request)
    if token.startswith(SYSTEM_PREFIX):
        system = await run_in_threadpool(context.officers.authenticate_system, token)
        return NodeUser(identity=f"sys.{system.name}"[:64], role=None)
    if token.startswith(SESSION_PREFIX):
        found = await run_in_threadpool(context.officers.authenticate, token, context.clock())
        return NodeUser(found.officer.username, found.officer.role, session_token=token)
    raise Unauthenticated("unknown kind of token; log in again")


UserDep = Annotated[NodeUser, Depends(current_user)]


def require_role(user: NodeUser, *roles: Role) -> None:
    if user.role not in roles:
        wanted = " or ".join(r.value for r in roles)
        raise Forbidden(f"this needs the {wanted} role; {user.identity} does not have it")


def may_report(user: NodeUser) -> None:
    if not (user.is_system or user.role in (Role.OPERATOR, Role.ADMIN)):
        raise Forbidden(
            f"reporting records needs the operator or admin role, or a national-system "
            f"token; {user.identity} may only check"
        )
