"""Who may report DNA profiles, and how a row becomes a record (the register's rules)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from policenet.domain.envelope import Envelope, Mode
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden, InvalidField
from policenet.registers.dna.codec import to_payload
from policenet.registers.dna.profile import natural_key, validate

REGISTER = RegisterName.DNA


class DnaRules:
    """How DNA profiles are reported (:class:`policenet.hub.reporting.RegisterRules`).

    Any NCB (or an agency its NCB lets report) adds profiles of its own
    cases; profiles are reference-only by default.
    """

    register = REGISTER
    noun = "profile"
    default_review = timedelta(days=365)
    default_mode = Mode.REFERENCE_ONLY

    def parse(self, record: Mapping[str, str], today: object) -> tuple[str, dict[str, Any]]:  # noqa: ARG002
        profile = validate(record)
        return natural_key(profile), to_payload(profile)

    def removal_key(self, record: Mapping[str, str]) -> str:
        category, reference = record.get("category", ""), record.get("reference", "")
        if not category or not reference:
            raise InvalidField("reference", "a removal names the category and reference")
        return f"{category.strip().lower()}:{reference.strip()}"

    def may_add(self, member: Member, key: str, payload: Mapping[str, Any]) -> None:  # noqa: ARG002
        if member.reports_for_country is None:
            raise Forbidden(
                f"{member.code} may not add DNA profiles: only an NCB, or an agency its NCB "
                "lets report, adds profiles"
            )

    def check_envelope(self, payload: Mapping[str, Any], envelope: Envelope) -> None:
        """Any envelope suits a record of this register."""
