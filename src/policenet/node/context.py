"""What the node's handlers share: built once by :func:`policenet.node.app.create_node`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from policenet.node.coalescing import CheckCoalescer
from policenet.node.follower import EventFollower
from policenet.node.hubclient import HubClient
from policenet.node.messages import Messenger
from policenet.node.officers import OfficerDirectory
from policenet.node.offline import OfflineCopy
from policenet.node.webhooks import WebhookForwarder, WebhookSubscriptions
from policenet.settings import NodeSettings
from policenet.store.ports import Store
from policenet.web.bell import EventBell


@dataclass
class NodeContext:
    settings: NodeSettings
    store: Store
    officers: OfficerDirectory
    hub: HubClient
    follower: EventFollower
    clock: Callable[[], datetime]
    messenger: Messenger
    webhooks: WebhookSubscriptions
    forwarder: WebhookForwarder
    copy: OfflineCopy | None = None
    """The offline copy of travel documents (None when the settings turn it off)."""
    bell: EventBell = field(default_factory=EventBell)
    """Rung when the follower stores an event from the hub (wakes the live inbox)."""
    scope_cache: dict[str, Any] = field(default_factory=dict)
    """The member's registers as the hub last gave them, for the web UI's menus."""
    checks: CheckCoalescer = field(init=False)
    """Document checks on their way to the hub, merged per caller (see :mod:`.coalescing`)."""

    def __post_init__(self) -> None:
        self.checks = CheckCoalescer(self.hub)
