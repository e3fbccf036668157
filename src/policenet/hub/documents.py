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

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from policenet.domain.cases import DeadlinePolicy
from policenet.hub.caller import Caller
from policenet.hub.cases import open_cases
from policenet.hub.enquiry import record_enquiry, require_register, resolve
from policenet.registers.documents.index import DocumentIndex, DocumentProbe
from policenet.registers.documents.rules import DEFAULT_REVIEW, REGISTER, DocumentRules
from policenet.registers.hits import Hit
from policenet.security.auditlog import AuditLog
from policenet.store.ports import Store, UnitOfWork


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


__all__ = ["DEFAULT_REVIEW", "REGISTER", "DocumentRegister", "DocumentRules"]
