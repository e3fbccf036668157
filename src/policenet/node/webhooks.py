"""Forwarding the node's events to national systems by webhook.

A national system (border control, a national case system) subscribes at its
node with a *webhook*: a name, an ``https://`` URL, the event kinds it wants
(prefixes such as ``case.`` or ``register.hit``; none means every kind) and a
secret that the node generates and shows once. The node then POSTs every
matching event of its inbox to that URL.

What a receiver gets
====================

::

    POST <url>
    Content-Type: application/json
    User-Agent: policenet-webhook/1
    X-Policenet-Webhook: <webhook name>
    X-Policenet-Event-Id: <event id>
    X-Policenet-Timestamp: <when the node sent it, Unix seconds>
    X-Policenet-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">

    {"created":"...","id":41,"kind":"...","payload":{...},"recipient":"..."}

The body is the event's JSON (:meth:`policenet.domain.events.Event.to_json`).
The HMAC key is the webhook's secret (its UTF-8 bytes); the message is the
timestamp header's text, a full stop, and the body's raw bytes. A receiver
verifies by recomputing it, comparing in constant time, and refusing a
timestamp more than a few minutes from its own clock (a replay)::

    expected = "sha256=" + hmac.new(secret.encode(), f"{ts}.".encode() + body,
                                    hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, signature) and abs(time.time() - int(ts)) < 300

Delivery is **at least once**: the same event can arrive twice (the node
stopped after the receiver accepted it but before it noted that, or an
administrator retried a dead letter), so receivers must drop an
``X-Policenet-Event-Id`` they have already processed. Per webhook, event N+1
is never sent before event N is delivered or dead; a dead letter retried
later arrives after the events that followed it.

Any 2xx answer delivers. Anything else fails the attempt: another status
(redirects are not followed), no answer within :data:`SEND_TIMEOUT_SECONDS`,
a refused connection or a failed TLS handshake (certificates are verified as
for any HTTPS client). A failed delivery is tried again after 1 s, 2 s,
4 s ... (doubling, at most :data:`MAX_RETRY_SECONDS`, less up to
:data:`JITTER` of it at random so that retries spread out). After the
webhook's ``max_attempts`` (:data:`DEFAULT_MAX_ATTEMPTS` unless set; ten
attempts take about eight and a half minutes) it is *dead*: a dead letter that
the node keeps and shows until an administrator retries it, and the webhook
goes on with its next event.

Why nothing is lost if the node stops
=====================================

Queueing does not hang on the event follower's ``on_event`` callback: the node
could stop after the inbox stored an event and before the callback ran, and
that event would never be queued. Instead each webhook keeps a cursor
(``queued_through``, the last inbox id it has considered). The forwarder reads
the inbox after the cursor and, in one transaction, queues the matching
deliveries and moves the cursor. Storing in the inbox and this transaction
are each atomic, so after a stop the next scan starts where the last commit
left off; an event queued twice is kept once (a delivery's key is webhook and
event id). The follower's callback only wakes the forwarder early
(:meth:`WebhookForwarder.nudge`); without it the forwarder still looks every
:data:`POLL_SECONDS`.

A new webhook starts at the newest event in the inbox: it gets what arrives
after it was added, not the history. A paused webhook queues and sends
nothing, but its cursor stays where it was, so when it is resumed it catches
up, in order, on everything stored meanwhile. Removing a webhook drops its
queue and its dead letters.

The numbers below are constants, not node settings (yet).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import re
import secrets
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from policenet.errors import InvalidField, NotFound, PolicenetError, Unavailable
from policenet.store.ports import Delivery, DeliveryState, Store, Webhook

log = logging.getLogger("policenet.node.webhooks")

DEFAULT_MAX_ATTEMPTS = 10
"""Attempts before a delivery becomes a dead letter, unless the webhook sets its own."""

MAX_ATTEMPTS_LIMIT = 100
"""The most attempts a webhook may ask for (at the 1 h cap, about four days)."""

FIRST_RETRY_SECONDS = 1.0
"""Wait after the first failed attempt; each further failure doubles it."""

MAX_RETRY_SECONDS = 3600.0
"""The longest wait between two attempts (seconds)."""

JITTER = 0.25
"""Each wait is shortened by a random part of it, up to this fraction."""

SEND_TIMEOUT_SECONDS = 10.0
"""How long one POST may take (connecting, sending, answering) before it fails."""

POLL_SECONDS = 1.0
"""How often the forwarder looks for new events and due retries when nothing wakes it."""

QUEUE_BATCH = 500
"""Inbox events read per transaction when queueing."""

KEEP_DELIVERED = timedelta(days=7)
"""How long the record of a delivered event is kept (dead letters stay until retried)."""

PRUNE_EVERY = timedelta(hours=1)
"""How often records of delivered events older than :data:`KEEP_DELIVERED` are dropped."""

MAX_ERROR_CHARS = 300
"""Longest error text kept with a delivery."""

SECRET_PREFIX = "pn_w_"  # noqa: S105 - a prefix, not a secret
"""Start of every webhook secret, so that secret scanners can recognise one."""

USER_AGENT = "policenet-webhook/1"

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_KIND_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_MAX_URL = 2048
_MAX_KINDS = 50


# --- rules (pure) ---------------------------------------------------------------------


def check_name(name: str) -> str:
    """The webhook name if it is 2 to 64 characters of a-z, 0-9, ``.``, ``_``, ``-``."""
    if not _NAME.fullmatch(name):
        raise InvalidField(
            "name", f"{name[:80]!r} is not 2 to 64 characters of a-z, 0-9, '.', '_', '-'"
        )
    return name


def check_url(url: str) -> str:
    """The URL if events may be sent to it: ``https://``, or ``http://`` to this machine only.

    Plain ``http://`` is accepted only for localhost, 127.0.0.1 and ::1 (a
    receiver under test); anywhere else the events would cross a network in
    clear. Credentials and fragments in the URL are refused: the signature
    authenticates the node, and a fragment is never sent.
    """
    if len(url) > _MAX_URL or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise InvalidField("url", f"is not a URL of at most {_MAX_URL} characters without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as exc:
        raise InvalidField("url", f"is not a valid URL: {exc}") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise InvalidField("url", "must be https://host/path")
    if scheme == "http" and host not in _LOOPBACK:
        raise InvalidField(
            "url",
            "must use https://; http:// is allowed only for localhost or 127.0.0.1 "
            "(a receiver under test)",
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidField("url", "must not carry a user name or password")
    if parts.fragment:
        raise InvalidField("url", "must not have a #fragment")
    return url


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Event-kind prefixes, without duplicates and sorted; empty means every kind."""
    found = sorted(set(kinds))
    if len(found) > _MAX_KINDS:
        raise InvalidField("kinds", f"at most {_MAX_KINDS} prefixes, not {len(found)}")
    for kind in found:
        if not _KIND_PREFIX.fullmatch(kind):
            raise InvalidField(
                "kinds",
                f"{kind[:80]!r} is not an event kind or prefix (a-z, 0-9, '.', '_', '-', "
                "at most 64 characters, such as 'case.' or 'register.hit')",
            )
    return tuple(found)


