"""Person records as the store keeps them (JSON payloads) and as loads and exports write them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policenet.registers.persons.record import (
    ROW_FIELDS,
    BirthDate,
    NoticeKind,
    NoticeStatus,
    Person,
    PersonName,
    Sex,
)

__all__ = ["ROW_FIELDS", "from_payload", "to_payload", "to_row"]


def to_payload(person: Person) -> dict[str, Any]:
    """The record as JSON-ready values (what the hub stores and a full hit shows)."""
    return {
        "reference": person.reference,
        "kind": person.kind.value,
        "status": person.status.value,
        "names": [
            {
                "text": n.text,
                "given": n.given,
                "surname": n.surname,
                "patronymic": n.patronymic,
                "alias": n.alias,
            }
            for n in person.names
        ],
        "dates_of_birth": [str(d) for d in person.dates_of_birth],
        "place_of_birth": person.place_of_birth,
        "nationalities": list(person.nationalities),
        "sex": person.sex.value if person.sex else None,
        "documents": list(person.documents),
        "charges": person.charges,
        "authority": person.authority,
        "list_name": person.list_name,
        "remarks": person.remarks,
    }


def _birth(text: str) -> BirthDate:
    parts = [int(p) for p in text.split("-")]
    return BirthDate(*parts)


def from_payload(payload: Mapping[str, Any]) -> Person:
    """The inverse of :func:`to_payload` (the payload was validated when it was stored)."""
    return Person(
        reference=payload["reference"],
        kind=NoticeKind(payload["kind"]),
        status=NoticeStatus(payload.get("status", "active")),
        names=tuple(
            PersonName(
                n["text"],
                n.get("given", ""),
                n.get("surname", ""),
                n.get("patronymic", ""),
                bool(n.get("alias")),
            )
            for n in payload.get("names", ())
        ),
        dates_of_birth=tuple(_birth(d) for d in payload.get("dates_of_birth", ())),
        place_of_birth=payload.get("place_of_birth", ""),
        nationalities=tuple(payload.get("nationalities", ())),
        sex=Sex(payload["sex"]) if payload.get("sex") else None,
        documents=tuple(payload.get("documents", ())),
        charges=payload.get("charges", ""),
        authority=payload.get("authority", ""),
        list_name=payload.get("list_name", ""),
        remarks=payload.get("remarks", ""),
    )


def to_row(payload: Mapping[str, Any]) -> dict[str, str]:
    """A stored payload as a load row (lists joined with ``;``): an export loads back unchanged."""
    names = payload.get("names", [])
    main = next((n for n in names if not n.get("alias")), None)
    return {
        "reference": payload["reference"],
        "kind": payload["kind"],
        "status": payload.get("status", "active"),
        "name": main["text"] if main else "",
        "given_names": main.get("given", "") if main else "",
        "surname": main.get("surname", "") if main else "",
        "patronymic": main.get("patronymic", "") if main else "",
        "aliases": ";".join(n["text"] for n in names if n.get("alias")),
        "dates_of_birth": ";".join(payload.get("dates_of_birth", [])),
        "place_of_birth": payload.get("place_of_birth", ""),
        "nationalities": ";".join(payload.get("nationalities", [])),
        "sex": payload.get("sex") or "",
        "documents": ";".join(payload.get("documents", [])),
        "charges": payload.get("charges", ""),
        "authority": payload.get("authority", ""),
        "list_name": payload.get("list_name", ""),
        "remarks": payload.get("remarks", ""),
    }
