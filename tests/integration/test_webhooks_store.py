"""The webhook repository's contract on the in-memory fake, SQLite and PostgreSQL, and the CLI.

Each contract test runs once per backend (the ``store`` fixture), so the fake
the unit tests use is held to the behaviour of the SQL adapter. The CLI test
works on a node directory with a SQLite database, as an administrator would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policenet.cli.main import app as cli_app
from policenet.domain.events import Event
from policenet.errors import Conflict, NotFound
from policenet.settings import NODE_FILE, NodeSettings, dump
from policenet.store.database import migrate, open_store
from policenet.store.ports import Delivery, DeliveryState, Store, Webhook

T0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)


class Discard(Exception):
    """Raised to end a unit of work without keeping it."""


def webhook(name: str = "case-system", **changes: object) -> Webhook:
    base = Webhook(
        name=name,
        url="https://cases.police.example/hook",
        secret="pn_w_" + "s" * 43,
        kinds=("case.", "register.hit"),
        created=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def store_events(store: Store, *ids: int) -> list[Event]:
    events = [
        Event(i, "gb-metropolitan-police", f"case.k{i}", T0 + timedelta(seconds=i), {"i": i})
        for i in ids
    ]
    with store.unit_of_work() as uow:
        for event in events:
            uow.inbox.store(event)
    return events


def queued(store: Store, name: str = "case-system") -> list[Event]:
    """A webhook ``name`` with events 1 to 4 stored (returned) and 1, 2 and 4 queued to it."""
    events = store_events(store, 1, 2, 3, 4)
    with store.unit_of_work() as uow:
        uow.webhooks.add(webhook(name))
        uow.webhooks.queue(name, [1, 2, 4], 4, T0)
    return events


def head(store: Store, name: str = "case-system") -> Delivery | None:
    with store.unit_of_work() as uow:
        return uow.webhooks.head(name)


def test_a_webhook_comes_back_as_it_was_stored(store: Store) -> None:
    stored = webhook(max_attempts=7, queued_through=12, active=False)
    with store.unit_of_work() as uow:
        uow.webhooks.add(stored)
        uow.webhooks.add(webhook("border-gates", kinds=()))
    with store.unit_of_work() as uow:
        assert uow.webhooks.get("case-system") == stored
        assert [w.name for w in uow.webhooks.list()] == ["border-gates", "case-system"]
        assert uow.webhooks.get("nobody") is None
        assert uow.webhooks.get("border-gates") == webhook("border-gates", kinds=())


def test_a_name_is_taken_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.webhooks.add(webhook())
    with pytest.raises(Conflict, match="case-system"), store.unit_of_work() as uow:
        uow.webhooks.add(webhook(url="https://other.example/"))
    with store.unit_of_work() as uow:
        found = uow.webhooks.get("case-system")
    assert found is not None and found.url == webhook().url


def test_unknown_webhooks_are_not_found(store: Store) -> None:
    for action in (
        lambda uow: uow.webhooks.remove("nobody"),
        lambda uow: uow.webhooks.set_active("nobody", False),
        lambda uow: uow.webhooks.queue("nobody", [], 3, T0),
    ):
        with pytest.raises(NotFound, match="nobody"), store.unit_of_work() as uow:
            action(uow)


def test_the_head_is_the_oldest_pending_delivery_with_its_event(store: Store) -> None:
    events = queued(store)
    first = head(store)
    assert first is not None
    assert first.webhook == "case-system"
    assert first.event == events[0]
    assert (first.state, first.attempts, first.next_attempt_at) == (DeliveryState.PENDING, 0, T0)
    assert first.last_attempt_at is None and first.last_error is None
    with store.unit_of_work() as uow:
        uow.webhooks.save(replace(first, state=DeliveryState.DELIVERED, delivered_at=T0))
    second = head(store)
    assert second is not None and second.event.id == 2
    with store.unit_of_work() as uow:
        uow.webhooks.save(replace(second, state=DeliveryState.DEAD, attempts=10))
    last = head(store)
    assert last is not None and last.event.id == 4, "event 3 was never queued"


def test_queueing_again_changes_nothing_and_the_cursor_never_moves_back(store: Store) -> None:
    queued(store)
    first = head(store)
    assert first is not None
    failed = replace(first, attempts=3, last_error="HTTP 500", next_attempt_at=T0 + timedelta(1))
    with store.unit_of_work() as uow:
        uow.webhooks.save(failed)
        uow.webhooks.queue("case-system", [1, 2], 2, T0 + timedelta(hours=1))
    with store.unit_of_work() as uow:
        assert uow.webhooks.head("case-system") == failed
        found = uow.webhooks.get("case-system")
        assert found is not None and found.queued_through == 4
        assert uow.webhooks.counts("case-system")[DeliveryState.PENDING] == 3


def test_queueing_lands_with_its_transaction_or_not_at_all(store: Store) -> None:
    store_events(store, 1, 2)
    with store.unit_of_work() as uow:
        uow.webhooks.add(webhook())
    with pytest.raises(Discard), store.unit_of_work() as uow:
        uow.webhooks.queue("case-system", [1, 2], 2, T0)
        raise Discard
    with store.unit_of_work() as uow:
        found = uow.webhooks.get("case-system")
        assert found is not None and found.queued_through == 0
        assert uow.webhooks.head("case-system") is None


def test_a_saved_attempt_keeps_its_times_and_error(store: Store) -> None:
    queued(store)
    first = head(store)
    assert first is not None
    later = T0 + timedelta(minutes=5)
    attempted = replace(
        first,
        attempts=2,
        last_attempt_at=later,
        next_attempt_at=later + timedelta(seconds=2),
        last_error="no answer within 10 s",
    )
    with store.unit_of_work() as uow:
        uow.webhooks.save(attempted)
    assert head(store) == attempted


def test_dead_letters_are_listed_in_order_and_revived(store: Store) -> None:
    queued(store)
    with store.unit_of_work() as uow:
        for event_id in (1, 2, 4):
            pending = uow.webhooks.head("case-system")
            assert pending is not None and pending.event.id == event_id
            uow.webhooks.save(replace(pending, state=DeliveryState.DEAD, attempts=10))
    with store.unit_of_work() as uow:
        dead = uow.webhooks.dead_letters("case-system", 0, 10)
        assert [d.event.id for d in dead] == [1, 2, 4]
        assert [d.event.id for d in uow.webhooks.dead_letters("case-system", 1, 1)] == [2]
        assert uow.webhooks.dead_letters("case-system", 0, 0) == []
        assert uow.webhooks.revive("case-system", 2, T0 + timedelta(hours=1)) == 1
        assert uow.webhooks.revive("case-system", 2, T0) == 0
    revived = head(store)
    assert revived is not None
    assert (revived.event.id, revived.state, revived.attempts) == (2, DeliveryState.PENDING, 0)
    assert revived.next_attempt_at == T0 + timedelta(hours=1)
    with store.unit_of_work() as uow:
        assert uow.webhooks.revive("case-system", None, T0) == 2
        assert uow.webhooks.counts("case-system") == {
            DeliveryState.PENDING: 3,
            DeliveryState.DELIVERED: 0,
            DeliveryState.DEAD: 0,
        }


def test_removing_a_webhook_drops_its_queue_and_later_saves_do_nothing(store: Store) -> None:
    queued(store)
    queued_other = webhook("border-gates")
    with store.unit_of_work() as uow:
        uow.webhooks.add(queued_other)
        uow.webhooks.queue("border-gates", [3], 3, T0)
    in_flight = head(store)
    assert in_flight is not None
    with store.unit_of_work() as uow:
        uow.webhooks.remove("case-system")
        uow.webhooks.save(replace(in_flight, state=DeliveryState.DELIVERED, delivered_at=T0))
    with store.unit_of_work() as uow:
        assert uow.webhooks.get("case-system") is None
        assert uow.webhooks.head("case-system") is None
        assert sum(uow.webhooks.counts("case-system").values()) == 0
        other = uow.webhooks.head("border-gates")
        assert other is not None and other.event.id == 3


def test_pausing_and_resuming_is_stored(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.webhooks.add(webhook())
        uow.webhooks.set_active("case-system", False)
    with store.unit_of_work() as uow:
        paused = uow.webhooks.get("case-system")
        uow.webhooks.set_active("case-system", True)
        resumed = uow.webhooks.get("case-system")
    assert paused is not None and not paused.active
    assert resumed is not None and resumed.active


def test_old_delivered_records_are_forgotten_and_the_rest_kept(store: Store) -> None:
    queued(store)
    with store.unit_of_work() as uow:
        for event_id, delivered in ((1, T0), (2, T0 + timedelta(days=8))):
            pending = uow.webhooks.head("case-system")
            assert pending is not None and pending.event.id == event_id
            uow.webhooks.save(
                replace(pending, state=DeliveryState.DELIVERED, delivered_at=delivered)
            )
    with store.unit_of_work() as uow:
        assert uow.webhooks.forget_delivered(T0 + timedelta(days=7)) == 1
        assert uow.webhooks.counts("case-system") == {
            DeliveryState.PENDING: 1,
            DeliveryState.DELIVERED: 1,
            DeliveryState.DEAD: 0,
        }


# --- the command line -----------------------------------------------------------------


def test_the_cli_adds_lists_pauses_and_removes_webhooks(tmp_path: Path) -> None:
    directory = tmp_path / "node"
    directory.mkdir()
    db_url = f"sqlite:///{directory / 'node.db'}"
    settings = NodeSettings(
        directory=directory,
        member="gb-metropolitan-police",
        hub_url="https://hub.invalid",
        db_url=db_url,
    )
    (directory / NODE_FILE).write_text(dump(settings), encoding="utf-8")
    migrate(db_url)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, ["node", "webhook", *args, "--dir", str(directory)])
        assert result.exit_code == 0, result.output
        return result.output

    added = run("add", "case-system", "--url", "https://cases.police.example/", "--kind", "case.")
    secret = next(w for w in added.split() if w.startswith("pn_w_"))
    listed = run("list")
    assert "case-system" in listed and "active" in listed and "case." in listed
    assert secret not in listed
    assert "paused" in run("pause", "case-system")
    assert "paused" in run("list")
    run("resume", "case-system")
    assert "no dead letters" in run("dead-letters", "case-system")
    refused = runner.invoke(
        cli_app, ["node", "webhook", "retry", "case-system", "--dir", str(directory)]
    )
    assert refused.exit_code != 0
    run("remove", "case-system")
    assert "no webhooks" in run("list")
    store = open_store(db_url)
    try:
        with store.unit_of_work() as uow:
            assert uow.webhooks.list() == []
    finally:
        store.close()
