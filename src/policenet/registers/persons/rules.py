"""Who may report persons, and how a row becomes a record (the register's rules)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from policenet.domain.envelope import Envelope, Mode
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden, InvalidField
from policenet.registers.persons.codec import from_payload, to_payload
from policenet.registers.persons.record import check_diffusion, natural_key, validate

REGISTER = RegisterName.PERSONS


class PersonRules:
    """How persons are reported (:class:`policenet.registers.base.RegisterRules`).

    An NCB, or an agency its NCB lets report, adds notices, diffusions and
    watchlist entries of its own; they are shown in full to those who may see
    them unless a row asks for reference-only, and reviewed yearly.
    """

    register = REGISTER
    noun = "person"
    default_review = timedelta(days=365)
    default_mode = Mode.FULL

    def parse(self, record: Mapping[str, str], today: date) -> tuple[str, dict[str, Any]]:
        person = validate(record, today)
        return natural_key(person), to_payload(person)

    def removal_key(self, record: Mapping[str, str]) -> str:
        reference = str(record.get("reference") or "").strip()
        if not reference:
            raise InvalidField("reference", "a removal names the reference")
        return reference

    def may_add(self, member: Member, key: str, payload: Mapping[str, Any]) -> None:  # noqa: ARG002
        if member.reports_for_country is None:
            raise Forbidden(
                f"{member.code} may not add persons: only an NCB, or an agency its NCB "
                "lets report, adds notices"
            )

    def check_envelope(self, payload: Mapping[str, Any], envelope: Envelope) -> None:
        """A diffusion must name the countries it goes to."""
        check_diffusion(from_payload(payload), envelope)
