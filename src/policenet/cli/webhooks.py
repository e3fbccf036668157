"""``policenet node webhook ...``: subscribe national systems to the node's events.

The commands work on the node's database directly; a running node picks the
changes up within a second. How deliveries are signed, retried and given up
on is in :mod:`policenet.node.webhooks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from policenet.cli.common import NodeDir, node_settings, now, out
from policenet.node.webhooks import DEFAULT_MAX_ATTEMPTS, WebhookSubscriptions
from policenet.store.database import open_store
from policenet.store.ports import DeliveryState

app = typer.Typer(
    help="Webhooks that forward the node's events to national systems.", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="the webhook's name")]


@contextmanager
def _subscriptions(directory: NodeDir) -> Iterator[WebhookSubscriptions]:
    store = open_store(node_settings(directory).db_url)
    try:
        yield WebhookSubscriptions(store, now)
    finally:
        store.close()


def _when(value: object) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


@app.command("add")
def add(
    directory: NodeDir,
    name: Annotated[str, typer.Argument(help="the national system, e.g. case-system")],
    url: Annotated[str, typer.Option(help="https:// address that receives the events")],
    kind: Annotated[
        list[str] | None,
        typer.Option(help="an event-kind prefix to send, e.g. case. (repeat; none: every kind)"),
    ] = None,
    max_attempts: Annotated[
        int, typer.Option(help="attempts before an event becomes a dead letter")
    ] = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Subscribe a national system; prints the signing secret once."""
    with _subscriptions(directory) as subscriptions:
        webhook = subscriptions.add(name, url, kind or (), max_attempts=max_attempts)
    kinds = ", ".join(webhook.kinds) or "every kind"
    out(f"webhook {webhook.name} added: {webhook.url} ({kinds})")
    out(f"  signing secret (shown once): {webhook.secret}")
    out(f"  events stored from now on (after event {webhook.queued_through}) are sent")


@app.command("list")
def list_(directory: NodeDir) -> None:
    """List webhooks with their queues (never the secrets)."""
    with _subscriptions(directory) as subscriptions:
        found = subscriptions.list_webhooks()
    if not found:
        out("no webhooks")
    for status in found:
        w, counts = status.webhook, status.counts
        state = "active" if w.active else "paused"
        out(
            f"{w.name:<24} {state:<7} pending {counts[DeliveryState.PENDING]:<6} "
            f"dead {counts[DeliveryState.DEAD]:<6} {w.url}"
        )
        out(f"  kinds: {', '.join(w.kinds) or 'every kind'}; max attempts {w.max_attempts}")
        if status.head is not None and status.head.last_error:
            head = status.head
            out(
                f"  event {head.event.id}: {head.attempts} attempts, last error {head.last_error}; "
                f"next try {_when(head.next_attempt_at)} UTC"
            )


def _simple(action: Callable[[WebhookSubscriptions], None], directory: NodeDir, done: str) -> None:
    with _subscriptions(directory) as subscriptions:
        action(subscriptions)
    out(done)


@app.command("remove")
def remove(directory: NodeDir, name: NameArg) -> None:
    """Remove a webhook with its queue and dead letters."""
    _simple(lambda s: s.remove(name), directory, f"webhook {name} removed")


@app.command("pause")
def pause(directory: NodeDir, name: NameArg) -> None:
    """Stop sending to a webhook; events stored meanwhile are sent when it is resumed."""
    _simple(lambda s: s.set_active(name, False), directory, f"webhook {name} paused")


@app.command("resume")
def resume(directory: NodeDir, name: NameArg) -> None:
    """Send to a paused webhook again, starting with what it missed."""
    _simple(lambda s: s.set_active(name, True), directory, f"webhook {name} resumed")


@app.command("dead-letters")
def dead_letters(
    directory: NodeDir,
    name: NameArg,
    after: Annotated[int, typer.Option(help="only events with a larger id")] = 0,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
) -> None:
    """List the events a webhook gave up on, oldest first."""
    with _subscriptions(directory) as subscriptions:
        found = subscriptions.dead_letters(name, after, limit)
    if not found:
        out(f"webhook {name} has no dead letters")
    for d in found:
        out(
            f"event {d.event.id:<8} {d.event.kind:<24} {d.attempts} attempts, "
            f"last {_when(d.last_attempt_at)} UTC: {d.last_error}"
        )


@app.command("retry")
def retry(
    directory: NodeDir,
    name: NameArg,
    event_id: Annotated[int | None, typer.Argument(help="the dead letter's event id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter of the webhook")] = False,
) -> None:
    """Queue a dead letter (or all of them) again, with a fresh count of attempts."""
    if (event_id is None) == (not all_):
        raise typer.BadParameter("give an EVENT_ID or --all, not both and not neither")
    with _subscriptions(directory) as subscriptions:
        retried = subscriptions.retry(name, None if all_ else event_id)
    out(f"{retried} dead letter(s) of webhook {name} queued again")
