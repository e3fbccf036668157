"""Admitting, revoking and renewing members: the hub administrator's work.

Each operation is one transaction that changes the members, records the
certificate, appends an audit entry and emits an event together, so a
failure leaves nothing half-written. A refused operation is audited too.

Key loss: ``revoke`` stops every certificate of the member at once (the CRL
is rewritten and the running hub refuses the member within its CRL refresh
interval); ``renew`` then issues a fresh key and certificate in a new bundle
and reinstates the member.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.certificates import CertificatePurpose, IssuedCertificate
from policenet.domain.events import BROADCAST, EventKind
from policenet.domain.members import (
    GENERAL_SECRETARIAT_CODE,
    Admission,
    Member,
    MemberKind,
    MemberStatus,
    admit,
    set_agency_scope,
)
from policenet.domain.registers import RegisterName, format_registers
from policenet.errors import Conflict, InvalidField, NotFound, PolicenetError
from policenet.hub.ca import CertificateAuthority, publish_crl
from policenet.security import pki
from policenet.security.auditlog import AuditLog
from policenet.security.bundle import MemberBundle, write_bundle
from policenet.store.ports import Store, UnitOfWork

HUB_ADMIN = "hub-admin"
"""The actor the audit log names for the hub's command line."""

REVOCATION_REASONS = ("key_compromise", "cessation_of_operation", "superseded", "unspecified")


@dataclass(frozen=True, slots=True)
class Issued:
    member: Member
    certificate: IssuedCertificate
    bundle: Path


