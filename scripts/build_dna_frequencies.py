"""Compute the STR allele frequency tables that policenet ships, from the NIST 1036 data set.

Reads the NIST 1036 U.S. population genotypes (one row per person, one column per
autosomal STR locus, each cell ``"a,b"``, empty when the locus was not typed) and
writes ``src/policenet/registers/dna/data/nist1036-frequencies.json`` and its
``PROVENANCE.md``: for every population group and for all 1,036 people together,
for every locus, the allele counts and frequencies (count / 2N, where N is the
number of people typed at that locus), N itself, the source file and its licence,
the date computed and this script's name.

No minimum allele frequency is applied here: the tables hold what was observed;
:mod:`policenet.registers.dna.frequencies` applies the floor when it is read.

Usage (from the project root)::

    .venv/bin/python scripts/build_dna_frequencies.py \\
        [--source ../shared/data/dna/nist1036_genotypes.csv] [--output-dir DIR] [--date YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT / ".." / "shared" / "data" / "dna" / "nist1036_genotypes.csv"
DEFAULT_OUTPUT_DIR = ROOT / "src" / "policenet" / "registers" / "dna" / "data"
TABLE_NAME = "nist1036-frequencies.json"
PROVENANCE_NAME = "PROVENANCE.md"
SCRIPT_NAME = "scripts/build_dna_frequencies.py"
FORMAT = "policenet-allele-frequencies/1"

SOURCE = {
    "title": "NIST 1036 U.S. population data set (revised 2017), 29 autosomal STR loci",
    "description": (
        "Genotypes of 1,036 unrelated U.S. individuals (342 African American, "
        "361 Caucasian, 236 Hispanic, 97 Asian) typed at 29 autosomal STR loci "
        "by the U.S. National Institute of Standards and Technology (NIST), "
        "published on STRBase; converted to CSV from the NIST workbook nist1036.xlsx."
    ),
    "reference": (
        "Hill, C.R., Duewer, D.L., Kline, M.C., Coble, M.D., Butler, J.M. (2013) "
        "U.S. population data for 29 autosomal STR loci. "
        "Forensic Sci. Int. Genet. 7: e82-e83."
    ),
    "publisher": "National Institute of Standards and Technology (NIST), STRBase",
    "licence": "Public domain: a work of the U.S. Government (NIST), 17 U.S.C. 105.",
}

# Source population codes (the CSV's ``population`` column) -> (table id, label).
POPULATIONS = {
    "AA": ("african_american", "African American"),
    "Cauc": ("caucasian", "Caucasian"),
    "Hisp": ("hispanic", "Hispanic"),
    "Asian": ("asian", "Asian"),
}
ALL = ("all", "All 1,036 individuals together")

ALLELE = re.compile(r"^(\d{1,3})(?:\.(\d))?$")


def canonical_allele(text: str) -> str:
    """The allele designation written the one way (``"9.3"``, ``"10"``; ``"10.0"`` -> ``"10"``).

    Raises ValueError for anything that is not a repeat number with at most one
    decimal digit (off-ladder notations such as ``"<8"`` are not in this data set).
    """
    found = ALLELE.match(text.strip())
    if found is None:
        raise ValueError(f"not an STR allele designation: {text!r}")
    whole, part = found.group(1), found.group(2)
    if part is None or part == "0":
        return str(int(whole))
    return f"{int(whole)}.{part}"


def allele_sort_key(designation: str) -> tuple[int, int]:
    whole, _, part = designation.partition(".")
    return int(whole), int(part or 0)


def locus_name(header: str) -> str:
    """The usual forensic name of a locus from the CSV header (``Penta_D`` -> ``Penta D``)."""
    return header.strip().replace("_", " ")


def read_genotypes(source: Path) -> tuple[list[str], list[tuple[str, dict[str, list[str]]]]]:
    """Loci (CSV order) and, per person, (population code, locus -> two alleles)."""
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "population" not in reader.fieldnames:
            raise ValueError(f"{source}: no header with a 'population' column")
        loci = [name for name in reader.fieldnames if name not in ("sample", "population")]
        people: list[tuple[str, dict[str, list[str]]]] = []
        for line, row in enumerate(reader, start=2):
            code = row["population"].strip()
            if code not in POPULATIONS:
                raise ValueError(f"{source}:{line}: unknown population {code!r}")
            typed: dict[str, list[str]] = {}
            for locus in loci:
                cell = (row[locus] or "").strip()
                if not cell:
                    continue
                alleles = [canonical_allele(part) for part in cell.split(",")]
                if len(alleles) != 2:
                    raise ValueError(f"{source}:{line}: {locus} has {cell!r}, expected 'a,b'")
                typed[locus_name(locus)] = alleles
            people.append((code, typed))
    return [locus_name(locus) for locus in loci], people


def locus_table(loci: list[str], people: Iterable[dict[str, list[str]]]) -> dict[str, Any]:
    """Per locus: N typed, allele counts and frequencies (count / 2N), alleles in order."""
    counts: dict[str, Counter[str]] = {locus: Counter() for locus in loci}
    typed: Counter[str] = Counter()
    for person in people:
        for locus, alleles in person.items():
            counts[locus].update(alleles)
            typed[locus] += 1
    table: dict[str, Any] = {}
    for locus in loci:
        n = typed[locus]
        ordered = sorted(counts[locus], key=allele_sort_key)
        table[locus] = {
            "individuals": n,
            "counts": {allele: counts[locus][allele] for allele in ordered},
            "frequencies": {allele: counts[locus][allele] / (2 * n) for allele in ordered},
        }
    return table


def build(source: Path, computed: dt.date) -> dict[str, Any]:
    """The whole JSON document for ``source``, dated ``computed``."""
    loci, people = read_genotypes(source)
    populations: dict[str, Any] = {}
    groups: list[tuple[str, str, str | None, list[dict[str, list[str]]]]] = [
        (ALL[0], ALL[1], None, [typed for _, typed in people])
    ]
    for code, (ident, label) in POPULATIONS.items():
        groups.append((ident, label, code, [typed for c, typed in people if c == code]))
    for ident, label, code, members in groups:
        populations[ident] = {
            "label": label,
            "source_code": code,
            "individuals": len(members),
            "loci": locus_table(loci, members),
        }
    return {
        "format": FORMAT,
        "source": {"file": source.name, **SOURCE},
        "computed": computed.isoformat(),
        "script": SCRIPT_NAME,
        "method": (
            "frequency = allele count / 2N, N = individuals typed at the locus in the "
            "population; observed values only, no minimum allele frequency applied"
        ),
        "populations": populations,
    }


def provenance(document: Mapping[str, Any]) -> str:
    """PROVENANCE.md: the same facts as the JSON header, in prose."""
    source = document["source"]
    loci = ", ".join(next(iter(document["populations"].values()))["loci"])
    paragraphs = [
        f"`{TABLE_NAME}` holds STR allele frequencies computed from the {source['title']} "
        f"(source file `{source['file']}`). {source['description']}",
        f"Reference: {source['reference']} Publisher: {source['publisher']}.",
        f"Licence of the source data: {source['licence']} The tables here are derived "
        "from it; the raw genotypes are not part of this package.",
        f"Computed on {document['computed']} by `{document['script']}`, which anyone can "
        "rerun against the source file to get the same tables.",
        f"For each population below and each of the {loci.count(',') + 1} loci ({loci}): "
        "the number N of individuals typed at the locus, the count of each allele among "
        "their 2N alleles, and its frequency, count / 2N. Alleles are written as repeat "
        "numbers, microvariants with one decimal digit (`9.3`). Only observed values are "
        "stored: no minimum allele frequency is applied here; "
        "`policenet.registers.dna.frequencies` applies one when the tables are read "
        "(by default 5/2N, NRC II 1996, p. 148).",
    ]
    rows = [
        f"| `{ident}` | {pop['label']} | {pop['source_code'] or '(every row)'} "
        f"| {pop['individuals']:,} |"
        for ident, pop in document["populations"].items()
    ]
    text = ["# Provenance of the DNA allele frequency tables", ""]
    for paragraph in paragraphs:
        text += [textwrap.fill(paragraph, width=88, break_on_hyphens=False), ""]
    text += ["| table id | population | source code | individuals |", "|---|---|---|---|"]
    return "\n".join([*text, *rows]) + "\n"


def write(document: Mapping[str, Any], output_dir: Path) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    table = output_dir / TABLE_NAME
    table.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    prose = output_dir / PROVENANCE_NAME
    prose.write_text(provenance(document), encoding="utf-8")
    return table, prose


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="the date to record as computed (default: today, UTC)",
    )
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"source not found: {args.source}", file=sys.stderr)
        return 1
    table, prose = write(build(args.source, args.date), args.output_dir)
    print(f"wrote {table} and {prose}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
