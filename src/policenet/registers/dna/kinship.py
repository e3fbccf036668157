"""Kinship likelihood ratios: is this profile a parent, child or sibling of that one?

Used to identify a missing person (or unidentified remains) from the profiles
of relatives. For two single-source profiles A and B the likelihood ratio at
a locus is

    LR = P(A, B | related) / P(A, B | unrelated) = k0 + k1·R1 + k2·R2,

where (k0, k1, k2) are the probabilities that the pair shares 0, 1 or 2 alleles
identical by descent: parent-child (0, 1, 0), full siblings (1/4, 1/2, 1/4),
half siblings and other second-degree relatives (1/2, 1/2, 0). R1 and R2 are
the ratios of the pair's probability when one or two alleles are shared by
descent to its probability when none is (Weir, Anderson & Hepler, Nat. Rev.
Genet. 7 (2006) 771; Buckleton, Bright & Taylor, *Forensic DNA Evidence
Interpretation*, 2nd ed., 2016). With θ = 0 they are the familiar
kinship index formulas, for example with p and q the frequencies of a and b::

    A      B      R1 = parent-child index   R2          full-sibling index
    a/a    a/a    1/p                       1/p²        (1 + p)² / (4p²)
    a/a    a/b    1/(2p)                    0           (1 + p) / (4p)
    a/b    a/b    (p + q) / (4pq)           1/(2pq)     (1 + p + q + 2pq) / (8pq)
    a/b    a/c    1/(4p)                    0           (1 + 2p) / (8p)
    a/b    c/d    0                         0           1/4

With θ > 0 each probability is computed with the Balding-Nichols sampling
formula (the allele counts seen so far raise the chance of seeing an allele
again), which gives the θ-corrected formulas of the same references.

Mutation is ignored: a parent and child who share no allele at a locus give
LR 0 there, and so 0 in all. A caller that must allow for mutation should
treat a single excluding locus as a lead to check, not as a proof.

Genotypes are tuples of alleles in tenths (``9.3 -> 93``), one allele for a
homozygote; frequencies come from :mod:`.frequencies` with its floor.
Loci typed in only one profile, or without a frequency table, are not used
and are listed with the reason; with no locus used, the LR is 1.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from policenet.errors import InvalidField
from policenet.registers.dna.frequencies import (
    AlleleFrequencies,
    allele_designation,
    default_frequencies,
    name_key,
)
from policenet.registers.dna.statistics import (
    DEFAULT_POPULATION,
    Genotype,
    GenotypeByLocus,
    SkippedLocus,
    distinct_loci,
    genotype_of,
)

Frequency = Callable[[int], float]


class Relationship(enum.StrEnum):
    """The relationship claimed between the two profiles."""

    PARENT_CHILD = "parent-child"
    FULL_SIBLINGS = "full siblings"
    HALF_SIBLINGS = "half siblings"

    @property
    def kappa(self) -> tuple[float, float, float]:
        """(k0, k1, k2): chances of sharing 0, 1, 2 alleles identical by descent."""
        return _KAPPA[self]


_KAPPA = {
    Relationship.PARENT_CHILD: (0.0, 1.0, 0.0),
    Relationship.FULL_SIBLINGS: (0.25, 0.5, 0.25),
    Relationship.HALF_SIBLINGS: (0.5, 0.5, 0.0),
}


@dataclass(frozen=True, slots=True)
class LocusKinship:
    """The kinship LR at one locus, with both genotypes (tenths, ascending)."""

    locus: str
    a: Genotype
    b: Genotype
    lr: float

    def describe(self) -> str:
        """One line for a person: ``TH01: 6/9.3 ~ 9.3/9.3: LR 4.1``."""
        shown = [
            "/".join(allele_designation(x) for x in (g if len(g) == 2 else g * 2))
            for g in (self.a, self.b)
        ]
        return f"{self.locus}: {shown[0]} ~ {shown[1]}: LR {self.lr:.4g}"


@dataclass(frozen=True, slots=True)
class KinshipResult:
    """The kinship LR over the loci both profiles have.

    ``combined`` is the product of the per-locus LRs (0 when a locus excludes,
    ``math.inf`` if it overflows); ``per_locus`` the loci used, in A's order;
    ``skipped`` the loci not used, with the reason.
    """

    relationship: Relationship
    population: str
    theta: float
    per_locus: tuple[LocusKinship, ...]
    combined: float
    skipped: tuple[SkippedLocus, ...] = ()

    @property
    def loci(self) -> tuple[str, ...]:
        return tuple(entry.locus for entry in self.per_locus)

    def explanation(self) -> tuple[str, ...]:
        """Lines for a person: the total, then each locus used, then each left out."""
        head = (
            f"{self.relationship} LR {self.combined:.3g} over {len(self.per_locus)} loci "
            f"(population {self.population}, θ={self.theta:g}, mutation not modelled)"
        )
        used = tuple(entry.describe() for entry in self.per_locus)
        left = tuple(f"{entry.locus}: not used: {entry.reason}" for entry in self.skipped)
        return (head, *used, *left)


@dataclass(frozen=True, slots=True)
class RankedRelative:
    """One candidate of :func:`rank_candidates`: its key, LR and the full result."""

    key: str
    lr: float
    result: KinshipResult


def kinship_index(
    a: Genotype,
    b: Genotype,
    kappa: tuple[float, float, float],
    frequency: Frequency,
    theta: float = 0.0,
) -> float:
    """The LR at one locus of genotypes ``a`` and ``b`` (ascending, tenths) being related.

    ``kappa`` is (k0, k1, k2); ``frequency`` gives an allele's frequency
    (already floored). Symmetric in ``a`` and ``b``. Raises InvalidField
    ("frequency") when an allele of either has frequency 0, which happens
    only when the floor has been set to 0.
    """
    for allele in (*a, *b):
        if frequency(allele) <= 0:
            raise InvalidField(
                "frequency",
                f"allele {allele_designation(allele)} has frequency 0: set a minimum frequency",
            )
    k0, k1, k2 = kappa
    if theta == 0:
        r1 = _ibd1_ratio(a, b, frequency) if k1 else 0.0
        r2 = (1 / _genotype_probability(a, frequency)) if k2 and a == b else 0.0
        return k0 + k1 * r1 + k2 * r2
    p0, p1, p2 = _ibd_probabilities(a, b, frequency, theta)
    return (k0 * p0 + k1 * p1 + k2 * p2) / p0


def kinship_lr(
    a: GenotypeByLocus,
    b: GenotypeByLocus,
    relationship: Relationship | str,
    population: str = DEFAULT_POPULATION,
    theta: float = 0.0,
    *,
    frequencies: AlleleFrequencies | None = None,
) -> KinshipResult:
    """The LR that profiles ``a`` and ``b`` have ``relationship`` rather than none.

    ``frequencies`` defaults to the shipped NIST 1036 tables (5/2N floor).
    Raises InvalidField for an unknown relationship or population, θ outside
    [0, 1), or a malformed genotype.
    """
    model = _ProbeModel(a, _relationship(relationship), population, theta, frequencies)
    return model.compare(b)


def rank_candidates(
    probe: GenotypeByLocus,
    candidates: Mapping[str, GenotypeByLocus],
    relationship: Relationship | str,
    population: str = DEFAULT_POPULATION,
    theta: float = 0.0,
    *,
    frequencies: AlleleFrequencies | None = None,
    limit: int | None = None,
) -> list[RankedRelative]:
    """``candidates`` (key -> profile) ranked by kinship LR against ``probe``, highest first.

    Ties keep the candidates' order. ``limit`` keeps only the first ``limit``
    (None: all). Raises as :func:`kinship_lr`, and InvalidField for a negative limit.
    """
    if limit is not None and limit < 0:
        raise InvalidField("limit", f"must be >= 0, not {limit}")
    model = _ProbeModel(probe, _relationship(relationship), population, theta, frequencies)
    scored = [(model.combined(profile), key) for key, profile in candidates.items()]
    order = sorted(range(len(scored)), key=lambda i: -scored[i][0])
    if limit is not None:
        order = order[:limit]
    ranked = []
    for i in order:
        key = scored[i][1]
        result = model.compare(candidates[key])
        ranked.append(RankedRelative(key, result.combined, result))
    return ranked


class _ProbeModel:
    """One profile prepared for many comparisons: genotypes checked, frequencies looked up once."""

    def __init__(
        self,
        probe: GenotypeByLocus,
        relationship: Relationship,
        population: str,
        theta: float,
        frequencies: AlleleFrequencies | None,
    ) -> None:
        if not 0 <= theta < 1:
            raise InvalidField("theta", f"must be in [0, 1), not {theta}")
        table = default_frequencies() if frequencies is None else frequencies
        table.loci(population)  # an unknown population raises here
        self.relationship = relationship
        self.kappa = relationship.kappa
        self.population = population
        self.theta = theta
        self.loci: list[tuple[str, str, Genotype, Frequency]] = []
        self.untabulated: list[str] = []
        for locus, raw in distinct_loci(probe).items():
            genotype = genotype_of(locus, raw)
            if table.has_locus(population, locus):
                floored, floor = table.locus_frequencies(population, locus)
                self.loci.append((name_key(locus), locus, genotype, _lookup(floored, floor)))
            else:
                self.untabulated.append(locus)
        self._memo: list[dict[tuple[int, ...], tuple[Genotype, float]]] = [{} for _ in self.loci]

    def _pairs(self, other: GenotypeByLocus) -> tuple[dict[str, Sequence[int]], list[str]]:
        typed = {name_key(locus): raw for locus, raw in other.items()}
        return typed, [locus for key, locus, _, _ in self.loci if key not in typed]

    def _index(self, at: int, raw: Sequence[int]) -> tuple[Genotype, float]:
        """The other genotype and the LR at the probe's ``at``-th locus, memoised.

        A locus has a few hundred genotypes in a whole database, so ranking one
        probe against many candidates computes each LR once.
        """
        memo = self._memo[at]
        found = memo.get(tuple(raw))
        if found is None:
            _, locus, genotype, frequency = self.loci[at]
            other = genotype_of(locus, raw)
            found = other, kinship_index(genotype, other, self.kappa, frequency, self.theta)
            memo[tuple(raw)] = found
        return found

    def combined(self, other: GenotypeByLocus) -> float:
        """The product of the per-locus LRs, without building the per-locus record."""
        typed, _ = self._pairs(other)
        total = 1.0
        for at, (key, _, _, _) in enumerate(self.loci):
            raw = typed.get(key)
            if raw is not None:
                total *= self._index(at, raw)[1]
        return total

    def compare(self, other: GenotypeByLocus) -> KinshipResult:
        typed, missing = self._pairs(other)
        used = []
        for at, (key, locus, genotype, _) in enumerate(self.loci):
            if key in typed:
                theirs, lr = self._index(at, typed[key])
                used.append(LocusKinship(locus, genotype, theirs, lr))
        probe_keys = {key for key, _, _, _ in self.loci} | {
            name_key(locus) for locus in self.untabulated
        }
        skipped = [SkippedLocus(locus, "not typed in the other profile") for locus in missing]
        skipped += [SkippedLocus(locus, "no allele frequencies") for locus in self.untabulated]
        skipped += [
            SkippedLocus(locus, "not typed in the first profile")
            for locus in other
            if name_key(locus) not in probe_keys
        ]
        combined = math.prod(entry.lr for entry in used)
        return KinshipResult(
            self.relationship, self.population, self.theta, tuple(used), combined, tuple(skipped)
        )


def _relationship(value: Relationship | str) -> Relationship:
    try:
        return Relationship(value)
    except ValueError:
        known = ", ".join(r.value for r in Relationship)
        raise InvalidField("relationship", f"{value!r} is not one of: {known}") from None


def _lookup(floored: Mapping[int, float], floor: float) -> Frequency:
    def frequency(allele: int) -> float:
        return floored.get(allele, floor)

    return frequency


def _genotype_probability(g: Genotype, f: Frequency) -> float:
    """Hardy-Weinberg: p² or 2pq."""
    return f(g[0]) ** 2 if len(g) == 1 else 2 * f(g[0]) * f(g[1])


def _ibd1_ratio(a: Genotype, b: Genotype, f: Frequency) -> float:
    """R1 at θ = 0: P(B | A, one allele shared by descent) / P(B).

    The shared allele is either of A's two with chance 1/2; B's other allele is
    drawn from the population.
    """
    b1, b2 = b[0], b[-1]

    def given(shared: int) -> float:
        if shared == b1:
            return f(b2)
        if shared == b2:
            return f(b1)
        return 0.0

    return (given(a[0]) + given(a[-1])) / 2 / _genotype_probability(b, f)


def _orderings(g: Genotype) -> set[tuple[int, int]]:
    return {(g[0], g[-1]), (g[-1], g[0])}


def _draw(alleles: Sequence[int], f: Frequency, theta: float) -> float:
    """The chance of drawing ``alleles`` in this order from a subpopulation (Balding-Nichols).

    The n-th allele (n from 0) is x with chance (c·θ + (1-θ)p_x) / (1 + (n-1)θ),
    c the times x was drawn before.
    """
    seen: Counter[int] = Counter()
    chance = 1.0
    for n, allele in enumerate(alleles):
        chance *= (seen[allele] * theta + (1 - theta) * f(allele)) / (1 + (n - 1) * theta)
        seen[allele] += 1
    return chance


def _ibd_probabilities(
    a: Genotype, b: Genotype, f: Frequency, theta: float
) -> tuple[float, float, float]:
    """P(A, B) given 0, 1 and 2 alleles identical by descent, over ordered allele pairs.

    Every founder allele (not shared by descent) is one draw. With one shared,
    each of the 2 x 2 pairings of an A allele with a B allele is equally likely;
    with two, both ways of pairing A's alleles with B's.
    """
    p0 = p1 = p2 = 0.0
    for x in _orderings(a):
        for y in _orderings(b):
            p0 += _draw((*x, *y), f, theta)
            for i in (0, 1):
                for j in (0, 1):
                    if x[i] == y[j]:
                        p1 += _draw((*x, y[1 - j]), f, theta) / 4
            pairings = (x[0] == y[0] and x[1] == y[1]) + (x[0] == y[1] and x[1] == y[0])
            if pairings:
                p2 += pairings * _draw(x, f, theta) / 2
    return p0, p1, p2
