"""The request bodies of the persons API, shared by the hub and the node."""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_SCREENING = 1_000
"""Names in one screening batch (a passenger list)."""


class PersonQueryBody(BaseModel):
    name: str = Field(description="the name as written, in any script", max_length=2000)
    date_of_birth: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    nationality: str | None = Field(None, description="ISO 3166-1 alpha-2")
    sex: str | None = Field(None, description="M, F or X")


class SearchRequest(PersonQueryBody):
    limit: int = Field(10, ge=1, le=100, description="most hits returned")


class ScreenRequest(BaseModel):
    persons: list[PersonQueryBody] = Field(min_length=1, max_length=MAX_SCREENING)
    limit: int = Field(3, ge=1, le=20, description="most hits returned per name")
