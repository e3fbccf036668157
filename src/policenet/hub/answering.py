"""From an index's candidates to the enquirer's hits: the same steps for every register.

:func:`answer` decides access for each candidate (:func:`~policenet.hub.enquiry.resolve`),
audits the enquiry and tells the NCBs (:func:`~policenet.hub.enquiry.record_enquiry`),
and opens or joins a follow-up case for each hit on another member's record
(:func:`~policenet.hub.cases.open_cases`), reading the member list once for it
all, in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from policenet.domain.cases import DeadlinePolicy
from policenet.domain.registers import RegisterName
from policenet.hub.caller import Caller
from policenet.hub.cases import open_cases
from policenet.hub.enquiry import members_by_code, record_enquiry, resolve
from policenet.registers.base import Candidate
from policenet.registers.hits import Hit
from policenet.security.auditlog import AuditLog
from policenet.store.ports import UnitOfWork


def answer(
    uow: UnitOfWork,
    audit: AuditLog,
    caller: Caller,
    register: RegisterName,
    found: Sequence[Sequence[Candidate]],
    now: datetime,
    policy: DeadlinePolicy,
    *,
    source: str = "live",
    weigh: Callable[[Hit], Hit] | None = None,
    requests: int = 1,
) -> list[list[Hit]]:
    """The hits of each probe's candidates, in probe order, audited, told and followed up.

    ``weigh`` adds what a register knows of a hit once access is decided (the
    DNA register's likelihood ratio) before the hit is audited and told. ``requests``:
    see :func:`~policenet.hub.enquiry.record_enquiry`.
    """
    members = members_by_code(uow) if any(found) else {}
    answers = resolve(uow, caller.member, register, found, now, members=members)
    if weigh is not None:
        answers = [[weigh(hit) for hit in hits] for hits in answers]
    record_enquiry(
        uow,
        audit,
        caller,
        register,
        len(found),
        answers,
        now,
        source=source,
        members=members,
        requests=requests,
    )
    hits = [h for hits in answers for h in hits]
    if not hits:
        return answers
    numbers = open_cases(uow, audit, caller, register, hits, now, policy, members=members)
    return [
        [h if (number := numbers.get(h.key)) is None else replace(h, case=number) for h in hits]
        for hits in answers
    ]