def issued_record(
    member: str, cert: x509.Certificate, purpose: CertificatePurpose
) -> IssuedCertificate:
    return IssuedCertificate(
        serial=cert.serial_number,
        member=member,
        purpose=purpose,
        fingerprint=pki.fingerprint(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        pem=cert.public_bytes(Encoding.PEM).decode(),
    )


class MemberAdministration:
    """The hub administrator's operations on members (used by ``policenet member ...``)."""

    def __init__(
        self,
        store: Store,
        ca: CertificateAuthority,
        audit: AuditLog,
        *,
        hub_url: str,
        certificate_days: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._ca = ca
        self._audit = audit
        self._hub_url = hub_url
        self._days = certificate_days
        self._clock = clock

    @property
    def crl_url(self) -> str:
        return f"{self._hub_url}/v1/crl"

    @contextmanager
    def _audited(self, action: str, target: str | None) -> Iterator[None]:
        """Audit a refusal in a transaction of its own, then let the error go on."""
        try:
            yield
        except PolicenetError as exc:
            with self._store.unit_of_work() as uow:
                self._audit.append(
                    uow,
                    AuditEntry(
                        time=self._clock(),
                        member=HUB_ADMIN,
                        action=action,
                        outcome=Outcome.REFUSED,
                        target=target,
                        detail={"reason": exc.message},
                    ),
                )
            raise

    def _issue(
        self, member: Member, now: datetime
    ) -> tuple[pki.KeyAndCertificate, IssuedCertificate]:
        key = pki.generate_key()
        cert = pki.issue_member_certificate(
            self._ca.issuing,
            member_code=member.code,
            member_name=member.name,
            country=member.country,
            public_key=key.public_key(),
            now=now,
            valid_days=self._days,
            crl_url=self.crl_url,
        )
        return (
            pki.KeyAndCertificate(key=key, certificate=cert),
            issued_record(member.code, cert, CertificatePurpose.MEMBER),
        )

    def _write_bundle(self, path: Path, member: Member, issued: pki.KeyAndCertificate) -> None:
        write_bundle(
            path,
            MemberBundle(
                member_code=member.code,
                name=member.name,
                kind=member.kind.value,
                country=member.country,
                parent=member.parent,
                hub_url=self._hub_url,
                key=issued.key,
                certificate=issued.certificate,
                issuing=self._ca.issuing.certificate,
                root=self._ca.root,
            ),
        )

    def admit(self, request: Admission, bundle: Path) -> Issued:
        """Admit a member, issue its certificate and write its bundle to ``bundle``.

        Raises Conflict when ``bundle`` exists and is not empty (checked before
        anything is written), and the errors of :func:`policenet.domain.members.admit`.
        """
        now = self._clock()
        with self._audited("member.add", request.code or request.country or request.name):
            if bundle.exists() and any(bundle.iterdir()):
                raise Conflict(f"bundle directory {bundle} exists and is not empty")
            with self._store.unit_of_work() as uow:
                member = admit(request, uow.members.list())
                issued, record = self._issue(member, now)
                uow.members.add(member)
                uow.certificates.add(record)
                self._audit.append(uow, _entry(now, "member.add", member, serial=record.serial))
                uow.events.append(BROADCAST, EventKind.MEMBER_ADMITTED, _public(member), now)
                try:
                    self._write_bundle(bundle, member, issued)
                except BaseException:
                    shutil.rmtree(bundle, ignore_errors=True)
                    raise
        return Issued(member, record, bundle)

    def revoke(self, code: str, reason: str) -> Member:
        """Revoke every certificate of a member and mark it revoked; rewrite the CRL."""
        now = self._clock()
        with self._audited("member.revoke", code):
            if reason not in REVOCATION_REASONS:
                raise InvalidField(
                    "reason", f"{reason!r} is not one of {', '.join(REVOCATION_REASONS)}"
                )
            with self._store.unit_of_work() as uow:
                member = _get(uow, code)
                serials = [
                    c.serial for c in uow.certificates.for_member(code) if c.revoked_at is None
                ]
                for serial in serials:
                    uow.certificates.revoke(serial, now, reason)
                revoked = replace(member, status=MemberStatus.REVOKED)
                uow.members.update(revoked)
                publish_crl(self._ca, uow, now)
                self._audit.append(
                    uow,
                    _entry(
                        now,
                        "member.revoke",
                        revoked,
                        reason=reason,
                        certificates=",".join(map(str, serials)),
                    ),
                )
                uow.events.append(BROADCAST, EventKind.MEMBER_REVOKED, _public(revoked), now)
        return revoked

    def renew(self, code: str, bundle: Path, *, revoke_previous: bool = False) -> Issued:
        """Issue a new key and certificate for a member and write a new bundle.

        A revoked member is reinstated (the key-loss flow: revoke, then renew).
        With ``revoke_previous`` the member's other certificates are revoked as
        superseded; otherwise they stay valid until they expire, so the node can
        switch bundles without a gap.
        """
        now = self._clock()
        with self._audited("member.renew", code):
            if bundle.exists() and any(bundle.iterdir()):
                raise Conflict(f"bundle directory {bundle} exists and is not empty")
            with self._store.unit_of_work() as uow:
                member = replace(_get(uow, code), status=MemberStatus.ACTIVE)
                previous = [c for c in uow.certificates.for_member(code) if c.revoked_at is None]
                issued, record = self._issue(member, now)
                uow.members.update(member)
                uow.certificates.add(record)
                if revoke_previous:
                    for cert in previous:
                        uow.certificates.revoke(cert.serial, now, "superseded")
                    publish_crl(self._ca, uow, now)
                self._audit.append(uow, _entry(now, "member.renew", member, serial=record.serial))
                uow.events.append(
                    code,
                    EventKind.CERTIFICATE_RENEWED,
                    {"serial": str(record.serial), "not_after": record.not_after.isoformat()},
                    now,
                )
                try:
                    self._write_bundle(bundle, member, issued)
                except BaseException:
                    shutil.rmtree(bundle, ignore_errors=True)
                    raise
        return Issued(member, record, bundle)

    def set_scope(
        self,
        actor_code: str,
        agency_code: str,
        registers: frozenset[RegisterName],
        copy_enquiries_to_ncb: bool,
        *,
        officer: str | None = None,
        may_report: bool | None = None,
    ) -> Member:
        """Set which registers an agency may search (by its NCB, or the hub admin as GS)."""
        now = self._clock()
        with self._audited("member.scope", agency_code), self._store.unit_of_work() as uow:
            return apply_scope(
                uow,
                self._audit,
                actor_code,
                agency_code,
                registers,
                copy_enquiries_to_ncb,
                now,
                officer=officer,
                may_report=may_report,
            )

    def expiring(self, within: timedelta) -> list[IssuedCertificate]:
        """Valid member certificates that expire within ``within`` (for renewal reminders)."""
        now = self._clock()
        with self._store.unit_of_work() as uow:
            return [
                c
                for m in uow.members.list()
                for c in uow.certificates.for_member(m.code)
                if c.valid_at(now) and c.not_after - now <= within
            ]


def apply_scope(
    uow: UnitOfWork,
    audit: AuditLog,
    actor_code: str,
    agency_code: str,
    registers: frozenset[RegisterName],
    copy_enquiries_to_ncb: bool,
    now: datetime,
    *,
    officer: str | None = None,
    may_report: bool | None = None,
) -> Member:
    """Within ``uow``: set an agency's scope as ``actor_code``, audit it, tell the agency.

    The actor is the agency's NCB, or the hub's command line acting as the
    General Secretariat. Raises Forbidden or NotFound as
    :func:`policenet.domain.members.set_agency_scope` does.
    """
    actor = _gs_actor() if actor_code == HUB_ADMIN else _get(uow, actor_code)
    agency = _get(uow, agency_code)
    ncb = uow.members.get(agency.parent) if agency.parent else None
    changed = set_agency_scope(
        actor, agency, registers, copy_enquiries_to_ncb, ncb=ncb, may_report=may_report
    )
    uow.members.update(changed)
    entry = _entry(
        now,
        "member.scope",
        changed,
        registers=format_registers(registers),
        copy_enquiries_to_ncb=copy_enquiries_to_ncb,
        may_report=changed.may_report,
    )
    audit.append(uow, replace(entry, member=actor_code, officer=officer))
    uow.events.append(changed.code, EventKind.MEMBER_SCOPE_CHANGED, _public(changed), now)
    return changed


def _gs_actor() -> Member:
    return Member(GENERAL_SECRETARIAT_CODE, MemberKind.GENERAL_SECRETARIAT, "hub admin", None)


def _get(uow: UnitOfWork, code: str) -> Member:
    member = uow.members.get(code)
    if member is None:
        raise NotFound(f"no member with code {code!r} (see policenet member list)")
    return member


def _entry(now: datetime, action: str, member: Member, **detail: str | int | bool) -> AuditEntry:
    return AuditEntry(
        time=now,
        member=HUB_ADMIN,
        action=action,
        outcome=Outcome.OK,
        target=member.code,
        detail={"kind": member.kind.value, "country": member.country, **detail},
    )


def public_member(member: Member) -> dict[str, object]:
    """What every member may know of another: the network's directory entry."""
    return _public(member)


def _public(member: Member) -> dict[str, object]:
    return {
        "code": member.code,
        "name": member.name,
        "kind": member.kind.value,
        "country": member.country,
        "parent": member.parent,
        "status": member.status.value,
        "registers": sorted(r.value for r in member.registers),
        "copy_enquiries_to_ncb": member.copy_enquiries_to_ncb,
        "may_report": member.may_report,
    }
