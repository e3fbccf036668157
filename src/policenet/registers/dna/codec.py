"""DNA profiles as the store keeps them: the raw form that :func:`validate` reads back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policenet.registers.dna.profile import DnaProfile, validate


def to_payload(profile: DnaProfile) -> dict[str, Any]:
    """The profile as JSON-ready values: reference, category, amelogenin, mixture, one key per
    typed locus (``"9,9.3"``)."""
    payload: dict[str, Any] = {
        "reference": profile.reference,
        "category": profile.category.value,
        "amelogenin": profile.amelogenin,
        "mixture": profile.mixture,
    }
    for locus in profile.loci:
        payload[locus] = profile.describe(locus)
    return payload


def from_payload(payload: Mapping[str, Any]) -> DnaProfile:
    """The inverse of :func:`to_payload`."""
    raw = {k: v for k, v in payload.items() if v is not None}
    raw["mixture"] = bool(payload.get("mixture"))
    return validate(raw)
