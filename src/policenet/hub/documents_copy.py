"""Offline copies of the travel documents register for nodes (border posts without a link).

A node may keep a read-only copy of the documents its member may see. It
starts from a snapshot (pages by key) and then follows deltas (the change
feed since the snapshot's ``as_of``). Each page is signed by the hub
(:mod:`policenet.security.signed`, label :data:`COPY_LABEL`) so the node can
check what it stores. A page only ever carries what the access decision lets
the member see: the record for full access, no record for reference-only.
A record that became invisible (removed, expired, restricted) is listed in
``removed`` by the SHA-256 of its key, so the page names no key the member
may not see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from policenet.domain.access import Access, decide
from policenet.domain.members import Member
from policenet.hub.documents import REGISTER
from policenet.hub.enquiry import require_register
from policenet.store.ports import StoredRecord, UnitOfWork

COPY_LABEL = "policenet-documents-copy-v1"
PAGE = 5_000


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def copy_entry(stored: StoredRecord, access: Access, owner: Member | None) -> dict[str, Any]:
    """What a node keeps of one record: enough to show a hit as the hub would."""
    return {
        "key": stored.key,
        "owner": stored.envelope.owner,
        "owner_name": owner.name if owner else stored.envelope.owner,
        "owner_country": owner.country if owner else None,
        "access": access.value,
        "record": dict(stored.payload) if access is Access.FULL else None,
        "caveats": stored.envelope.caveats,
        "expires": stored.envelope.expires.isoformat() if stored.envelope.expires else None,
    }


def _visible(
    uow: UnitOfWork, member: Member, records: Mapping[str, StoredRecord], now: datetime
) -> dict[str, dict[str, Any]]:
    owners = {m.code: m for m in uow.members.list()} if records else {}
    kept: dict[str, dict[str, Any]] = {}
    for key, stored in records.items():
        owner = owners.get(stored.envelope.owner)
        access = decide(member, stored.envelope, REGISTER, now, owner)
        if access is not Access.INVISIBLE:
            kept[key] = copy_entry(stored, access, owner)
    return kept


def snapshot_page(
    uow: UnitOfWork, member: Member, after_key: str, as_of: int | None, now: datetime
) -> dict[str, Any]:
    """One page of the snapshot: visible records with keys after ``after_key``.

    ``as_of`` is the change-feed position the snapshot started at (None on the
    first page: the current one); the node follows deltas from there.
    """
    require_register(member, REGISTER)
    position = uow.records.last_change(REGISTER.value) if as_of is None else as_of
    keys = uow.records.keys(REGISTER.value, after_key, PAGE)
    visible = _visible(uow, member, uow.records.get_many(REGISTER.value, keys), now)
    return {
        "kind": "snapshot",
        "member": member.code,
        "as_of": position,
        "generated": now.isoformat(),
        "records": [visible[k] for k in keys if k in visible],
        "next_key": keys[-1] if len(keys) == PAGE else None,
    }


def delta_page(uow: UnitOfWork, member: Member, after: int, now: datetime) -> dict[str, Any]:
    """Changes after ``after``: records to store or replace, hashes of keys to drop."""
    require_register(member, REGISTER)
    changes = uow.records.changes(REGISTER.value, after, PAGE)
    keys = sorted({c.key for c in changes})
    visible = _visible(uow, member, uow.records.get_many(REGISTER.value, keys), now)
    return {
        "kind": "delta",
        "member": member.code,
        "from": after,
        "to": changes[-1].seq if changes else after,
        "generated": now.isoformat(),
        "records": [visible[k] for k in keys if k in visible],
        "removed": sorted(key_hash(k) for k in keys if k not in visible),
        "complete": len(changes) < PAGE,
    }
