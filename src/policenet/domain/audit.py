"""Audit entries: who did what, when, with what outcome.

An entry is serialised canonically (JSON, sorted keys, no spaces, UTF-8,
times in UTC to the microsecond) so that its hash is the same wherever it is
computed. The Merkle log over these bytes lives in :mod:`policenet.security.audit`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from policenet.errors import InvalidField

DetailValue = str | int | bool | None


class Outcome:
    """The outcome words used in the log (kept as plain strings for readability)."""

    OK = "ok"
    REFUSED = "refused"
    HIT = "hit"
    NO_HIT = "no-hit"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One thing that happened.

    ``member`` is the acting member's code as proven by its certificate (or
    ``"hub-admin"`` for the hub's command line, or None when nobody could be
    identified, as for a refused connection). ``officer`` is the officer the
    member vouched for. ``action`` is a dotted verb (``member.add``,
    ``enquiry.documents``), ``target`` what it acted on.
    """

    time: datetime
    member: str | None
    action: str
    outcome: str
    officer: str | None = None
    target: str | None = None
    detail: Mapping[str, DetailValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.time.utcoffset() is None:
            raise InvalidField("time", "an audit entry needs a timezone-aware time")

    def canonical(self) -> bytes:
        """The bytes that are hashed into the log. Stable across processes and versions."""
        body = {
            "time": self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "member": self.member,
            "officer": self.officer,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "detail": dict(sorted(self.detail.items())),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_canonical(cls, data: bytes) -> AuditEntry:
        body = json.loads(data)
        return cls(
            time=datetime.strptime(body["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            member=body["member"],
            officer=body["officer"],
            action=body["action"],
            target=body["target"],
            outcome=body["outcome"],
            detail=body["detail"],
        )


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """The hub's signed statement of the log's size and root hash at a time.

    ``timestamp_ms`` is milliseconds since the Unix epoch (as in RFC 9162).
    ``signature`` is Ed25519 over :meth:`signed_bytes`.
    """

    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    signature: bytes

    def signed_bytes(self) -> bytes:
        return tree_head_bytes(self.tree_size, self.timestamp_ms, self.root_hash)


def tree_head_bytes(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """What the hub signs for a tree head: a label, the size, the time and the root."""
    return (
        b"policenet-tree-head-v1\x00"
        + tree_size.to_bytes(8, "big")
        + timestamp_ms.to_bytes(8, "big")
        + root_hash
    )
