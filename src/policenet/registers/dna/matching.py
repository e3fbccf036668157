"""The match rules of the DNA register, one function per rule, and which categories meet.

Two profiles are compared at the loci typed in both (:func:`compared_loci`);
a locus typed in only one of them neither helps nor hurts. Every rule needs
at least ``min_loci`` compared loci, :data:`.profile.MIN_LOCI` (6) unless
the caller asks for more (Prüm: Council Decision 2008/616/JHA, Annex,
Chapter 1, which also leaves amelogenin out of the count, as here).

Stringency, after the FBI's *National DNA Index System (NDIS) Operational
Procedures Manual* (match stringency definitions; also Butler, *Advanced
Topics in Forensic DNA Typing: Methodology*, 2012, ch. 8):

- high (:func:`high_stringency`): at every compared locus the two profiles
  have the same alleles;
- moderate (:func:`moderate_stringency`): at every compared locus all the
  alleles of one profile are among those of the other - a single-source
  profile against a mixture, or a homozygote against a heterozygote where an
  allele may have dropped out; the profiles may differ in allele counts;
- low (:func:`low_stringency`): at every compared locus they share at least
  one allele (for mixtures and for leads, never as an identification).

High implies moderate, and moderate implies low.

Match rules reported to an enquirer, after the Prüm matching rules
(Council Decision 2008/616/JHA, Annex, Chapter 1, "matching rules": a full
match when all compared allele values are the same, a near match when the
value of only one allele differs) and the ENFSI DNA Working Group's *DNA
database management review and recommendations* (2012 and later editions,
"near matches"):

- full match (:func:`full_match`): high stringency at ``min_loci`` or more
  compared loci;
- near match (:func:`near_match`): two single-source profiles, ``min_loci``
  or more compared loci, exactly one allele different at one locus (a
  homozygote ``9,9`` against ``9,10`` is one allele); kept apart from full
  matches, because a typing error, a mutation or a close relative explains it;
- moderate and low matches (:func:`stringency_match`).

:func:`best_match` gives the strongest rule that holds, in the order full,
near, moderate, low, with a person-readable explanation.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from policenet.errors import InvalidField
from policenet.registers.dna.profile import (
    KNOWN_LOCI,
    MIN_LOCI,
    Category,
    DnaProfile,
    Genotype,
    format_genotype,
)


class Stringency(enum.StrEnum):
    """How closely the alleles of each compared locus must agree (see the module docstring)."""

    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


class Rule(enum.StrEnum):
    """The rule under which two profiles matched, strongest first."""

    FULL = "full"
    NEAR = "near"
    MODERATE = "moderate"
    LOW = "low"


RULE_SCORES: dict[Rule, float] = {
    Rule.FULL: 1.0,
    Rule.NEAR: 0.9,
    Rule.MODERATE: 0.8,
    Rule.LOW: 0.5,
}
"""The candidate score of each rule: an order, not a probability (see :mod:`.statistics`)."""


class LocusRelation(enum.StrEnum):
    """How the allele sets of one compared locus relate, closest first."""

    IDENTICAL = "identical"
    INCLUDED = "included"  # one set lies within the other
    SHARED = "shared"  # some alleles in common, neither within the other
    DISJOINT = "disjoint"


_WITHIN = frozenset({LocusRelation.IDENTICAL, LocusRelation.INCLUDED})


def relation(a: Genotype, b: Genotype) -> LocusRelation:
    """How allele sets ``a`` and ``b`` (both typed) relate."""
    sa, sb = set(a), set(b)
    if sa == sb:
        return LocusRelation.IDENTICAL
    if sa <= sb or sb <= sa:
        return LocusRelation.INCLUDED
    if sa & sb:
        return LocusRelation.SHARED
    return LocusRelation.DISJOINT


def allele_differences(a: Genotype, b: Genotype) -> int:
    """How many of the two alleles of single-source genotypes differ: 0, 1 or 2.

    Genotypes are read as allele pairs (``(90,)`` is 9,9): 9,9 against 9,10
    differ by one allele, 9,9 against 10,10 by two. Sets of more than two
    alleles (mixtures) count 0 if identical, else 2: the near-match rule is
    for single-source profiles only.
    """
    if len(a) > 2 or len(b) > 2:
        return 0 if a == b else 2
    pa = a * 2 if len(a) == 1 else a
    pb = b * 2 if len(b) == 1 else b
    shared = 0
    rest = list(pb)
    for allele in pa:
        if allele in rest:
            rest.remove(allele)
            shared += 1
    return 2 - shared


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Why two profiles matched.

    ``loci_compared`` are the loci typed in both, in register order;
    ``differing`` those where the alleles are not identical (for a near match,
    the one locus with the different allele); ``explanation`` says it in
    plain words, the rule first.
    """

    rule: Rule
    loci_compared: tuple[str, ...]
    differing: tuple[str, ...]
    explanation: tuple[str, ...]

    @property
    def loci_count(self) -> int:
        return len(self.loci_compared)

    @property
    def score(self) -> float:
        return RULE_SCORES[self.rule]


