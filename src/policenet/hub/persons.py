"""The persons register at the hub: notices, diffusions and watchlists, searched by name.

A search is one or more :class:`PersonQuery` (a screening batch is many);
each query's candidates go through the access decision like every
register's (a diffusion not addressed to the caller's country is invisible;
a reference-only notice shows its reference and "contact your NCB"), the
enquiry is audited with every hit, and each hit on another member's record
opens or joins a follow-up case between the NCBs.

A travel document check also asks this register for the persons whose
records name the document (:meth:`PersonRegister.linked`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from policenet.domain.cases import DeadlinePolicy
from policenet.hub.answering import answer
from policenet.hub.caller import Caller
from policenet.hub.enquiry import require_register
from policenet.hub.live import PayloadIndex
from policenet.registers.base import Candidate, MatchStrength
from policenet.registers.documents.index import DocumentProbe
from policenet.registers.hits import Hit
from policenet.registers.persons.codec import from_payload
from policenet.registers.persons.index import PersonIndex
from policenet.registers.persons.record import Person
from policenet.registers.persons.rules import REGISTER, PersonRules
from policenet.registers.persons.scoring import PersonQuery
from policenet.security.auditlog import AuditLog
from policenet.store.ports import UnitOfWork


class PersonRegister(PayloadIndex[Person]):
    """The hub's persons index over the store, safe to share between threads."""

    register = REGISTER

    def __init__(self) -> None:
        self._index = PersonIndex()
        super().__init__(self._index, from_payload)

    def search(
        self,
        uow: UnitOfWork,
        audit: AuditLog,
        caller: Caller,
        queries: Sequence[PersonQuery],
        now: datetime,
        policy: DeadlinePolicy,
        *,
        limit: int = 10,
        source: str = "live",
    ) -> list[list[Hit]]:
        """Search each query for ``caller``: hits in query order, audited, cases opened."""
        require_register(caller.member, REGISTER)
        self.refresh(uow)
        with self._lock:
            found = self._index.search_many(queries, limit)
        return answer(uow, audit, caller, REGISTER, found, now, policy, source=source)

    def linked(
        self,
        uow: UnitOfWork,
        audit: AuditLog,
        caller: Caller,
        probes: Sequence[DocumentProbe],
        now: datetime,
        policy: DeadlinePolicy,
    ) -> list[list[Hit]]:
        """The persons whose records name each checked document, as hits the caller may see.

        Nothing (and no audit entry) for a member without the persons register
        or when no record names any of the documents; otherwise audited as a
        persons enquiry whose source is the document check.
        """
        empty: list[list[Hit]] = [[] for _ in probes]
        if REGISTER not in caller.member.registers:
            return empty
        self.refresh(uow)
        with self._lock:
            found = [self._linked(probe) for probe in probes]
        if not any(found):
            return empty
        return answer(uow, audit, caller, REGISTER, found, now, policy, source="document")

    def _linked(self, probe: DocumentProbe) -> list[Candidate]:
        """The candidates of the records naming ``probe``'s document (hold the lock)."""
        if not self._index.names_document(probe.number):
            return []  # most numbers: no record names them
        kind = probe.document_type.value if probe.document_type else None
        return [
            Candidate(
                key=key,
                score=1.0,
                strength=MatchStrength.EXACT,
                explanation=(f"the record names the travel document {probe.number} checked",),
            )
            for key in self._index.linked(probe.number, probe.issuing_state, kind)
        ]


__all__ = ["REGISTER", "PersonRegister", "PersonRules"]
