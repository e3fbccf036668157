"""What the hub remembers of each certificate it issued."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class CertificatePurpose(enum.StrEnum):
    MEMBER = "member"
    HUB_SERVER = "hub-server"


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """One certificate issued by the hub's CA.

    ``serial`` is the X.509 serial number; ``fingerprint`` the SHA-256 of the
    DER, hex. ``revoked_at`` and ``revocation_reason`` are set once it is revoked.
    """

    serial: int
    member: str
    purpose: CertificatePurpose
    fingerprint: str
    not_before: datetime
    not_after: datetime
    pem: str
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.not_before <= now < self.not_after
