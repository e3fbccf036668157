"""The travel documents register at the hub: its index, its checks and its reports.

The store is the source of truth. :class:`DocumentRegister` builds its index
from the store's keys at start and keeps it current from the change feed
before every check, so a record reported through another hub process (or
the administrator's command line) is found at once.

Reporting rules (ARCHITECTURE, "Access and ownership"): only the issuing
country's NCB, or an agency its NCB lets report (``may_report``), may add a
document; only the record's owner or the owner's NCB may change or remove it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from policenet.domain.access import is_owner_side
from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.cases import DeadlinePolicy
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden, PolicenetError
from policenet.hub.caller import Caller
from policenet.hub.cases import open_cases
from policenet.hub.enquiry import record_enquiry, require_register, resolve
from policenet.registers.documents.codec import removal_key, to_payload
from policenet.registers.documents.countries import owning_country
from policenet.registers.documents.index import DocumentIndex, DocumentProbe
from policenet.registers.documents.record import (
    natural_key,
    validate,
)
from policenet.registers.hits import Hit
from policenet.registers.loading import LoadReport, LoadRow, RowError
from policenet.security.auditlog import AuditLog
from policenet.store.ports import PutOutcome, RecordPut, Store, UnitOfWork

REGISTER = RegisterName.DOCUMENTS
DEFAULT_REVIEW = timedelta(days=365)
"""A record's review is due a year after it is reported unless the row says otherwise."""


class DocumentRegister:
    """The hub's travel documents index over the store, safe to share between threads."""

    def __init__(self) -> None:
        self._index = DocumentIndex()
        self._seq = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._index)

    def load(self, store: Store, page: int = 50_000) -> int:
        """Build the index from the store (at start); returns the number of records."""
        with self._lock:
            with store.unit_of_work() as uow:
                self._seq = uow.records.last_change(REGISTER.value)
            after = ""
            while True:
                with store.unit_of_work() as uow:
                    keys = uow.records.keys(REGISTER.value, after, page)
                if not keys:
                    break
                self._index.add_keys(keys)
                after = keys[-1]
        with store.unit_of_work() as uow:
            self.refresh(uow)
        return len(self._index)

    def refresh(self, uow: UnitOfWork) -> None:
        """Apply the change feed since the last refresh to the index."""
        with self._lock:
            while changes := uow.records.changes(REGISTER.value, self._seq, 10_000):
                for change in changes:
                    if change.removed:
                        self._index.remove(change.key)
                    else:
                        self._index.add_keys([change.key])
                self._seq = changes[-1].seq

    def search(self, probes: Sequence[DocumentProbe]) -> list[list[Any]]:
        with self._lock:
            return [list(found) for found in self._index.search_many(probes)]

    def check(
        self,
        uow: UnitOfWork,
        audit: AuditLog,
        caller: Caller,
        probes: Sequence[DocumentProbe],
        now: datetime,
        policy: DeadlinePolicy,
        *,
        source: str = "live",
    ) -> list[list[Hit]]:
        """Check documents for ``caller``: hits in probe order, audited, NCBs told, cases opened."""
        require_register(caller.member, REGISTER)
        self.refresh(uow)
        answers = resolve(uow, caller.member, REGISTER, self.search(probes), now)
        record_enquiry(uow, audit, caller, REGISTER, len(probes), answers, now, source=source)
        hits = [h for found in answers for h in found]
        numbers = open_cases(uow, audit, caller, REGISTER, hits, now, policy) if hits else {}
        return [[replace(h, case=numbers.get(h.key)) for h in found] for found in answers]


def _may_report(member: Member, issuing_state: str) -> None:
    country = owning_country(issuing_state)
    if country is None:
        raise Forbidden(
            f"{issuing_state} documents belong to no member country: nobody reports them"
        )
    if member.reports_for_country != country:
        raise Forbidden(
            f"{issuing_state} documents may be reported only by the NCB of {country} "
            f"(or an agency it lets report); {member.code} may not"
        )


def apply_rows(
    uow: UnitOfWork,
    caller: Caller,
    rows: Iterable[LoadRow],
    now: datetime,
    today: date,
    seen: dict[bytes, int] | None = None,
) -> LoadReport:
    """Validate and apply rows inside ``uow``; bad rows are reported, good ones land.

    ``seen`` carries the documents of earlier batches of the same load (a short
    digest of each key -> its line), so a document repeated anywhere in a load
    is refused naming the first line, whatever the batch boundaries. A row
    that names no review date keeps the stored record's, and a record keeps its
    owner when its owner's NCB changes it, so loading the same file again
    changes nothing.
    """
    report = LoadReport()
    puts: dict[str, tuple[int, RecordPut, bool]] = {}
    removals: dict[str, int] = {}
    member = caller.member
    seen = {} if seen is None else seen
    for row in rows:
        try:
            if row.op == "remove":
                key = removal_key(dict(row.record))
                _first_sighting(seen, key, row.line)
                removals[key] = row.line
                continue
            doc = validate(row.record, today)
            key = natural_key(doc)
            _first_sighting(seen, key, row.line)
            envelope = row.envelope.envelope(member.code, now, today + DEFAULT_REVIEW)
            review_given = row.envelope.review_due is not None
            puts[key] = (row.line, RecordPut(key, to_payload(doc), envelope), review_given)
        except PolicenetError as exc:
            report.reject(RowError(row.line, exc.message))
    keys = list(puts) + list(removals)
    existing = uow.records.get_many(REGISTER.value, keys) if keys else {}
    owners = {m.code: m for m in uow.members.list()} if existing else {}
    # a new document needs a member that may report its country; an existing one its owner
    # side (so an agency that no longer reports may still remove what it reported)
    for key in [k for k in puts if k not in existing]:
        try:
            _may_report(member, key.split(":", 1)[0])
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
        outcomes = uow.records.put_many(REGISTER.value, [p for _, p, _ in puts.values()], now)
        report.added += outcomes.count(PutOutcome.ADDED)
        report.changed += outcomes.count(PutOutcome.CHANGED)
        report.unchanged += outcomes.count(PutOutcome.UNCHANGED)
    if removals:
        gone = uow.records.remove_many(REGISTER.value, list(removals), now)
        report.removed += gone.count(True)
        report.absent += gone.count(False)
    return report


def _first_sighting(seen: dict[bytes, int], key: str, line: int) -> None:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    first = seen.setdefault(digest, line)
    if first != line:
        raise Forbidden(f"the same document as line {first}")


def audit_load(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    report: LoadReport,
    now: datetime,
    *,
    action: str = "records.documents",
) -> None:
    audit.append(
        uow,
        AuditEntry(
            time=now,
            member=caller.member.code,
            officer=caller.officer,
            action=action,
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
