"""The request bodies of the travel documents API, shared by the hub and the node."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

MAX_CHECK_BATCH = 10_000
"""Documents in one check, rows in one report: what a border system sends at once."""


class DocumentItem(BaseModel):
    """One document to check: a number (with state and type if known), or a pasted MRZ."""

    number: str | None = Field(None, max_length=64, description="the document number as read")
    issuing_state: str | None = Field(None, max_length=3, description="ICAO code, e.g. USA, D")
    document_type: str | None = Field(None, max_length=32, description="passport, id-card, ...")
    mrz: str | None = Field(None, max_length=200, description="the machine-readable zone")


class CheckRequest(BaseModel):
    documents: list[DocumentItem] = Field(min_length=1, max_length=MAX_CHECK_BATCH)
    tolerant: bool = Field(False, description="also report OCR confusions as possible hits")


class RecordsRequest(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_CHECK_BATCH)
    all_or_nothing: bool = Field(False, description="apply no row unless every row is good")
