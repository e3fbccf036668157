"""The request bodies of the travel documents API, shared by the hub and the node."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from policenet.errors import InvalidField
from policenet.registers.documents.codec import parse_document_type
from policenet.registers.documents.index import DocumentProbe, probe_from_mrz
from policenet.registers.documents.mrz import parse_mrz

MAX_CHECK_BATCH = 10_000
"""Documents in one check, rows in one report: what a border system sends at once."""


class DocumentItem(TypedDict, total=False):
    """One document to check: a number (with state and type if known), or a pasted MRZ.

    A typed dict, not a model: a batch holds up to 10,000 of them, and pydantic
    validates plain dicts about four times faster than it builds model instances.
    """

    number: Annotated[str | None, Field(max_length=64, description="the document number as read")]
    issuing_state: Annotated[str | None, Field(max_length=3, description="ICAO code, e.g. USA, D")]
    document_type: Annotated[str | None, Field(max_length=32, description="passport, id-card, ...")]
    mrz: Annotated[str | None, Field(max_length=200, description="the machine-readable zone")]


class CheckRequest(BaseModel):
    documents: list[DocumentItem] = Field(min_length=1, max_length=MAX_CHECK_BATCH)
    tolerant: bool = Field(False, description="also report OCR confusions as possible hits")
    answered_offline_at: datetime | None = Field(
        None, description="set by a node re-checking a hit it first found in its offline copy"
    )
    requests: int = Field(
        1,
        ge=1,
        le=MAX_CHECK_BATCH,
        description="set by a node that merged this many concurrent checks of one caller",
    )


class RecordsRequest(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_CHECK_BATCH)
    all_or_nothing: bool = Field(False, description="apply no row unless every row is good")


def probe_for(item: DocumentItem, tolerant: bool, today: date) -> DocumentProbe:
    """The index probe for one item: from its MRZ if given, else its number (and state, type).

    Raises InvalidField naming what is wrong with the item.
    """
    mrz, number = item.get("mrz"), item.get("number")
    if mrz:
        return probe_from_mrz(parse_mrz(mrz, today), tolerant=tolerant)
    if not number:
        raise InvalidField("number", "give a document number or an mrz")
    kind = item.get("document_type")
    return DocumentProbe(
        number=number,
        issuing_state=item.get("issuing_state") or None,
        document_type=parse_document_type(kind) or None if kind else None,
        tolerant=tolerant,
    )