def check_max_attempts(max_attempts: int) -> int:
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise InvalidField("max_attempts", f"must be from 1 to {MAX_ATTEMPTS_LIMIT}")
    return max_attempts


def wants(kinds: Sequence[str], kind: str) -> bool:
    """Whether a webhook subscribed to ``kinds`` (prefixes; empty is all) gets ``kind``."""
    return not kinds or any(kind.startswith(prefix) for prefix in kinds)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Policenet-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(webhook: Webhook, event_id: int, body: bytes, now: datetime) -> dict[str, str]:
    """Every header of a delivery of ``body`` (event ``event_id``) sent at ``now``."""
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Policenet-Webhook": webhook.name,
        "X-Policenet-Event-Id": str(event_id),
        "X-Policenet-Timestamp": str(timestamp),
        "X-Policenet-Signature": sign(webhook.secret, timestamp, body),
    }


def retry_delay(failures: int, jitter: float) -> timedelta:
    """How long to wait after the ``failures``-th failed attempt (1 for the first).

    :data:`FIRST_RETRY_SECONDS` doubled for each earlier failure, at most
    :data:`MAX_RETRY_SECONDS`, shortened by ``jitter`` (0 to 1) times
    :data:`JITTER` of itself.
    """
    if failures < 1 or not 0.0 <= jitter <= 1.0:
        raise ValueError(f"failures must be 1 or more and jitter 0 to 1: {failures}, {jitter}")
    base = min(FIRST_RETRY_SECONDS * 2.0 ** min(failures - 1, 32), MAX_RETRY_SECONDS)
    return timedelta(seconds=base * (1.0 - JITTER * jitter))


def after_attempt(
    delivery: Delivery, max_attempts: int, error: str | None, now: datetime, jitter: float
) -> Delivery:
    """The delivery after an attempt that ended at ``now``: delivered when ``error`` is None,
    else pending with its next attempt scheduled, or dead after ``max_attempts``."""
    attempts = delivery.attempts + 1
    if error is None:
        return replace(
            delivery,
            state=DeliveryState.DELIVERED,
            attempts=attempts,
            last_attempt_at=now,
            last_error=None,
            delivered_at=now,
        )
    failed = replace(delivery, attempts=attempts, last_attempt_at=now, last_error=error)
    if attempts >= max_attempts:
        return replace(failed, state=DeliveryState.DEAD)
    return replace(failed, next_attempt_at=now + retry_delay(attempts, jitter))


