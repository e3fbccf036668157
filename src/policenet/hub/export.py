"""Exporting a member's own records in the form the register loads them (CSV or NDJSON).

What comes out goes back in unchanged: the same fields, the same envelope
columns (``expires``, ``review_due``, ``mode``, the restriction lists,
``caveats``), so a member can keep a copy, move records between systems, or
check what the register holds for it. Only the caller's records (and, for
an NCB, its agencies') are exported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from policenet.domain.access import is_owner_side
from policenet.domain.registers import RegisterName
from policenet.hub.caller import Caller
from policenet.registers.loading import ENVELOPE_FIELDS
from policenet.store.ports import Store, StoredRecord

PAGE = 2_000


def _envelope_columns(stored: StoredRecord) -> dict[str, str]:
    env, r = stored.envelope, stored.envelope.restrictions
    return {
        "expires": env.expires.date().isoformat() if env.expires else "",
        "review_due": env.review_due.date().isoformat() if env.review_due else "",
        "mode": env.mode.value,
        "allow_countries": ";".join(sorted(r.allow_countries)),
        "deny_countries": ";".join(sorted(r.deny_countries)),
        "allow_members": ";".join(sorted(r.allow_members)),
        "deny_members": ";".join(sorted(r.deny_members)),
        "caveats": env.caveats,
    }


def own_records(store: Store, caller: Caller, register: RegisterName) -> Iterator[StoredRecord]:
    """The caller's records (an NCB: with its agencies'), page by page in key order."""
    after = ""
    while True:
        with store.unit_of_work() as uow:
            keys = uow.records.keys(register.value, after, PAGE)
            if not keys:
                return
            stored = uow.records.get_many(register.value, keys)
            owners = {m.code: m for m in uow.members.list()}
        after = keys[-1]
        for key in keys:
            record = stored.get(key)
            if record and is_owner_side(
                caller.member, record.envelope, owners.get(record.envelope.owner)
            ):
                yield record


Rows = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""How a register writes a stored payload as a load row (most store it as one already)."""


def _as_stored(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return payload


def ndjson_lines(records: Iterator[StoredRecord], to_row: Rows = _as_stored) -> Iterator[bytes]:
    for stored in records:
        row: dict[str, Any] = {**to_row(stored.payload)}
        row.update({k: v for k, v in _envelope_columns(stored).items() if v})
        yield json.dumps(row, ensure_ascii=False, sort_keys=True).encode() + b"\n"


def csv_lines(
    records: Iterator[StoredRecord], fields: Sequence[str], to_row: Rows = _as_stored
) -> Iterator[bytes]:
    """CSV with a header of ``fields`` and the envelope columns."""
    header = [*fields, *ENVELOPE_FIELDS]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield buffer.getvalue().encode()
    for stored in records:
        buffer.seek(0)
        buffer.truncate()
        values = {**to_row(stored.payload), **_envelope_columns(stored)}
        writer.writerow(["" if values.get(f) is None else values.get(f) for f in header])
        yield buffer.getvalue().encode()
