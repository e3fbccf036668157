"""Webhooks to national systems: signing, filtering, order, backoff, dead letters, crash safety.

Most tests run the forwarder over a MemoryStore with a receiver in memory
(an injected sender) and a clock that moves only when the test moves it.
The receiver checks signatures with its own code, written from the module's
documentation rather than from :func:`policenet.node.webhooks.sign`. One
test sends through a real HTTP client to a receiver served by uvicorn on
127.0.0.1; the last ones drive the HTTP API in process.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from policenet.domain.events import Event
from policenet.domain.officers import Role
from policenet.errors import Conflict, InvalidField, NotFound, Unavailable
from policenet.node.follower import EventFollower
from policenet.node.webhooks import (
    JITTER,
    MAX_RETRY_SECONDS,
    SECRET_PREFIX,
    HttpSender,
    WebhookForwarder,
    WebhookSubscriptions,
    retry_delay,
    sign,
)
from policenet.store.memory import MemoryStore
from policenet.store.ports import Delivery, DeliveryState
from tests.fakes import FakeHub
from tests.integration.apps import NodeWorld, TestClient, build_node

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
URL = "https://cases.police.example/policenet"


# --- a national system in memory -------------------------------------------------------


def receiver_accepts(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """What a national system does with a delivery, from the module docstring's recipe."""
    timestamp = headers["X-Policenet-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    fresh = abs(now.timestamp() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(
        "sha256=" + expected.hexdigest(), headers["X-Policenet-Signature"]
    )