# --- sending --------------------------------------------------------------------------


class Sender(Protocol):
    """POSTs one delivery and returns the answer's HTTP status.

    Raises a :class:`PolicenetError` (Unavailable) when there is no answer:
    a refused connection, a failed TLS handshake, a timeout.
    """

    async def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int: ...


class HttpSender:
    """The real sender: HTTPS with certificates verified, no redirects followed.

    ``ca_file`` trusts that CA bundle instead of the default one (a national
    system with a certificate from its own CA). Proxy and CA variables of the
    environment are ignored: where events go is decided by the webhook alone.
    """

    def __init__(
        self, *, timeout: float = SEND_TIMEOUT_SECONDS, ca_file: Path | None = None
    ) -> None:
        verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            verify = ssl.create_default_context(cafile=str(ca_file))
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            timeout=timeout, verify=verify, follow_redirects=False, trust_env=False
        )

    async def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        try:
            # Streamed and closed unread: only the status matters, and a
            # receiver must not be able to make the node read a huge answer.
            async with self._client.stream("POST", url, content=body, headers=headers) as answer:
                return answer.status_code
        except httpx.TimeoutException:
            raise Unavailable(f"no answer within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"could not reach the receiver ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        await self._client.aclose()


# --- managing webhooks ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    """A webhook with its queue: counts by state and the delivery it is working on."""

    webhook: Webhook
    counts: Mapping[DeliveryState, int]
    head: Delivery | None


class WebhookSubscriptions:
    """Adding, listing and removing a node's webhooks, and handling their dead letters."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def add(
        self,
        name: str,
        url: str,
        kinds: Iterable[str] = (),
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> Webhook:
        """Subscribe a national system; the answer carries the secret (show it once).

        The webhook gets events stored from now on. Conflict if the name is taken.
        """
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        with self._store.unit_of_work() as uow:
            webhook = Webhook(
                name=check_name(name),
                url=check_url(url),
                secret=secret,
                kinds=check_kinds(kinds),
                created=self._clock(),
                max_attempts=check_max_attempts(max_attempts),
                queued_through=uow.inbox.last_id(),
            )
            uow.webhooks.add(webhook)
        return webhook

    def list_webhooks(self) -> list[WebhookStatus]:
        """Every webhook by name, with its queue."""
        with self._store.unit_of_work() as uow:
            return [
                WebhookStatus(w, uow.webhooks.counts(w.name), uow.webhooks.head(w.name))
                for w in uow.webhooks.list()
            ]

    def remove(self, name: str) -> None:
        """Remove a webhook with its queue and dead letters; NotFound if there is none."""
        with self._store.unit_of_work() as uow:
            uow.webhooks.remove(name)

    def set_active(self, name: str, active: bool) -> None:
        """Pause (False) or resume (True) a webhook; see the module docstring."""
        with self._store.unit_of_work() as uow:
            uow.webhooks.set_active(name, active)

    def dead_letters(self, name: str, after_id: int = 0, limit: int = 100) -> list[Delivery]:
        """The webhook's dead letters by event id; NotFound if there is no such webhook."""
        with self._store.unit_of_work() as uow:
            if uow.webhooks.get(name) is None:
                raise NotFound(f"no webhook named {name!r}")
            return uow.webhooks.dead_letters(name, after_id, limit)

    def retry(self, name: str, event_id: int | None) -> int:
        """Queue dead letters again (one event, or all when ``event_id`` is None), due now.

        Returns how many; NotFound when the webhook or that dead letter does not exist.
        """
        with self._store.unit_of_work() as uow:
            if uow.webhooks.get(name) is None:
                raise NotFound(f"no webhook named {name!r}")
            revived = uow.webhooks.revive(name, event_id, self._clock())
        if event_id is not None and revived == 0:
            raise NotFound(f"webhook {name!r} has no dead letter for event {event_id}")
        return revived


# --- forwarding -----------------------------------------------------------------------


class WebhookForwarder:
    """Queues inbox events for each webhook and sends them. Run :meth:`run` as a background task.

    Each webhook is a lane of its own: a slow or failing receiver delays only
    its own events. ``jitter`` returns a number from 0 to 1 (random by default).
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        sender: Sender | None = None,
        jitter: Callable[[], float] = random.random,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sender = sender
        self._own_sender: HttpSender | None = None
        self._jitter = jitter
        self._poll_seconds = poll_seconds
        self._wake: asyncio.Event | None = None
        self._pruned_at: datetime | None = None

    def nudge(self) -> None:
        """Look for new events now rather than at the next poll (the follower calls this)."""
        if self._wake is not None:
            self._wake.set()

    def queue_new(self) -> int:
        """Queue inbox events after each active webhook's cursor; returns how many were queued."""
        queued = 0
        with self._store.unit_of_work() as uow:
            names = [w.name for w in uow.webhooks.list() if w.active]
        for name in names:
            while True:
                with self._store.unit_of_work() as uow:
                    webhook = uow.webhooks.get(name)
                    if webhook is None or not webhook.active:
                        break
                    events = uow.inbox.list(webhook.queued_through, QUEUE_BATCH)
                    if not events:
                        break
                    matching = [e.id for e in events if wants(webhook.kinds, e.kind)]
                    uow.webhooks.queue(name, matching, events[-1].id, self._clock())
                queued += len(matching)
                if len(events) < QUEUE_BATCH:
                    break
        return queued

    def _due(self, busy: Iterable[str] = ()) -> list[tuple[Webhook, Delivery]]:
        """Each active webhook's first pending delivery, when it is due and the lane is free."""
        now, skip = self._clock(), set(busy)
        found = []
        with self._store.unit_of_work() as uow:
            for webhook in uow.webhooks.list():
                if not webhook.active or webhook.name in skip:
                    continue
                head = uow.webhooks.head(webhook.name)
                if head is not None and head.next_attempt_at <= now:
                    found.append((webhook, head))
        return found

    def _prune(self) -> None:
        now = self._clock()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        with self._store.unit_of_work() as uow:
            uow.webhooks.forget_delivered(now - KEEP_DELIVERED)
        self._pruned_at = now

    def _save(self, delivery: Delivery) -> None:
        with self._store.unit_of_work() as uow:
            uow.webhooks.save(delivery)

    def _send(self) -> Sender:
        if self._sender is None:
            self._own_sender = HttpSender()
            self._sender = self._own_sender
        return self._sender

    async def attempt(self, webhook: Webhook, delivery: Delivery) -> Delivery:
        """Send one delivery, record the outcome, and return it."""
        body = delivery.event.to_json().encode()
        headers = signed_headers(webhook, delivery.event.id, body, self._clock())
        error: str | None = None
        try:
            status = await self._send()(webhook.url, body, headers)
            if not 200 <= status < 300:
                error = f"HTTP {status}" + (
                    " (redirects are not followed)" if 300 <= status < 400 else ""
                )
        except PolicenetError as exc:
            error = exc.message
        except Exception as exc:
            log.exception("webhook %s: sending event %s failed", webhook.name, delivery.event.id)
            error = f"unexpected error: {type(exc).__name__}"
        if error is not None:
            error = error[:MAX_ERROR_CHARS]
        outcome = after_attempt(
            delivery, webhook.max_attempts, error, self._clock(), self._jitter()
        )
        await asyncio.to_thread(self._save, outcome)
        if outcome.state is DeliveryState.DEAD:
            log.warning(
                "webhook %s: event %s is a dead letter after %s attempts: %s",
                webhook.name,
                delivery.event.id,
                outcome.attempts,
                error,
            )
        return outcome

    async def deliver_due(self) -> list[Delivery]:
        """One round: queue new events, then make one attempt for each webhook with one due.

        Returns the deliveries as they stand after their attempts.
        """
        await asyncio.to_thread(self.queue_new)
        due = await asyncio.to_thread(self._due)
        return list(await asyncio.gather(*(self.attempt(w, d) for w, d in due)))

    async def run(self) -> None:
        """Forward until cancelled, one lane per webhook; errors are logged and retried."""
        self._wake = wake = asyncio.Event()
        lanes: dict[str, asyncio.Task[Delivery]] = {}
        try:
            while True:
                wake.clear()
                try:
                    await asyncio.to_thread(self.queue_new)
                    await asyncio.to_thread(self._prune)
                    for webhook, head in await asyncio.to_thread(self._due, set(lanes)):
                        lanes[webhook.name] = asyncio.create_task(self.attempt(webhook, head))
                except PolicenetError as exc:
                    log.warning("webhooks: %s", exc.message)
                except Exception:
                    log.exception("webhook forwarding failed")
                waiting = asyncio.create_task(wake.wait())
                try:
                    await asyncio.wait(
                        {waiting, *lanes.values()},
                        timeout=self._poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    waiting.cancel()
                for name, lane in list(lanes.items()):
                    if lane.done():
                        del lanes[name]
                        if not lane.cancelled() and lane.exception() is not None:
                            log.error("webhook %s: %s", name, lane.exception())
        finally:
            for lane in lanes.values():
                lane.cancel()
            await asyncio.gather(*lanes.values(), return_exceptions=True)
            self._wake = None

    async def aclose(self) -> None:
        """Close the HTTP client the forwarder made for itself, if it made one."""
        if self._own_sender is not None:
            await self._own_sender.aclose()
            self._own_sender = None
            self._sender = None
