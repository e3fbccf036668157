"""Who is calling: the member proven by the TLS client certificate, never a header.

The TLS layer has already checked the chain, the dates and the CRL. Here the
certificate is matched with the hub's own record of what it issued (so a
certificate the database does not know, or knows as revoked, is refused even
before a new CRL is loaded), and the member must be active. A node may name
the officer it acts for in the ``X-Policenet-Officer`` header; the audit log
records both.
"""

from __future__ import annotations

import time
from datetime import datetime

from cryptography import x509

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.members import Member
from policenet.domain.officers import validate_username
from policenet.errors import Forbidden, InvalidField, Unauthenticated
from policenet.hub.caller import Caller
from policenet.hub.context import HubContext
from policenet.security import pki

OFFICER_HEADER = "x-policenet-officer"
_CACHE_SECONDS = 2.0


class Identification:
    """Maps a verified client certificate to an active member, with a short cache."""

    def __init__(self, hub: HubContext) -> None:
        self._hub = hub
        self._cache: dict[str, tuple[float, Member]] = {}

    def identify(self, cert: x509.Certificate | None, officer_header: str | None) -> Caller:
        if cert is None:
            raise Unauthenticated("a client certificate from the policenet CA is required")
        serial = cert.serial_number
        # keyed by the whole certificate's fingerprint: another certificate with a
        # copied serial must go through the full lookup
        fingerprint = pki.fingerprint(cert)
        cached = self._cache.get(fingerprint)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            member = cached[1]
        else:
            member = self._lookup(cert)
            self._cache[fingerprint] = (time.monotonic(), member)
        officer = None
        if officer_header:
            try:
                officer = validate_username(officer_header)
            except InvalidField as exc:
                raise InvalidField("X-Policenet-Officer", exc.reason) from None
        return Caller(member=member, officer=officer, serial=serial)

    def _lookup(self, cert: x509.Certificate) -> Member:
        code = pki.member_code_of(cert)
        with self._hub.store.reading() as uow:
            issued = uow.certificates.get(cert.serial_number)
            member = uow.members.get(code)
        if issued is None or issued.member != code or issued.fingerprint != pki.fingerprint(cert):
            raise Forbidden("this certificate was not issued to a member of this hub")
        if issued.revoked_at is not None:
            raise Forbidden(f"certificate {cert.serial_number} of {code} is revoked")
        if member is None or not member.active:
            raise Forbidden(f"member {code} is not an active member")
        return member

    def refusal(self, cert: x509.Certificate | None, reason: str, path: str, now: datetime) -> None:
        """Audit a refused request (who it claimed to be, why, what it asked for)."""
        claimed: str | None = None
        if cert is not None:
            try:
                claimed = pki.member_code_of(cert)
            except InvalidField:
                claimed = None
        with self._hub.store.unit_of_work() as uow:
            self._hub.audit.append(
                uow,
                AuditEntry(
                    time=now,
                    member=claimed,
                    action="request.refused",
                    outcome=Outcome.REFUSED,
                    target=path,
                    detail={
                        "reason": reason,
                        "serial": None if cert is None else str(cert.serial_number),
                    },
                ),
            )
