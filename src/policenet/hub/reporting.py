"""Reporting records to any register: rows in, records put or removed, a report out.

What differs between registers is in a :class:`RegisterRules` (how a row
becomes a key and a payload, who may add a new record, the defaults); the
rest is the same for every register and lives here:

- bad rows are reported with their line numbers while good rows land;
- a record repeated anywhere in one load is refused naming the first line;
- only the owner or the owner's NCB changes or removes a record, and it
  keeps its owner; a row without a review date keeps the stored one, so
  loading the same file again changes nothing;
- a load is applied in batches (each one transaction), or with
  ``all_or_nothing`` in one transaction that is rolled back if any row is bad.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from policenet.domain.access import is_owner_side
from policenet.domain.audit import AuditEntry, Outcome
from policenet.errors import Forbidden, PolicenetError
from policenet.hub.caller import Caller
from policenet.hub.context import HubContext
from policenet.registers.base import RegisterRules
from policenet.registers.loading import (
    LoadReport,
    LoadRow,
    RowError,
    byte_lines,
    read_rows,
    split_row,
)
from policenet.security.auditlog import AuditLog
from policenet.store.ports import PutOutcome, RecordPut, UnitOfWork

LOAD_BATCH = 5_000
"""Rows per transaction in a best-effort load: each batch lands whole or not at all."""


def _first_sighting(seen: dict[bytes, int], key: str, line: int, noun: str) -> None:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    first = seen.setdefault(digest, line)
    if first != line:
        raise Forbidden(f"the same {noun} as line {first}")


def apply_rows(
    uow: UnitOfWork,
    caller: Caller,
    rules: RegisterRules,
    rows: Iterable[LoadRow],
    now: datetime,
    today: date,
    seen: dict[bytes, int] | None = None,
) -> LoadReport:
    """Validate and apply rows inside ``uow``; bad rows are reported, good ones land.

    ``seen`` carries the records of earlier batches of the same load (a short
    digest of each key -> its line).
    """
    report = LoadReport()
    register = rules.register.value
    puts: dict[str, tuple[int, RecordPut, bool]] = {}
    removals: dict[str, int] = {}
    member = caller.member
    seen = {} if seen is None else seen
    for row in rows:
        try:
            if row.op == "remove":
                key = rules.removal_key(row.record)
                _first_sighting(seen, key, row.line, rules.noun)
                removals[key] = row.line
                continue
            key, payload = rules.parse(row.record, today)
            _first_sighting(seen, key, row.line, rules.noun)
            envelope = row.envelope.envelope(
                member.code, now, today + rules.default_review, rules.default_mode
            )
            rules.check_envelope(payload, envelope)
            review_given = row.envelope.review_due is not None
            puts[key] = (row.line, RecordPut(key, payload, envelope), review_given)
        except PolicenetError as exc:
            report.reject(RowError(row.line, exc.message))
    keys = list(puts) + list(removals)
    existing = uow.records.get_many(register, keys) if keys else {}
    owners = {m.code: m for m in uow.members.list()} if existing else {}
    # a new record needs a member that may add it; an existing one its owner side (so an
    # agency that no longer reports may still remove what it reported)
    for key in [k for k in puts if k not in existing]:
        try:
            rules.may_add(member, key, puts[key][1].payload)
        except Forbidden as exc:
            report.reject(RowError(puts.pop(key)[0], exc.message))
    for key, stored in existing.items():
        if not is_owner_side(member, stored.envelope, owners.get(stored.envelope.owner)):
            line = puts[key][0] if key in puts else removals[key]
            report.reject(
                RowError(
                    line,
                    f"{key} is owned by {stored.envelope.owner}; only its owner or "
                    "the owner's NCB may change or remove it",
                )
            )
            puts.pop(key, None)
            removals.pop(key, None)
        elif key in puts:
            line, put, review_given = puts[key]
            kept = replace(
                put.envelope,
                owner=stored.envelope.owner,
                review_due=put.envelope.review_due if review_given else stored.envelope.review_due,
            )
            puts[key] = (line, replace(put, envelope=kept), review_given)
    if puts:
        outcomes = uow.records.put_many(register, [p for _, p, _ in puts.values()], now)
        report.added += outcomes.count(PutOutcome.ADDED)
        report.changed += outcomes.count(PutOutcome.CHANGED)
        report.unchanged += outcomes.count(PutOutcome.UNCHANGED)
    if removals:
        gone = uow.records.remove_many(register, list(removals), now)
        report.removed += gone.count(True)
        report.absent += gone.count(False)
    return report


def audit_load(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    rules: RegisterRules,
    report: LoadReport,
    now: datetime,
) -> None:
    audit.append(
        uow,
        AuditEntry(
            time=now,
            member=caller.member.code,
            officer=caller.officer,
            action=f"records.{rules.register.value}",
            outcome=Outcome.OK if report.committed else Outcome.REFUSED,
            detail={
                "added": report.added,
                "changed": report.changed,
                "unchanged": report.unchanged,
                "removed": report.removed,
                "rejected": report.rejected_count,
            },
        ),
    )


def rows_from_json(raw_rows: list[dict[str, Any]]) -> Iterator[LoadRow | RowError]:
    """Rows of a JSON request body (each may carry its file ``line``)."""
    for number, raw in enumerate(raw_rows, start=1):
        line = raw.pop("line", number)
        at = line if isinstance(line, int) and not isinstance(line, bool) else number
        try:
            yield split_row(at, raw)
        except PolicenetError as exc:
            yield RowError(at, exc.message)


class _RollBack(Exception):
    """Raised inside a unit of work to undo an all-or-nothing load that had bad rows."""


def _batch(
    uow: UnitOfWork,
    who: Caller,
    rules: RegisterRules,
    batch: list[LoadRow | RowError],
    now: datetime,
    seen: dict[bytes, int],
) -> LoadReport:
    good = [r for r in batch if isinstance(r, LoadRow)]
    report = apply_rows(uow, who, rules, good, now, now.date(), seen)
    for error in (r for r in batch if isinstance(r, RowError)):
        report.reject(error)
    return report


def apply_load(
    hub: HubContext,
    who: Caller,
    rules: RegisterRules,
    parsed: Iterator[LoadRow | RowError],
    all_or_nothing: bool,
) -> LoadReport:
    """Apply parsed rows: in batches, or (all or nothing) in one transaction."""
    total = LoadReport()
    now = hub.clock()
    seen: dict[bytes, int] = {}
    if all_or_nothing:
        try:
            with hub.store.unit_of_work() as uow:
                while batch := list(islice(parsed, LOAD_BATCH)):
                    total.merge(_batch(uow, who, rules, batch, now, seen))
                if total.rejected_count:
                    raise _RollBack
                audit_load(uow, hub.audit, who, rules, total, now)
        except _RollBack:
            total.committed = False
            total.added = total.changed = total.unchanged = total.removed = total.absent = 0
            with hub.store.unit_of_work() as uow:
                audit_load(uow, hub.audit, who, rules, total, now)
        return total
    while batch := list(islice(parsed, LOAD_BATCH)):
        with hub.store.unit_of_work() as uow:
            report = _batch(uow, who, rules, batch, now, seen)
            audit_load(uow, hub.audit, who, rules, report, now)
        total.merge(report)
    return total


async def spool_request(request: Request, sink: IO[bytes]) -> None:
    """Write a request body to ``sink`` as it arrives (a bulk load of any size), then rewind."""
    async for chunk in request.stream():
        sink.write(chunk)
    sink.flush()
    sink.seek(0)


def file_chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(1 << 20):
        yield chunk


def spool_dir(hub: HubContext) -> Path:
    """The hub's folder for bodies being received (``spool/``)."""
    path = hub.settings.directory / "spool"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


async def load_request(
    request: Request, hub: HubContext, who: Caller, rules: RegisterRules, all_or_nothing: bool
) -> LoadReport:
    """A bulk load's NDJSON body, spooled to disk as it arrives, then applied.

    A connection lost mid-upload applies nothing (the body never completes).
    """
    with tempfile.TemporaryFile(dir=spool_dir(hub)) as spool:
        await spool_request(request, spool)
        parsed = read_rows(byte_lines(file_chunks(spool)), "ndjson")
        report = await run_in_threadpool(apply_load, hub, who, rules, parsed, all_or_nothing)
    hub.bell.ring()
    return report
