"""STR allele frequencies by population and locus, with a floor for rare and unseen alleles.

Alleles are integers in tenths of a repeat, as everywhere in the DNA register:
``9.3 -> 93``, ``10 -> 100``, ``2.2 -> 22``. :func:`parse_allele` and
:func:`allele_designation` convert from and to the written designation.

The shipped tables (``data/nist1036-frequencies.json``, see ``data/PROVENANCE.md``)
come from the NIST 1036 U.S. population data set: observed frequencies
(count / 2N) for 29 autosomal loci in the populations ``all``,
``african_american``, ``caucasian``, ``hispanic`` and ``asian``.
``scripts/build_dna_frequencies.py`` computes them.

The floor. An allele seen rarely or never in a database of N people has an
observed frequency that understates how common it is, which would overstate
the weight of a match. NRC II (National Research Council, *The Evaluation of
Forensic DNA Evidence*, 1996, p. 148) recommends a minimum allele frequency of
5/2N; :class:`AlleleFrequencies` applies it by default, per population and
locus (N = people typed at that locus), so a rare allele counts as at least
5/2N and an allele not in the table counts as exactly 5/2N. A fixed floor
(for example 0.001) may be set instead.

Population and locus names are matched without regard to case, spaces,
underscores, hyphens or slashes (``"Penta D"``, ``"PENTA_D"``, ``"vWA"``,
``"VWA"``, ``"FES/FPS"``); a population may also be named by its source code
(``"AA"``, ``"Cauc"``, ``"Hisp"``, ``"Asian"``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from policenet.errors import InvalidField, InvalidInput

_PACKAGE = "policenet.registers.dna"
TABLE_RESOURCE = "nist1036-frequencies.json"
TABLE_FORMAT = "policenet-allele-frequencies/1"
DEFAULT_MINIMUM_COUNT = 5.0
"""NRC II (1996) p. 148: the minimum allele frequency is 5/2N."""

_ALLELE = re.compile(r"^(\d{1,3})(?:\.(\d))?$")
_NAME_NOISE = re.compile(r"[\s_\-/]+")
# Other spellings of loci in the tables that normalising case and separators does not catch.
_LOCUS_ALIASES = {"F13A1": "F13A01", "FES": "FESFPS"}


def parse_allele(designation: str) -> int:
    """The allele ``designation`` (``"9.3"``, ``"10"``) in tenths of a repeat (93, 100).

    Accepts a repeat number of up to three digits with at most one decimal digit
    (the partial repeat, in bases). Raises InvalidField("allele", ...) for
    anything else, off-ladder notations such as ``"<8"`` included.
    """
    found = _ALLELE.match(designation.strip())
    if found is None:
        raise InvalidField("allele", f"{designation!r} is not an STR allele such as 9.3 or 10")
    return int(found.group(1)) * 10 + int(found.group(2) or 0)


def allele_designation(allele: int) -> str:
    """The written designation of an allele in tenths: ``93 -> "9.3"``, ``100 -> "10"``."""
    whole, part = divmod(allele, 10)
    return str(whole) if part == 0 else f"{whole}.{part}"


@functools.lru_cache(maxsize=1024)
def name_key(name: str) -> str:
    """The form under which population and locus names are compared (upper case, no separators)."""
    key = _NAME_NOISE.sub("", name).upper()
    return _LOCUS_ALIASES.get(key, key)


@dataclass(frozen=True, slots=True)
class LocusFrequencies:
    """Observed allele frequencies at one locus in one population.

    ``individuals`` is N, the number of people typed at the locus; ``frequencies``
    maps alleles (tenths) to their observed frequency, count / 2N. Frequencies
    are in [0, 1] and, for a table built from counts, sum to 1.
    """

    individuals: int
    frequencies: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Population:
    name: str
    label: str
    loci: Mapping[str, tuple[str, LocusFrequencies]]  # name_key -> (locus name, table)


class AlleleFrequencies:
    """Allele frequency tables for several populations, read with a minimum frequency.

    ``tables`` maps population -> locus -> :class:`LocusFrequencies`. The floor
    is ``minimum_frequency`` when given, else ``minimum_count / 2N`` with N the
    people typed at the locus in the population (NRC II: 5/2N). Raises
    InvalidField for a negative ``minimum_count``, a ``minimum_frequency``
    outside [0, 1], or a table with N < 1 or a frequency outside [0, 1].
    """

    def __init__(
        self,
        tables: Mapping[str, Mapping[str, LocusFrequencies]],
        *,
        minimum_count: float = DEFAULT_MINIMUM_COUNT,
        minimum_frequency: float | None = None,
        labels: Mapping[str, str] | None = None,
        aliases: Mapping[str, str] | None = None,
        source: Mapping[str, str] | None = None,
    ) -> None:
        if not (math.isfinite(minimum_count) and minimum_count >= 0):
            raise InvalidField("minimum_count", f"must be a number >= 0, not {minimum_count}")
        if minimum_frequency is not None and not 0 <= minimum_frequency <= 1:
            raise InvalidField("minimum_frequency", f"must be in [0, 1], not {minimum_frequency}")
        self.minimum_count = minimum_count
        self.minimum_frequency = minimum_frequency
        self.source: Mapping[str, str] = dict(source or {})
        """Where the tables come from (file, title, licence, computed, script); may be empty."""
        self._populations: dict[str, _Population] = {}
        for population, loci in tables.items():
            checked: dict[str, tuple[str, LocusFrequencies]] = {}
            for locus, table in loci.items():
                _check_table(population, locus, table)
                checked[name_key(locus)] = (locus, table)
            label = (labels or {}).get(population, population)
            self._populations[name_key(population)] = _Population(population, label, checked)
        for alias, population in (aliases or {}).items():
            self._populations.setdefault(name_key(alias), self._population(population))

    @classmethod
    def from_document(
        cls,
        document: Mapping[str, Any],
        *,
        minimum_count: float = DEFAULT_MINIMUM_COUNT,
        minimum_frequency: float | None = None,
    ) -> AlleleFrequencies:
        """Tables from a parsed ``nist1036-frequencies.json``-shaped document, with the floor given.

        Raises
        InvalidInput when the document is not of format ``policenet-allele-frequencies/1``.
        """
        if document.get("format") != TABLE_FORMAT:
            raise InvalidInput(
                f"allele frequency table has format {document.get('format')!r}, "
                f"expected {TABLE_FORMAT!r}"
            )
        tables: dict[str, dict[str, LocusFrequencies]] = {}
        labels: dict[str, str] = {}
        aliases: dict[str, str] = {}
        for population, body in document["populations"].items():
            labels[population] = body["label"]
            if body.get("source_code"):
                aliases[body["source_code"]] = population
            tables[population] = {
                locus: LocusFrequencies(
                    individuals=int(entry["individuals"]),
                    frequencies={
                        parse_allele(allele): float(value)
                        for allele, value in entry["frequencies"].items()
                    },
                )
                for locus, entry in body["loci"].items()
            }
        source = {k: str(v) for k, v in document.get("source", {}).items()}
        source.update(computed=str(document.get("computed")), script=str(document.get("script")))
        return cls(
            tables,
            minimum_count=minimum_count,
            minimum_frequency=minimum_frequency,
            labels=labels,
            aliases=aliases,
            source=source,
        )

    @classmethod
    def nist1036(
        cls,
        *,
        minimum_count: float = DEFAULT_MINIMUM_COUNT,
        minimum_frequency: float | None = None,
    ) -> AlleleFrequencies:
        """The shipped NIST 1036 tables (package data), read with the given floor."""
        text = (resources.files(_PACKAGE) / "data" / TABLE_RESOURCE).read_text("utf-8")
        return cls.from_document(
            json.loads(text), minimum_count=minimum_count, minimum_frequency=minimum_frequency
        )

    def populations(self) -> tuple[str, ...]:
        """The population names, as the tables name them (aliases not repeated)."""
        return tuple(dict.fromkeys(p.name for p in self._populations.values()))

    def label(self, population: str) -> str:
        """A population's name for people (``"African American"``)."""
        return self._population(population).label

    def loci(self, population: str) -> tuple[str, ...]:
        """The loci tabulated for ``population``, as the tables name them."""
        return tuple(name for name, _ in self._population(population).loci.values())

    def has_locus(self, population: str, locus: str) -> bool:
        """Whether ``locus`` (any accepted spelling) is tabulated for ``population``."""
        return name_key(locus) in self._population(population).loci

    def individuals(self, population: str, locus: str) -> int:
        """N: the people typed at ``locus`` in ``population``."""
        return self._locus(population, locus).individuals

    def observed(self, population: str, locus: str, allele: int) -> float:
        """The frequency as observed (count / 2N); 0.0 for an allele not in the table."""
        return self._locus(population, locus).frequencies.get(allele, 0.0)

    def alleles(self, population: str, locus: str) -> Mapping[int, float]:
        """Every allele seen at ``locus`` in ``population`` with its observed frequency."""
        return dict(self._locus(population, locus).frequencies)

    def minimum(self, population: str, locus: str) -> float:
        """The floor at this locus: ``minimum_frequency``, else ``minimum_count / 2N``."""
        if self.minimum_frequency is not None:
            return self.minimum_frequency
        return min(1.0, self.minimum_count / (2 * self.individuals(population, locus)))

    def frequency(self, population: str, locus: str, allele: int) -> float:
        """The frequency to compute with: the observed one, raised to the floor.

        An allele not in the table (never seen) gets the floor itself. Raises
        InvalidField naming ``population`` or ``locus`` when either is not tabulated.
        """
        return max(self.observed(population, locus, allele), self.minimum(population, locus))

    def locus_frequencies(self, population: str, locus: str) -> tuple[dict[int, float], float]:
        """All floored frequencies at a locus and the floor for unseen alleles, for fast loops."""
        floor = self.minimum(population, locus)
        table = self._locus(population, locus).frequencies
        return {allele: max(value, floor) for allele, value in table.items()}, floor

    def _population(self, population: str) -> _Population:
        found = self._populations.get(name_key(population))
        if found is None:
            known = ", ".join(self.populations())
            raise InvalidField("population", f"no allele frequencies for {population!r} ({known})")
        return found

    def _locus(self, population: str, locus: str) -> LocusFrequencies:
        found = self._population(population)
        entry = found.loci.get(name_key(locus))
        if entry is None:
            raise InvalidField("locus", f"no allele frequencies for {locus!r} in {found.name}")
        return entry[1]


def _check_table(population: str, locus: str, table: LocusFrequencies) -> None:
    if table.individuals < 1:
        raise InvalidField("individuals", f"{population} {locus}: N must be >= 1")
    for allele, value in table.frequencies.items():
        if not 0 <= value <= 1:
            raise InvalidField(
                "frequency", f"{population} {locus} allele {allele_designation(allele)}: {value}"
            )


@functools.cache
def default_frequencies() -> AlleleFrequencies:
    """The shipped NIST 1036 tables with the NRC II 5/2N floor, read once per process."""
    return AlleleFrequencies.nist1036()
