"""Who may report travel documents, and how a row becomes a record (the register's rules)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from policenet.domain.envelope import Envelope, Mode
from policenet.domain.members import Member
from policenet.domain.registers import RegisterName
from policenet.errors import Forbidden
from policenet.registers.documents.codec import removal_key, to_payload
from policenet.registers.documents.countries import owning_country
from policenet.registers.documents.record import natural_key, validate

REGISTER = RegisterName.DOCUMENTS
DEFAULT_REVIEW = timedelta(days=365)
"""A record's review is due a year after it is reported unless the row says otherwise."""


class DocumentRules:
    """How travel documents are reported (:class:`policenet.hub.reporting.RegisterRules`)."""

    register = REGISTER
    noun = "document"
    default_review = DEFAULT_REVIEW
    default_mode = Mode.FULL

    def parse(self, record: Mapping[str, str], today: date) -> tuple[str, dict[str, Any]]:
        doc = validate(record, today)
        return natural_key(doc), to_payload(doc)

    def removal_key(self, record: Mapping[str, str]) -> str:
        return removal_key(dict(record))

    def may_add(self, member: Member, key: str, payload: Mapping[str, Any]) -> None:  # noqa: ARG002
        # the key names the issuing state; the payload adds nothing to the rule
        _may_report(member, key.split(":", 1)[0])

    def check_envelope(self, payload: Mapping[str, Any], envelope: Envelope) -> None:
        """Any envelope suits a record of this register."""


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
