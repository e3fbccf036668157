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

from collections.abc import Iterator, Sequence
from datetime import datetime

from policenet.domain.cases import DeadlinePolicy
from policenet.hub.answering import answer
from policenet.hub.caller import Caller
from policenet.hub.enquiry import require_register
from policenet.hub.live import LiveIndex
from policenet.registers.base import Candidate
from policenet.registers.documents.index import DocumentIndex, DocumentProbe
from policenet.registers.documents.rules import DEFAULT_REVIEW, REGISTER, DocumentRules
from policenet.registers.hits import Hit
from policenet.security.auditlog import AuditLog
from policenet.store.ports import RecordChange, UnitOfWork


class DocumentRegister(LiveIndex):
    """The hub's travel documents index over the store, safe to share between threads.

    The index needs only the records' keys (which name the document).
    """

    register = REGISTER
    load_page = 50_000

    def __init__(self) -> None:
        super().__init__()
        self._index = DocumentIndex()

    def __len__(self) -> int:
        return len(self._index)

    def _load_pages(self, pages: Iterator[tuple[UnitOfWork, list[str]]]) -> None:
        """Every page in one :meth:`DocumentIndex.add_keys`: one sort at the end. Page by page
        each page would be inserted into the sorted arrays, copying them whole every time
        (hours at 10^8 records)."""
        self._index.add_keys(key for _, keys in pages for key in keys)

    def _apply(self, uow: UnitOfWork, changes: Sequence[RecordChange]) -> None:  # noqa: ARG002
        for change in changes:
            if change.removed:
                self._index.remove(change.key)
            else:
                self._index.add_keys([change.key])

    def search(self, probes: Sequence[DocumentProbe]) -> list[Sequence[Candidate]]:
        with self._lock:
            return self._index.search_many(probes)  # a fresh list of fresh lists (or ())

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
        requests: int = 1,
    ) -> list[list[Hit]]:
        """Check documents for ``caller``: hits in probe order, audited, NCBs told, cases opened.

        ``requests``: how many checks a node merged into this one (for the audit entry).
        """
        require_register(caller.member, REGISTER)
        self.refresh(uow)
        found = self.search(probes)
        return answer(
            uow, audit, caller, REGISTER, found, now, policy, source=source, requests=requests
        )


__all__ = ["DEFAULT_REVIEW", "REGISTER", "DocumentRegister", "DocumentRules"]
