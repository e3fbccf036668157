"""Travel documents as the store keeps them: a JSON payload and the natural key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from policenet.errors import InvalidField
from policenet.registers.documents.countries import validate_issuing_state
from policenet.registers.documents.record import (
    DocumentStatus,
    DocumentType,
    TravelDocument,
    normalise_number,
)


def to_payload(doc: TravelDocument) -> dict[str, Any]:
    """The record as JSON-ready values (dates ISO, absent values None)."""
    return {
        "issuing_state": doc.issuing_state,
        "document_type": doc.document_type.value,
        # the normalised number, so that one document written two ways is one record unchanged
        "number": doc.normalised_number,
        "status": doc.status.value,
        "issue_date": _iso(doc.issue_date),
        "expiry_date": _iso(doc.expiry_date),
        "reported_date": _iso(doc.reported_date),
        "reference": doc.reference,
        "remarks": doc.remarks,
    }


def from_payload(payload: Mapping[str, Any]) -> TravelDocument:
    """The inverse of :func:`to_payload`, for payloads the store wrote (not re-validated)."""
    return TravelDocument(
        issuing_state=str(payload["issuing_state"]),
        document_type=DocumentType(payload["document_type"]),
        number=str(payload["number"]),
        status=DocumentStatus(payload["status"]),
        issue_date=_day(payload.get("issue_date")),
        expiry_date=_day(payload.get("expiry_date")),
        reported_date=_day(payload.get("reported_date")),
        reference=str(payload.get("reference") or ""),
        remarks=str(payload.get("remarks") or ""),
    )


def key_parts(key: str) -> tuple[str, DocumentType, str]:
    """``(issuing_state, document_type, normalised_number)`` of a natural key."""
    try:
        state, kind, number = key.split(":")
        return state, DocumentType(kind), number
    except ValueError:
        raise InvalidField("key", f"{key!r} is not a travel document key") from None


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(value: object) -> date | None:
    return None if not value else date.fromisoformat(str(value))


def parse_document_type(text: str) -> DocumentType | None:
    text = text.strip().lower().replace("_", "-")
    if not text:
        return None
    try:
        return DocumentType(text)
    except ValueError:
        known = ", ".join(t.value for t in DocumentType)
        raise InvalidField("document_type", f"{text!r} is not one of {known}") from None


def removal_key(record: dict[str, str]) -> str:
    """The key of the document a ``remove`` row names (state, type and number are enough)."""
    state = validate_issuing_state(record.get("issuing_state", ""), "issuing_state")
    kind = parse_document_type(record.get("document_type", ""))
    if kind is None:
        raise InvalidField("document_type", "required to name the document to remove")
    return f"{state}:{kind.value}:{normalise_number(record.get('number', ''))}"
