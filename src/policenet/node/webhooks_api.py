"""The node's webhook routes (``/api/v1/webhooks``): the administrator subscribes national systems.

Every route needs an officer with the admin role. The secret that signs a
webhook's deliveries is in the answer to ``POST /api/v1/webhooks`` only;
nothing shows it again. How deliveries are signed and retried is in
:mod:`policenet.node.webhooks`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from policenet.domain.officers import Role
from policenet.node.auth import NodeDep, NodeUser, UserDep, require_role
from policenet.node.webhooks import (
    DEFAULT_MAX_ATTEMPTS,
    MAX_ATTEMPTS_LIMIT,
    WebhookStatus,
    WebhookSubscriptions,
)
from policenet.store.ports import Delivery, Webhook

router = APIRouter(prefix="/api/v1/webhooks")


def _subscriptions(node: NodeDep, user: NodeUser) -> WebhookSubscriptions:
    require_role(user, Role.ADMIN)
    return node.webhooks


def _time(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    """A webhook as the API shows it: never its secret."""
    return {
        "name": webhook.name,
        "url": webhook.url,
        "kinds": list(webhook.kinds),
        "active": webhook.active,
        "max_attempts": webhook.max_attempts,
        "created": _time(webhook.created),
        "queued_through": webhook.queued_through,
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "event_id": delivery.event.id,
        "kind": delivery.event.kind,
        "created": _time(delivery.event.created),
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "last_attempt_at": _time(delivery.last_attempt_at),
        "next_attempt_at": _time(delivery.next_attempt_at),
        "last_error": delivery.last_error,
    }


def status_json(status: WebhookStatus) -> dict[str, Any]:
    return {
        **webhook_json(status.webhook),
        "deliveries": {state.value: n for state, n in status.counts.items()},
        "next": None if status.head is None else delivery_json(status.head),
    }


class NewWebhook(BaseModel):
    name: str = Field(max_length=64, description="the national system, e.g. case-system")
    url: str = Field(max_length=2048, description="https:// address that receives the events")
    kinds: list[str] = Field(
        default_factory=list, max_length=50, description="event-kind prefixes; empty: every kind"
    )
    max_attempts: int = Field(
        DEFAULT_MAX_ATTEMPTS, ge=1, le=MAX_ATTEMPTS_LIMIT, description="before a dead letter"
    )


class WebhookChange(BaseModel):
    active: bool = Field(description="false pauses the webhook, true resumes it")


@router.get("")
async def list_webhooks(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    """Every webhook with its queue (never the secrets)."""
    subscriptions = _subscriptions(node, user)
    return [status_json(s) for s in await run_in_threadpool(subscriptions.list_webhooks)]


@router.post("", status_code=201)
async def add_webhook(body: NewWebhook, node: NodeDep, user: UserDep) -> dict[str, Any]:
    """Subscribe a national system; the answer's ``secret`` is shown this once."""
    subscriptions = _subscriptions(node, user)
    webhook = await run_in_threadpool(
        lambda: subscriptions.add(body.name, body.url, body.kinds, max_attempts=body.max_attempts)
    )
    return {**webhook_json(webhook), "secret": webhook.secret}


@router.patch("/{name}")
async def change_webhook(
    name: str, body: WebhookChange, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    """Pause or resume a webhook."""
    subscriptions = _subscriptions(node, user)
    await run_in_threadpool(subscriptions.set_active, name, body.active)
    return {"name": name, "active": body.active}


@router.delete("/{name}")
async def remove_webhook(name: str, node: NodeDep, user: UserDep) -> dict[str, str]:
    """Remove a webhook with its queue and dead letters."""
    subscriptions = _subscriptions(node, user)
    await run_in_threadpool(subscriptions.remove, name)
    return {"status": "removed", "name": name}


@router.get("/{name}/dead-letters")
async def dead_letters(
    name: str,
    node: NodeDep,
    user: UserDep,
    after: Annotated[int, Query(ge=0, description="only events with a larger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Events the webhook gave up on, oldest first."""
    subscriptions = _subscriptions(node, user)
    found = await run_in_threadpool(subscriptions.dead_letters, name, after, limit)
    return [delivery_json(d) for d in found]


@router.post("/{name}/dead-letters/retry")
async def retry_all(name: str, node: NodeDep, user: UserDep) -> dict[str, int]:
    """Queue every dead letter of the webhook again."""
    subscriptions = _subscriptions(node, user)
    retried = await run_in_threadpool(subscriptions.retry, name, None)
    node.forwarder.nudge()
    return {"retried": retried}


@router.post("/{name}/dead-letters/{event_id}/retry")
async def retry_one(name: str, event_id: int, node: NodeDep, user: UserDep) -> dict[str, int]:
    """Queue one dead letter again, with a fresh count of attempts."""
    subscriptions = _subscriptions(node, user)
    retried = await run_in_threadpool(subscriptions.retry, name, event_id)
    node.forwarder.nudge()
    return {"retried": retried}