@dataclass
class Received:
    webhook: str
    event_id: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Records every POST; answers from ``script[(webhook, event id)]`` in turn, then 200.

    An answer of 0 stands for a connection that could not be made.
    """

    script: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)

    async def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        webhook, event_id = headers["X-Policenet-Webhook"], int(headers["X-Policenet-Event-Id"])
        self.got.append(Received(webhook, event_id, url, body, dict(headers)))
        answers = self.script.get((webhook, event_id))
        status = answers.pop(0) if answers else self.always.get(webhook, 200)
        if status == 0:
            raise Unavailable("could not reach the receiver (ConnectError)")
        return status

    def ids(self, webhook: str) -> list[int]:
        return [r.event_id for r in self.got if r.webhook == webhook]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    store: MemoryStore
    clock: Clock
    receiver: Receiver
    subscriptions: WebhookSubscriptions
    forwarder: WebhookForwarder

    def store_events(self, *kinds: str) -> list[Event]:
        with self.store.unit_of_work() as uow:
            first = uow.inbox.last_id() + 1
            events = [
                Event(first + n, "gb-metropolitan-police", kind, self.clock(), {"n": first + n})
                for n, kind in enumerate(kinds)
            ]
            for event in events:
                uow.inbox.store(event)
        return events

    def round(self) -> list[Delivery]:
        return asyncio.run(self.forwarder.deliver_due())

    def until_quiet(self, rounds: int = 100) -> None:
        """Deliver round after round, moving the clock to each next attempt, until none is due."""
        for _ in range(rounds):
            self.round()
            waits = [
                s.head.next_attempt_at
                for s in self.subscriptions.list_webhooks()
                if s.head is not None and s.webhook.active
            ]
            if not waits:
                return
            self.clock.now = max(self.clock.now, min(waits))
        raise AssertionError("deliveries did not settle")

    def counts(self, name: str) -> dict[DeliveryState, int]:
        return next(
            dict(s.counts) for s in self.subscriptions.list_webhooks() if s.webhook.name == name
        )


def world(store: MemoryStore | None = None) -> World:
    store = store or MemoryStore()
    clock, receiver = Clock(), Receiver()
    return World(
        store,
        clock,
        receiver,
        WebhookSubscriptions(store, clock),
        WebhookForwarder(store, clock, sender=receiver, jitter=lambda: 0.0),
    )


# --- signing --------------------------------------------------------------------------


def test_a_delivery_carries_the_event_and_a_signature_the_receiver_can_check() -> None:
    w = world()
    webhook = w.subscriptions.add("case-system", URL)
    [event] = w.store_events("case.opened")
    [outcome] = w.round()
    [got] = w.receiver.got
    assert got.url == URL
    assert got.body == event.to_json().encode()
    assert Event.from_json(got.body) == event
    assert got.headers["X-Policenet-Event-Id"] == str(event.id)
    assert got.headers["X-Policenet-Timestamp"] == str(int(T0.timestamp()))
    assert got.headers["Content-Type"] == "application/json"
    assert receiver_accepts(webhook.secret, got.headers, got.body, T0)
    assert not receiver_accepts(SECRET_PREFIX + "guessed", got.headers, got.body, T0)
    assert not receiver_accepts(webhook.secret, got.headers, got.body, T0 + timedelta(hours=1))
    assert outcome.state is DeliveryState.DELIVERED
    assert outcome.delivered_at == T0


@given(
    secret=st.text(min_size=1, max_size=60),
    timestamp=st.integers(min_value=0, max_value=2**32),
    body=st.binary(max_size=300),
    flip=st.integers(min_value=0),
)
def test_the_signature_covers_the_timestamp_and_every_byte_of_the_body(
    secret: str, timestamp: int, body: bytes, flip: int
) -> None:
    now = datetime.fromtimestamp(timestamp, UTC)
    headers = {"X-Policenet-Timestamp": str(timestamp)}
    headers["X-Policenet-Signature"] = sign(secret, timestamp, body)
    assert receiver_accepts(secret, headers, body, now)
    if body:
        at = flip % len(body)
        changed = body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1 :]
        assert not receiver_accepts(secret, headers, changed, now)
    moved = {**headers, "X-Policenet-Timestamp": str(timestamp + 1)}
    assert not receiver_accepts(secret, moved, body, now)


def test_each_webhook_gets_its_own_secret_shown_once_and_kept_as_given() -> None:
    w = world()
    first = w.subscriptions.add("case-system", URL)
    second = w.subscriptions.add("border-gates", URL)
    assert first.secret.startswith(SECRET_PREFIX)
    assert first.secret != second.secret
    assert len(first.secret) > len(SECRET_PREFIX) + 40
    with w.store.unit_of_work() as uow:
        stored = uow.webhooks.get("case-system")
    assert stored is not None and stored.secret == first.secret


# --- what is sent ---------------------------------------------------------------------


def test_only_events_of_the_subscribed_kinds_are_sent() -> None:
    w = world()
    w.subscriptions.add("cases", URL, ["case."])
    w.subscriptions.add("hits", URL, ["register.hit", "case.closed"])
    w.subscriptions.add("everything", URL)
    w.store_events("case.opened", "register.hit", "case.closed", "hub.notice", "register.hit")
    w.until_quiet()
    assert w.receiver.ids("cases") == [1, 3]
    assert w.receiver.ids("hits") == [2, 3, 5]
    assert w.receiver.ids("everything") == [1, 2, 3, 4, 5]


def test_a_new_webhook_gets_only_events_stored_after_it() -> None:
    w = world()
    w.store_events("case.opened", "case.closed")
    w.subscriptions.add("case-system", URL)
    w.store_events("case.opened")
    w.until_quiet()
    assert w.receiver.ids("case-system") == [3]


def test_a_paused_webhook_sends_nothing_and_catches_up_in_order_when_resumed() -> None:
    w = world()
    w.subscriptions.add("case-system", URL)
    w.store_events("case.opened")
    w.until_quiet()
    w.subscriptions.set_active("case-system", False)
    w.store_events("case.opened", "case.closed")
    w.until_quiet()
    assert w.receiver.ids("case-system") == [1]
    w.subscriptions.set_active("case-system", True)
    w.store_events("hub.notice")
    w.until_quiet()
    assert w.receiver.ids("case-system") == [1, 2, 3, 4]


def test_a_removed_webhook_is_gone_with_its_queue() -> None:
    w = world()
    w.subscriptions.add("case-system", URL)
    w.receiver.always["case-system"] = 500
    w.store_events("case.opened")
    w.round()
    w.subscriptions.remove("case-system")
    w.clock.advance(3600)
    w.round()
    assert len(w.receiver.got) == 1
    assert w.subscriptions.list_webhooks() == []
    with pytest.raises(NotFound, match="case-system"):
        w.subscriptions.dead_letters("case-system")
    with pytest.raises(NotFound, match="case-system"):
        w.subscriptions.remove("case-system")


# --- order and retries ----------------------------------------------------------------


def test_an_event_is_not_sent_before_the_one_before_it_is_delivered() -> None:
    w = world()
    w.subscriptions.add("case-system", URL)
    w.receiver.script[("case-system", 1)] = [500, 0]
    w.store_events("case.opened", "case.updated", "case.closed")
    w.round()
    w.round()  # event 1 waits for its retry: nothing else may go meanwhile
    assert w.receiver.ids("case-system") == [1]
    w.until_quiet()
    assert w.receiver.ids("case-system") == [1, 1, 1, 2, 3]


def test_a_failing_receiver_does_not_hold_up_another_webhook() -> None:
    w = world()
    w.subscriptions.add("down", URL)
    w.subscriptions.add("up", URL)
    w.receiver.always["down"] = 503
    w.store_events("case.opened", "case.updated")
    for _ in range(3):
        w.round()
        w.clock.advance(1)
    assert w.receiver.ids("up") == [1, 2]
    assert set(w.receiver.ids("down")) == {1}


def test_retries_wait_one_two_four_seconds_and_so_on() -> None:
    w = world()
    w.subscriptions.add("case-system", URL, max_attempts=10)
    w.receiver.always["case-system"] = 503
    w.store_events("case.opened")
    sent_at: list[datetime] = []
    for _ in range(10):
        [delivery] = w.round()
        sent_at.append(w.clock.now)
        if delivery.state is DeliveryState.DEAD:
            break
        # a moment before the retry is due, nothing is sent
        w.clock.now = delivery.next_attempt_at - timedelta(milliseconds=1)
        assert w.round() == []
        w.clock.now = delivery.next_attempt_at
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]
    assert gaps == [1, 2, 4, 8, 16, 32, 64, 128, 256]


@given(failures=st.integers(min_value=1, max_value=200), jitter=st.floats(0.0, 1.0))
def test_a_wait_doubles_up_to_an_hour_and_jitter_only_shortens_it(
    failures: int, jitter: float
) -> None:
    plain = retry_delay(failures, 0.0).total_seconds()
    jittered = retry_delay(failures, jitter).total_seconds()
    assert plain == min(2 ** (failures - 1), MAX_RETRY_SECONDS)
    assert plain * (1 - JITTER) <= jittered <= plain <= MAX_RETRY_SECONDS
    assert retry_delay(failures + 1, jitter) >= retry_delay(failures, jitter)


def test_the_forwarder_spreads_retries_with_its_jitter() -> None:
    w = world()
    w.forwarder = WebhookForwarder(w.store, w.clock, sender=w.receiver, jitter=lambda: 1.0)
    w.subscriptions.add("case-system", URL)
    w.receiver.always["case-system"] = 500
    w.store_events("case.opened")
    [first] = w.round()
    assert first.next_attempt_at == T0 + timedelta(seconds=1 - JITTER)


# --- dead letters ---------------------------------------------------------------------


def test_after_max_attempts_an_event_is_a_dead_letter_and_the_next_one_goes() -> None:
    w = world()
    w.subscriptions.add("case-system", URL, max_attempts=3)
    w.receiver.script[("case-system", 1)] = [500, 0, 404]
    w.store_events("case.opened", "case.closed")
    w.until_quiet()
    assert w.receiver.ids("case-system") == [1, 1, 1, 2]
    [dead] = w.subscriptions.dead_letters("case-system")
    assert (dead.event.id, dead.attempts, dead.state) == (1, 3, DeliveryState.DEAD)
    assert dead.last_error == "HTTP 404"
    assert w.counts("case-system") == {
        DeliveryState.PENDING: 0,
        DeliveryState.DELIVERED: 1,
        DeliveryState.DEAD: 1,
    }


def test_the_reason_of_each_failure_is_kept() -> None:
    w = world()
    w.subscriptions.add("case-system", URL, max_attempts=2)
    w.receiver.script[("case-system", 1)] = [0, 302]
    w.store_events("case.opened")
    [first] = w.round()
    assert first.last_error == "could not reach the receiver (ConnectError)"
    w.until_quiet()
    [dead] = w.subscriptions.dead_letters("case-system")
    assert dead.last_error == "HTTP 302 (redirects are not followed)"


def test_a_retried_dead_letter_is_sent_again_with_fresh_attempts() -> None:
    w = world()
    w.subscriptions.add("case-system", URL, max_attempts=2)
    w.receiver.script[("case-system", 1)] = [500, 500]
    w.receiver.script[("case-system", 2)] = [500, 500]
    w.store_events("case.opened", "case.closed")
    w.until_quiet()
    assert [d.event.id for d in w.subscriptions.dead_letters("case-system")] == [1, 2]
    assert w.subscriptions.retry("case-system", 2) == 1
    with pytest.raises(NotFound, match="no dead letter for event 2"):
        w.subscriptions.retry("case-system", 2)
    w.until_quiet()
    assert w.receiver.ids("case-system") == [1, 1, 2, 2, 2]
    assert [d.event.id for d in w.subscriptions.dead_letters("case-system")] == [1]
    assert w.subscriptions.retry("case-system", None) == 1
    w.until_quiet()
    assert w.subscriptions.dead_letters("case-system") == []
    with pytest.raises(NotFound, match="no webhook named 'nobody'"):
        w.subscriptions.retry("nobody", 1)


# --- nothing is lost when the node stops ----------------------------------------------


def test_the_queue_and_its_attempts_survive_a_new_forwarder() -> None:
    w = world()
    w.subscriptions.add("case-system", URL)
    w.receiver.script[("case-system", 1)] = [500]
    w.store_events("case.opened", "case.closed")
    [failed] = w.round()
    assert failed.attempts == 1
    # the node restarts: a new forwarder over the same database
    restarted = Receiver()
    w.forwarder = WebhookForwarder(w.store, w.clock, sender=restarted, jitter=lambda: 0.0)
    assert w.round() == [], "the retry is not due yet; the new forwarder must know that"
    w.clock.now = failed.next_attempt_at
    [second] = w.round()
    assert (second.event.id, second.attempts, second.state) == (1, 2, DeliveryState.DELIVERED)
    w.until_quiet()
    assert restarted.ids("case-system") == [1, 2]


def test_events_stored_without_anyone_queueing_them_are_still_sent() -> None:
    # The follower stores events and the node stops before anything queues them
    # (no on_event callback at all): the next forwarder finds them in the inbox.
    w = world()
    w.subscriptions.add("case-system", URL)
    hub = FakeHub()
    hub.log = [Event(i, "gb-metropolitan-police", "case.opened", T0, {}) for i in (1, 2, 3)]
    asyncio.run(EventFollower(hub, w.store, w.clock).follow_once())
    assert w.forwarder.queue_new() == 3
    assert w.forwarder.queue_new() == 0, "queueing again must not queue twice"
    w.until_quiet()
    assert w.receiver.ids("case-system") == [1, 2, 3]


def test_the_running_forwarder_sends_at_once_when_nudged_and_lanes_do_not_wait_on_each_other() -> (
    None
):
    w = world()
    w.subscriptions.add("slow", URL)
    w.subscriptions.add("quick", URL)
    release = asyncio.Event()

    class Slow(Receiver):
        async def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
            if headers["X-Policenet-Webhook"] == "slow":
                await release.wait()
            return await super().__call__(url, body, headers)

    slow = Slow()
    forwarder = WebhookForwarder(w.store, w.clock, sender=slow, poll_seconds=30)

    async def scenario() -> None:
        task = asyncio.create_task(forwarder.run())
        await asyncio.sleep(0.05)
        w.store_events("case.opened", "case.closed")
        forwarder.nudge()
        for _ in range(200):
            if slow.ids("quick") == [1, 2]:
                break
            await asyncio.sleep(0.01)
        quick_done, slow_done = slow.ids("quick"), slow.ids("slow")
        release.set()
        for _ in range(200):
            if slow.ids("slow") == [1, 2]:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert quick_done == [1, 2], "the poll is 30 s: only a nudge can have sent these"
        assert slow_done == []

    asyncio.run(scenario())
    assert slow.ids("slow") == [1, 2]


# --- what a webhook may be ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://cases.police.example/hook", "allowed only for localhost or 127.0.0.1"),
        ("ftp://cases.police.example/hook", "must be https://"),
        ("https:///hook", "must be https://"),
        ("https://user:pw@cases.police.example/", "user name or password"),
        ("https://cases.police.example/#part", "fragment"),
        ("https://cases.police.example:99999/", "not a valid URL"),
        ("https://cases.police.example/a b", "without spaces"),
    ],
)
def test_a_url_events_should_not_go_to_is_refused(url: str, reason: str) -> None:
    with pytest.raises(InvalidField, match=reason) as caught:
        world().subscriptions.add("case-system", url)
    assert caught.value.field == "url"


@pytest.mark.parametrize(
    "url", ["https://cases.police.example/h?x=1", "http://127.0.0.1:8080/h", "http://localhost/h"]
)
def test_https_anywhere_and_http_on_this_machine_are_accepted(url: str) -> None:
    assert world().subscriptions.add("case-system", url).url == url


@pytest.mark.parametrize(
    ("name", "kinds", "attempts", "bad"),
    [
        ("x", [], 10, "name"),
        ("Case-System", [], 10, "name"),
        ("case system", [], 10, "name"),
        ("case-system", ["Case."], 10, "kinds"),
        ("case-system", [""], 10, "kinds"),
        ("case-system", [], 0, "max_attempts"),
        ("case-system", [], 101, "max_attempts"),
    ],
)
def test_bad_names_kinds_and_attempts_are_refused(
    name: str, kinds: list[str], attempts: int, bad: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        world().subscriptions.add(name, URL, kinds, max_attempts=attempts)
    assert caught.value.field == bad


def test_a_name_is_used_once_and_kinds_are_kept_sorted_without_repeats() -> None:
    w = world()
    webhook = w.subscriptions.add("case-system", URL, ["register.hit", "case.", "case."])
    assert webhook.kinds == ("case.", "register.hit")
    with pytest.raises(Conflict, match="case-system"):
        w.subscriptions.add("case-system", URL)


# --- over real HTTP -------------------------------------------------------------------


@dataclass
class LocalReceiver:
    base_url: str
    got: list[tuple[str, dict[str, str], bytes]]


@pytest.fixture
def local_receiver() -> Iterator[LocalReceiver]:
    """A national system served by uvicorn on 127.0.0.1: 200 on /hook, 500 elsewhere."""
    got: list[tuple[str, dict[str, str], bytes]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        got.append((scope["path"], headers, body))
        status = 200 if scope["path"] == "/hook" else 500
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"thanks"})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", http="h11", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "the local receiver did not start"
        yield LocalReceiver(f"http://127.0.0.1:{port}", got)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_a_real_post_carries_a_signature_the_receiver_verifies(
    local_receiver: LocalReceiver,
) -> None:
    w = world()
    good = w.subscriptions.add("case-system", f"{local_receiver.base_url}/hook")
    w.subscriptions.add("broken", f"{local_receiver.base_url}/broken")
    # a port nothing listens on: bind one, note it, and close it again
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = closed.getsockname()[1]
    w.subscriptions.add("nowhere", f"http://127.0.0.1:{nowhere}/hook")
    [event] = w.store_events("case.opened")
    forwarder = WebhookForwarder(w.store, w.clock, sender=HttpSender(timeout=5))

    async def deliver() -> list[Delivery]:
        try:
            return await forwarder.deliver_due()
        finally:
            await forwarder.aclose()

    outcomes = {d.webhook: d for d in asyncio.run(deliver())}
    paths = sorted(path for path, _, _ in local_receiver.got)
    assert paths == ["/broken", "/hook"]
    [(_, headers, body)] = [g for g in local_receiver.got if g[0] == "/hook"]
    assert body == event.to_json().encode()
    assert headers["x-policenet-event-id"] == "1"
    canonical = {
        "X-Policenet-Timestamp": headers["x-policenet-timestamp"],
        "X-Policenet-Signature": headers["x-policenet-signature"],
    }
    assert receiver_accepts(good.secret, canonical, body, T0)
    assert outcomes["case-system"].state is DeliveryState.DELIVERED
    assert outcomes["broken"].last_error == "HTTP 500"
    assert outcomes["nowhere"].state is DeliveryState.PENDING
    assert (outcomes["nowhere"].last_error or "").startswith("could not reach the receiver")


# --- the HTTP API ---------------------------------------------------------------------


@pytest.fixture
def node(tmp_path: Path) -> NodeWorld:
    return build_node(tmp_path)


@pytest.fixture
def client(node: NodeWorld) -> Iterator[TestClient]:
    with TestClient(node.app, base_url="https://node.test") as test_client:
        yield test_client


def _login(client: TestClient, node: NodeWorld, username: str, role: Role) -> dict[str, str]:
    got = client.post("/api/v1/login", json=node.login_body(node.add_officer(username, role)))
    assert got.status_code == 200, got.text
    return {"authorization": f"Bearer {got.json()['token']}"}


def test_an_administrator_adds_lists_and_removes_webhooks(
    node: NodeWorld, client: TestClient
) -> None:
    admin = _login(client, node, "admin.jones", Role.ADMIN)
    body = {"name": "case-system", "url": URL, "kinds": ["case."]}
    added = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert added.status_code == 201, added.text
    secret = added.json()["secret"]
    assert secret.startswith(SECRET_PREFIX)
    listed = client.get("/api/v1/webhooks", headers=admin)
    assert listed.status_code == 200
    assert secret not in listed.text and "secret" not in listed.text
    [shown] = listed.json()
    assert (shown["name"], shown["url"], shown["kinds"], shown["active"]) == (
        "case-system",
        URL,
        ["case."],
        True,
    )
    assert shown["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0}
    again = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert again.status_code == 409
    paused = client.patch("/api/v1/webhooks/case-system", json={"active": False}, headers=admin)
    assert paused.status_code == 200
    assert client.get("/api/v1/webhooks", headers=admin).json()[0]["active"] is False
    assert client.delete("/api/v1/webhooks/case-system", headers=admin).status_code == 200
    assert client.get("/api/v1/webhooks", headers=admin).json() == []
    assert client.delete("/api/v1/webhooks/case-system", headers=admin).status_code == 404


def test_plain_http_to_another_machine_is_refused_with_a_reason(
    node: NodeWorld, client: TestClient
) -> None:
    admin = _login(client, node, "admin.jones", Role.ADMIN)
    body = {"name": "case-system", "url": "http://cases.police.example/"}
    got = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert got.status_code == 422
    assert got.json()["error"] == "invalid_field"
    assert "localhost or 127.0.0.1" in got.json()["message"]


def test_only_administrators_manage_webhooks(node: NodeWorld, client: TestClient) -> None:
    operator = _login(client, node, "op.smith", Role.OPERATOR)
    token = node.context.officers.issue_system_token("border-gates", node.clock())
    system = {"authorization": f"Bearer {token}"}
    for headers in (operator, system):
        assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
        got = client.post("/api/v1/webhooks", json={"name": "x1", "url": URL}, headers=headers)
        assert got.status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 401


def test_dead_letters_are_shown_and_retried_over_the_api(
    node: NodeWorld, client: TestClient
) -> None:
    admin = _login(client, node, "admin.jones", Role.ADMIN)
    body = {"name": "case-system", "url": URL, "max_attempts": 1}
    assert client.post("/api/v1/webhooks", json=body, headers=admin).status_code == 201
    store = node.context.store
    with store.unit_of_work() as uow:
        for i in (1, 2):
            uow.inbox.store(Event(i, "gb-metropolitan-police", "case.opened", T0, {"i": i}))
    receiver = Receiver(always={"case-system": 500})
    failing = WebhookForwarder(store, node.clock, sender=receiver, jitter=lambda: 0.0)
    asyncio.run(failing.deliver_due())
    asyncio.run(failing.deliver_due())
    dead = client.get("/api/v1/webhooks/case-system/dead-letters", headers=admin)
    assert dead.status_code == 200
    assert [(d["event_id"], d["last_error"]) for d in dead.json()] == [
        (1, "HTTP 500"),
        (2, "HTTP 500"),
    ]
    after = client.get("/api/v1/webhooks/case-system/dead-letters?after=1", headers=admin)
    assert [d["event_id"] for d in after.json()] == [2]
    one = client.post("/api/v1/webhooks/case-system/dead-letters/1/retry", headers=admin)
    assert one.json() == {"retried": 1}
    missing = client.post("/api/v1/webhooks/case-system/dead-letters/1/retry", headers=admin)
    assert missing.status_code == 404
    every = client.post("/api/v1/webhooks/case-system/dead-letters/retry", headers=admin)
    assert every.json() == {"retried": 1}
    [shown] = client.get("/api/v1/webhooks", headers=admin).json()
    assert shown["deliveries"]["pending"] == 2
    assert shown["next"]["event_id"] == 1
    nobody = client.get("/api/v1/webhooks/nobody/dead-letters", headers=admin)
    assert nobody.status_code == 404
