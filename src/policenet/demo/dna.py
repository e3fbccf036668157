"""Made-up DNA profiles for the demo, drawn from the shipped allele frequencies.

No real person's profile is used: each allele is drawn at random (seeded)
with the frequency the NIST 1036 tables give it, at the 20 CODIS core loci.
"""

from __future__ import annotations

import random
from typing import Any

from policenet.registers.dna.frequencies import allele_designation, default_frequencies
from policenet.registers.dna.profile import CODIS_CORE_LOCI as CODIS_CORE


def draw_person(rng: random.Random) -> dict[str, tuple[int, int]]:
    """Two alleles per CODIS core locus, each drawn by its frequency."""
    table = default_frequencies()
    person = {}
    for locus in CODIS_CORE:
        alleles = sorted(table.alleles("all", locus))
        weights = [table.frequency("all", locus, a) for a in alleles]
        first, second = rng.choices(alleles, weights, k=2)
        person[locus] = (first, second)
    return person


def as_row(reference: str, category: str, loci: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A profile row as the DNA register reads it."""
    row: dict[str, Any] = {"reference": reference, "category": category, **extra}
    for locus, alleles in loci.items():
        row[locus] = ",".join(allele_designation(a) for a in sorted(set(alleles)) or alleles)
    return row


def reference_and_stain(seed: int = 1036) -> tuple[dict[str, Any], dict[str, Any]]:
    """A convicted person's reference profile, and a two-person stain that contains it."""
    rng = random.Random(seed)
    suspect, other = draw_person(rng), draw_person(rng)
    reference = as_row("US-CODIS-2026-004417", "reference-convicted", suspect, amelogenin="XY")
    stain_loci = {locus: (*suspect[locus], *other[locus]) for locus in CODIS_CORE}
    stain = as_row("FR-LYON-2026-0931-S2", "crime-scene-stain", stain_loci, mixture=True)
    return reference, stain
