"""The weight of a DNA match: random match probability, likelihood ratio, mixture inclusion.

Genotypes are tuples of alleles in tenths of a repeat (``9.3 -> 93``): two
alleles, or one for a homozygote (``(110,)`` is the same as ``(110, 110)``).
A profile is a mapping locus -> genotype; a mixture is a mapping locus -> the
set of alleles seen in the stain.

Single source (:func:`random_match_probability`). At each locus, the
probability that a random person from the same subpopulation shares the
genotype, given that one person is known to have it, is the Balding-Nichols
conditional match probability of NRC II (1996) equations 4.10a and 4.10b,
which NRC II Recommendation 4.2 prescribes when the subpopulation is not
known::

    homozygote a/a:    [2θ + (1-θ)p][3θ + (1-θ)p] / [(1+θ)(1+2θ)]
    heterozygote a/b:  2[θ + (1-θ)p][θ + (1-θ)q] / [(1+θ)(1+2θ)]

θ (theta, F_ST) is 0.01 by default, the value NRC II Recommendation 4.1 gives
for the U.S. population (0.03 for small, isolated populations); θ = 0 gives
the plain product rule, p² and 2pq. The profile's random match probability
(RMP) is the product over the loci compared (NRC II Recommendation 4.1), and
the likelihood ratio of a single-source full match is LR = 1 / RMP.

Mixture (:func:`combined_probability_of_inclusion`). For a single-source
reference against a mixed stain, each locus where every reference allele is
among the stain's alleles contributes the probability of inclusion
PI = (p₁ + ... + pₖ)², the chance that a random person has no allele outside
the stain's k alleles (random man not excluded). CPI is the product, and
LR = 1 / CPI. It is a conservative screening statistic, not a mixture
interpretation: it uses no peak heights, assumes no allele has dropped out,
and ignores the reference's genotype beyond its inclusion. Loci where the
reference has an allele the stain lacks are left out and listed (SWGDAM 2017:
CPI cannot be used at loci where drop-out is possible). Loci are paired by
name as :mod:`.frequencies` compares them (``"Penta D"`` = ``"PENTA_D"``).

Frequencies come from :mod:`.frequencies` with its floor (NRC II 5/2N). A
locus that has no frequency table (Amelogenin, a Y-STR) is not used and is
listed with the reason; with no locus used, the result is RMP = 1, LR = 1.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from policenet.errors import InvalidField
from policenet.registers.dna.frequencies import (
    AlleleFrequencies,
    allele_designation,
    default_frequencies,
    name_key,
)

Genotype = tuple[int, ...]
"""One or two alleles in tenths of a repeat; one allele means a homozygote."""
GenotypeByLocus = Mapping[str, Sequence[int]]
"""A profile: locus name -> genotype."""

DEFAULT_THETA = 0.01
DEFAULT_POPULATION = "all"

RMP = "random match probability"
CPI = "combined probability of inclusion"


@dataclass(frozen=True, slots=True)
class LocusStatistic:
    """The value of one locus.

    ``alleles`` are the genotype's alleles (for CPI: the stain's), ascending;
    ``frequencies`` the frequency used for each, in the same order (floored);
    ``probability`` the genotype match probability (or PI) at this locus;
    ``formula`` names the formula used.
    """

    locus: str
    alleles: tuple[int, ...]
    frequencies: tuple[float, ...]
    probability: float
    formula: str

    def describe(self) -> str:
        """One line for a person: locus, alleles with frequencies, value."""
        shown = ", ".join(
            f"{allele_designation(a)} (p={p:.4g})"
            for a, p in zip(self.alleles, self.frequencies, strict=True)
        )
        return f"{self.locus}: {shown}: {self.formula} = {self.probability:.4g}"


@dataclass(frozen=True, slots=True)
class SkippedLocus:
    """A locus of the input that the statistic did not use, and why."""

    locus: str
    reason: str


@dataclass(frozen=True, slots=True)
class StatisticResult:
    """A statistic over the loci compared.

    ``combined`` is the product of the per-locus probabilities (RMP or CPI);
    ``lr`` = 1 / ``combined`` (``math.inf`` if ``combined`` underflows to 0).
    ``per_locus`` lists the loci used in the input's order; ``skipped`` the
    loci not used, each with its reason.
    """

    method: str
    population: str
    theta: float
    per_locus: tuple[LocusStatistic, ...]
    combined: float
    lr: float
    skipped: tuple[SkippedLocus, ...] = ()

    @property
    def loci(self) -> tuple[str, ...]:
        """The loci used."""
        return tuple(entry.locus for entry in self.per_locus)

    @property
    def log10_lr(self) -> float:
        """log10 of the LR, summed per locus so that it stays finite when the LR overflows."""
        if any(entry.probability == 0 for entry in self.per_locus):
            return math.inf
        return -math.fsum(math.log10(entry.probability) for entry in self.per_locus)

    def explanation(self) -> tuple[str, ...]:
        """Lines for a person: the total first, then each locus used, then each left out."""
        head = (
            f"{self.method} {self.combined:.3g} over {len(self.per_locus)} loci "
            f"(population {self.population}, θ={self.theta:g}); LR {self.lr:.3g}"
        )
        used = tuple(entry.describe() for entry in self.per_locus)
        left = tuple(f"{entry.locus}: not used: {entry.reason}" for entry in self.skipped)
        return (head, *used, *left)


def homozygote_match_probability(p: float, theta: float = DEFAULT_THETA) -> float:
    """NRC II eq. 4.10a: [2θ+(1-θ)p][3θ+(1-θ)p] / [(1+θ)(1+2θ)]; p² when θ = 0."""
    return ((2 * theta + (1 - theta) * p) * (3 * theta + (1 - theta) * p)) / (
        (1 + theta) * (1 + 2 * theta)
    )


def heterozygote_match_probability(p: float, q: float, theta: float = DEFAULT_THETA) -> float:
    """NRC II eq. 4.10b: 2[θ+(1-θ)p][θ+(1-θ)q] / [(1+θ)(1+2θ)]; 2pq when θ = 0."""
    return (2 * (theta + (1 - theta) * p) * (theta + (1 - theta) * q)) / (
        (1 + theta) * (1 + 2 * theta)
    )


def probability_of_inclusion(frequencies: Collection[float]) -> float:
    """PI at one locus of a mixture: (sum of its alleles' frequencies)², capped at 1.

    The cap matters only when floored frequencies of many rare alleles add up past 1.
    """
    return min(1.0, math.fsum(frequencies)) ** 2


def random_match_probability(
    genotype_by_locus: GenotypeByLocus,
    population: str = DEFAULT_POPULATION,
    theta: float = DEFAULT_THETA,
    *,
    frequencies: AlleleFrequencies | None = None,
) -> StatisticResult:
    """RMP and LR of a single-source full match on ``genotype_by_locus``.

    ``frequencies`` defaults to the shipped NIST 1036 tables with the 5/2N floor.
    Raises InvalidField for θ outside [0, 1), an unknown population, or a
    genotype that is not one or two positive alleles.
    """
    table = default_frequencies() if frequencies is None else frequencies
    _check_theta(theta)
    table.loci(population)  # an unknown population is the caller's error, not a skipped locus
    used: list[LocusStatistic] = []
    skipped: list[SkippedLocus] = []
    for locus, raw in distinct_loci(genotype_by_locus).items():
        genotype = genotype_of(locus, raw)
        if not table.has_locus(population, locus):
            skipped.append(SkippedLocus(locus, "no allele frequencies for this locus"))
            continue
        freqs = tuple(table.frequency(population, locus, allele) for allele in genotype)
        if len(genotype) == 1:
            value = homozygote_match_probability(freqs[0], theta)
            formula = "homozygote, NRC II 4.10a"
        else:
            value = heterozygote_match_probability(freqs[0], freqs[1], theta)
            formula = "heterozygote, NRC II 4.10b"
        used.append(LocusStatistic(locus, genotype, freqs, value, formula))
    return _result(RMP, population, theta, used, skipped)


def combined_probability_of_inclusion(
    reference: GenotypeByLocus,
    mixture: Mapping[str, Collection[int]],
    population: str = DEFAULT_POPULATION,
    *,
    frequencies: AlleleFrequencies | None = None,
) -> StatisticResult:
    """CPI and LR = 1/CPI of a single-source ``reference`` included in a ``mixture``.

    Uses each locus typed in both where the stain has alleles and holds every
    reference allele; lists the others in ``skipped``. θ is not applied
    (``theta`` of the result is 0). Raises InvalidField for an unknown
    population or a malformed genotype or allele.
    """
    table = default_frequencies() if frequencies is None else frequencies
    table.loci(population)
    used: list[LocusStatistic] = []
    skipped: list[SkippedLocus] = []
    stains = {name_key(locus): alleles for locus, alleles in mixture.items()}
    for locus, raw in distinct_loci(reference).items():
        genotype = genotype_of(locus, raw)
        stain = stains.get(name_key(locus))
        if stain is None:
            skipped.append(SkippedLocus(locus, "not typed in the mixture"))
            continue
        seen = tuple(sorted(set(stain)))
        for allele in seen:
            _check_allele(f"mixture[{locus}]", allele)
        missing = [allele_designation(a) for a in genotype if a not in seen]
        if not seen:
            skipped.append(SkippedLocus(locus, "no alleles seen in the mixture"))
        elif missing:
            skipped.append(
                SkippedLocus(
                    locus,
                    f"reference allele {', '.join(missing)} not in the mixture: excluded "
                    "unless it dropped out, and CPI cannot allow for drop-out",
                )
            )
        elif not table.has_locus(population, locus):
            skipped.append(SkippedLocus(locus, "no allele frequencies for this locus"))
        else:
            freqs = tuple(table.frequency(population, locus, allele) for allele in seen)
            used.append(
                LocusStatistic(locus, seen, freqs, probability_of_inclusion(freqs), "PI = (Σp)²")
            )
    compared = {name_key(locus) for locus in reference}
    for locus in mixture:
        if name_key(locus) not in compared:
            skipped.append(SkippedLocus(locus, "not typed in the reference"))
    return _result(CPI, population, 0.0, used, skipped)


def genotype_of(locus: str, alleles: Sequence[int]) -> Genotype:
    """``alleles`` as a genotype: ascending, one allele for a homozygote.

    Raises InvalidField("genotype[<locus>]", ...) unless there are one or two
    alleles, each a positive integer (tenths of a repeat).
    """
    name = f"genotype[{locus}]"
    if not 1 <= len(alleles) <= 2:
        raise InvalidField(name, f"has {len(alleles)} alleles; expected one or two")
    for allele in alleles:
        _check_allele(name, allele)
    return tuple(sorted(set(alleles)))


def distinct_loci(profile: GenotypeByLocus) -> GenotypeByLocus:
    """``profile`` itself, once checked that no locus appears under two spellings.

    Raises InvalidField("locus", ...) naming both (``"vWA"`` and ``"VWA"``), which
    would otherwise be counted twice.
    """
    seen: dict[str, str] = {}
    for locus in profile:
        other = seen.setdefault(name_key(locus), locus)
        if other != locus:
            raise InvalidField("locus", f"{other!r} and {locus!r} are the same locus")
    return profile


def _check_allele(name: str, allele: object) -> None:
    if isinstance(allele, bool) or not isinstance(allele, int) or allele <= 0:
        raise InvalidField(name, f"allele {allele!r} is not a positive integer in tenths")


def _check_theta(theta: float) -> None:
    if not 0 <= theta < 1:
        raise InvalidField("theta", f"must be in [0, 1), not {theta}")


def _result(
    method: str,
    population: str,
    theta: float,
    used: list[LocusStatistic],
    skipped: list[SkippedLocus],
) -> StatisticResult:
    combined = math.prod(entry.probability for entry in used)
    lr = 1 / combined if combined > 0 else math.inf
    return StatisticResult(method, population, theta, tuple(used), combined, lr, tuple(skipped))