def compared_loci(a: DnaProfile, b: DnaProfile) -> tuple[str, ...]:
    """The loci typed in both profiles, in :data:`.profile.KNOWN_LOCI` order."""
    return tuple(locus for locus in KNOWN_LOCI if a.loci.get(locus) and b.loci.get(locus))


def high_stringency(a: DnaProfile, b: DnaProfile) -> bool:
    """NDIS high stringency: identical alleles at every compared locus (no loci minimum)."""
    return all(a.loci[locus] == b.loci[locus] for locus in compared_loci(a, b))


def moderate_stringency(a: DnaProfile, b: DnaProfile) -> bool:
    """NDIS moderate stringency: at every compared locus the alleles of one profile are all
    among those of the other (no loci minimum)."""
    return all(relation(a.loci[locus], b.loci[locus]) in _WITHIN for locus in compared_loci(a, b))


def low_stringency(a: DnaProfile, b: DnaProfile) -> bool:
    """NDIS low stringency: at least one allele in common at every compared locus (no loci
    minimum)."""
    return all(
        relation(a.loci[locus], b.loci[locus]) != LocusRelation.DISJOINT
        for locus in compared_loci(a, b)
    )


def full_match(a: DnaProfile, b: DnaProfile, min_loci: int = MIN_LOCI) -> MatchResult | None:
    """Prüm full match: at least ``min_loci`` compared loci, all identical; else None."""
    loci = _enough(a, b, min_loci)
    if loci is None or not high_stringency(a, b):
        return None
    return _result(Rule.FULL, a, b, loci)


def near_match(a: DnaProfile, b: DnaProfile, min_loci: int = MIN_LOCI) -> MatchResult | None:
    """Prüm near match: two single-source profiles, at least ``min_loci`` compared loci, and
    exactly one allele different at exactly one of them; else None (a full match is not a
    near match)."""
    loci = _enough(a, b, min_loci)
    if loci is None or a.mixture or b.mixture:
        return None
    if sum(allele_differences(a.loci[locus], b.loci[locus]) for locus in loci) != 1:
        return None
    return _result(Rule.NEAR, a, b, loci)


def stringency_match(
    a: DnaProfile, b: DnaProfile, stringency: Stringency, min_loci: int = MIN_LOCI
) -> MatchResult | None:
    """A match at ``stringency`` with at least ``min_loci`` compared loci, named by the
    strongest stringency that holds (FULL for identical, then MODERATE, then LOW); else None."""
    loci = _enough(a, b, min_loci)
    if loci is None:
        return None
    if high_stringency(a, b):
        return _result(Rule.FULL, a, b, loci)
    if stringency is not Stringency.HIGH and moderate_stringency(a, b):
        return _result(Rule.MODERATE, a, b, loci)
    if stringency is Stringency.LOW and low_stringency(a, b):
        return _result(Rule.LOW, a, b, loci)
    return None


def best_match(
    probe: DnaProfile,
    record: DnaProfile,
    stringency: Stringency = Stringency.MODERATE,
    min_loci: int = MIN_LOCI,
    *,
    near: bool = True,
) -> MatchResult | None:
    """The strongest rule under which ``record`` matches ``probe``, or None.

    Full first, then near (if ``near``), then moderate and low as
    ``stringency`` allows. ``min_loci`` below 1 raises InvalidField.
    """
    check_min_loci(min_loci)
    found = full_match(probe, record, min_loci)
    if found is None and near:
        found = near_match(probe, record, min_loci)
    if found is None:
        found = stringency_match(probe, record, stringency, min_loci)
    return found


def check_min_loci(min_loci: int) -> None:
    if isinstance(min_loci, bool) or not isinstance(min_loci, int) or min_loci < 1:
        raise InvalidField("min_loci", f"must be a whole number >= 1, not {min_loci!r}")


def _enough(a: DnaProfile, b: DnaProfile, min_loci: int) -> tuple[str, ...] | None:
    loci = compared_loci(a, b)
    return loci if len(loci) >= max(min_loci, 1) else None


_RULE_WORDS = {
    Rule.FULL: "full match: identical alleles at all {n} loci compared",
    Rule.NEAR: "near match: one allele differs, at 1 of {n} loci compared",
    Rule.MODERATE: "moderate-stringency match at {n} loci compared: at each, the alleles of one "
    "profile are all among those of the other",
    Rule.LOW: "low-stringency match at {n} loci compared: at least one allele shared at each",
}


