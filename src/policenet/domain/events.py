"""Events the hub sends to members over their outbound stream.

Each event has an id that grows with every event the hub emits; a recipient
sees its own events in id order. Consumers remember the last id they applied
and resume after it, and ignore an id they have already applied, so delivery
is at least once and application exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from policenet.errors import InvalidField

BROADCAST = "*"
"""Recipient of an event meant for every member."""


class EventKind:
    MEMBER_ADMITTED = "member.admitted"
    MEMBER_REVOKED = "member.revoked"
    MEMBER_SCOPE_CHANGED = "member.scope-changed"
    CERTIFICATE_RENEWED = "certificate.renewed"
    AGENCY_ENQUIRY = "agency.enquiry"
    NOTICE = "hub.notice"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    recipient: str
    kind: str
    created: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.created.utcoffset() is None:
            raise InvalidField("created", "an event needs a timezone-aware time")

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "recipient": self.recipient,
                "kind": self.kind,
                "created": self.created.isoformat(),
                "payload": dict(self.payload),
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> Event:
        body = json.loads(line)
        return cls(
            id=int(body["id"]),
            recipient=str(body["recipient"]),
            kind=str(body["kind"]),
            created=datetime.fromisoformat(body["created"]),
            payload=dict(body["payload"]),
        )