def _result(rule: Rule, probe: DnaProfile, record: DnaProfile, loci: Sequence[str]) -> MatchResult:
    differing = tuple(locus for locus in loci if probe.loci[locus] != record.loci[locus])
    lines = [_RULE_WORDS[rule].format(n=len(loci)), "loci compared: " + ", ".join(loci)]
    for locus in differing:
        p, r = probe.loci[locus], record.loci[locus]
        shown = (
            f"{locus}: probe {format_genotype(p, single_source=probe.single_source)}, "
            f"record {format_genotype(r, single_source=record.single_source)}"
        )
        lines.append(f"{shown} ({_why(p, r, probe, record)})")
    if probe.mixture or record.mixture:
        which = " and ".join(
            name for name, p in (("the probe", probe), ("the record", record)) if p.mixture
        )
        lines.append(f"{which} is a mixture of more than one person")
    only = [
        locus for locus in KNOWN_LOCI if bool(probe.loci.get(locus)) != bool(record.loci.get(locus))
    ]
    if only:
        lines.append("not compared (typed in one profile only): " + ", ".join(only))
    return MatchResult(rule, tuple(loci), differing, tuple(lines))


def _why(p: Genotype, r: Genotype, probe: DnaProfile, record: DnaProfile) -> str:
    kind = relation(p, r)
    if probe.single_source and record.single_source and allele_differences(p, r) == 1:
        return "one allele differs"
    if kind is LocusRelation.INCLUDED:
        return (
            "the record's alleles are all in the probe"
            if set(r) <= set(p)
            else "the probe's alleles are all in the record"
        )
    if kind is LocusRelation.SHARED:
        shared = tuple(sorted(set(p) & set(r)))
        return f"sharing {format_genotype(shared, single_source=False)} only"
    return "no allele in common"


# -- which categories are searched against which ----------------------------------------


class Comparison(enum.StrEnum):
    """How profiles of two categories are compared: by direct match, by kinship, or not."""

    DIRECT = "direct"
    KINSHIP = "kinship"
    NONE = "none"


_C = Category
_PERSONS = (_C.REFERENCE_CONVICTED, _C.REFERENCE_ARRESTEE, _C.REFERENCE_SUSPECT)
_DIRECT: frozenset[frozenset[Category]] = frozenset(
    frozenset(pair)
    for pair in (
        # A stain is searched against the people on file and against other stains (case links).
        *((_C.CRIME_SCENE_STAIN, person) for person in _PERSONS),
        (_C.CRIME_SCENE_STAIN, _C.CRIME_SCENE_STAIN),
        # One person on file under two references (aliases, another member's record).
        *((a, b) for a in _PERSONS for b in _PERSONS),
        # Remains may be the victim or the offender of a case, or a person on file.
        (_C.UNIDENTIFIED_REMAINS, _C.CRIME_SCENE_STAIN),
        *((_C.UNIDENTIFIED_REMAINS, person) for person in _PERSONS),
        # Identification: the missing person's own profile against remains; parts of one body.
        (_C.UNIDENTIFIED_REMAINS, _C.MISSING_PERSON),
        (_C.UNIDENTIFIED_REMAINS, _C.UNIDENTIFIED_REMAINS),
        # A missing person's DNA at a scene may make the case a crime with a victim.
        (_C.MISSING_PERSON, _C.CRIME_SCENE_STAIN),
        # One missing person reported by two members.
        (_C.MISSING_PERSON, _C.MISSING_PERSON),
    )
)
_KINSHIP: frozenset[frozenset[Category]] = frozenset(
    {frozenset({_C.RELATIVE_OF_MISSING_PERSON, _C.UNIDENTIFIED_REMAINS})}
)
SEARCH_TABLE_RATIONALE = """\
The table is symmetric: whichever of two profiles arrives second finds the other.
- crime-scene-stain: against references (convicted, arrestee, suspect), other stains,
  unidentified remains and missing persons (NDIS searches the forensic index against
  the offender, arrestee and forensic indexes).
- references: against stains and unidentified remains, and against each other, which
  finds one person held under two references.
- unidentified-remains: against everything but relatives directly, and against
  relatives of missing persons by kinship.
- missing-person: against unidentified remains, stains and other missing persons, but
  never against the references of convicted, arrested or suspected people: a missing
  person is searched for to be found, not investigated.
- relative-of-missing-person: by kinship against unidentified remains only, never by
  direct match and never against criminal categories: relatives give their DNA to
  identify their missing family member and for nothing else (US law: 34 U.S.C. 12592;
  the ICRC and ICMP hold humanitarian DNA data to the same purpose limitation).
"""


def comparison(probe: Category, record: Category) -> Comparison:
    """How a ``probe`` of one category is compared with a ``record`` of another (symmetric)."""
    pair = frozenset({probe, record})
    if pair in _DIRECT:
        return Comparison.DIRECT
    if pair in _KINSHIP:
        return Comparison.KINSHIP
    return Comparison.NONE


def direct_targets(probe: Category) -> frozenset[Category]:
    """The categories a probe of category ``probe`` is searched against by direct match."""
    return frozenset(c for c in Category if comparison(probe, c) is Comparison.DIRECT)


def kinship_targets(probe: Category) -> frozenset[Category]:
    """The categories a probe of category ``probe`` is compared with by kinship."""
    return frozenset(c for c in Category if comparison(probe, c) is Comparison.KINSHIP)
