"""DNA index benchmark: moderate-stringency searches over synthetic CODIS profiles.

Usage (from the repository root)::

    .venv/bin/python -m bench.dna --records 1000000

Stored profiles are ``reference-convicted`` references, each with two alleles
at every one of the 20 CODIS core loci, drawn independently (Hardy-Weinberg)
from the NIST 1036 ``all`` population frequencies shipped with policenet
(normalised: the table's 5/2N floor makes them sum a little above 1). The
same ``--seed`` always gives the same profiles. References are ``US-`` and
ten digits (13 bytes), which counts in the memory per profile.

Probes are crime-scene stains, searched against the references: half are a
single stored person's profile, half mix two stored persons (up to four
alleles a locus). The filter is the moderate-stringency rule with at least 6
compared loci: at every locus typed in both, one allele set lies within the
other. Three searchers run it in the same process and on the same data:

- ours: ``DnaIndex.search`` (``near=False``, the same filter; and the default
  ``near=True``, which also screens for near matches);
- numpy: a plain vectorised brute force over an N x 40 ``uint16`` allele
  matrix (0 = untyped), one boolean lookup table of the probe's alleles per
  locus, every row and every locus, no early exit;
- PostgreSQL: the same rows, 40 ``smallint`` columns loaded with COPY, the
  same filter as one SQL WHERE clause; timed with sequential scans only, and
  again after a B-tree index on (a1, a2) of each locus (planner's choice).

Every searcher's answer is checked against the others (the same stored rows
for each probe); a mismatch is reported in the JSON and printed, never
hidden. Writes ``bench/results/dna-<records>.json``. Measures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from bench.environment import environment
from bench.postgres import scratch_database
from policenet.registers.dna.frequencies import default_frequencies
from policenet.registers.dna.index import DnaIndex
from policenet.registers.dna.matching import Stringency
from policenet.registers.dna.profile import CODIS_CORE_LOCI, Category, DnaProfile, Genotype

RESULTS = Path(__file__).resolve().parent / "results"
DNA_PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "jit",
    "max_parallel_workers_per_gather",
    "effective_cache_size",
)
"""The PostgreSQL settings that bear on a sequential scan of the profiles."""
PG_SESSION = {"jit": "off", "maintenance_work_mem": "1GB"}
"""Favour the peer: no JIT compile time on each query; index builds sort in memory."""
CHUNK = 65_536
MIN_LOCI = 6
POPULATION = "all"
GOALS = {
    "search_ms_at_1m": 50.0,
    "search_ms_at_10m": 500.0,
    "index_bytes_per_20_locus_profile": 64,
}

Matrix = npt.NDArray[np.uint16]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- synthetic profiles -------------------------------------------------------------


def draw_alleles(records: int, seed: int) -> Matrix:
    """N x 40 alleles in tenths: columns 2l, 2l+1 are locus l's pair, smaller first."""
    table = default_frequencies()
    rng = np.random.default_rng(seed)
    matrix = np.empty((records, 2 * len(CODIS_CORE_LOCI)), dtype=np.uint16)
    for li, locus in enumerate(CODIS_CORE_LOCI):
        alleles = np.array(sorted(table.alleles(POPULATION, locus)), dtype=np.uint16)
        weights = np.array([table.frequency(POPULATION, locus, int(a)) for a in alleles])
        pair = rng.choice(alleles, size=(records, 2), p=weights / weights.sum())
        pair.sort(axis=1)
        matrix[:, 2 * li : 2 * li + 2] = pair
    return matrix


def reference(row: int) -> str:
    return f"US-{row:010d}"


def genotype(a: int, b: int) -> Genotype:
    return (a,) if a == b else (a, b)


def profiles(matrix: Matrix) -> Iterator[tuple[str, DnaProfile]]:
    """(key, profile) for each row, built a chunk at a time so only a chunk is ever in memory."""
    category = Category.REFERENCE_CONVICTED
    for start in range(0, len(matrix), CHUNK):
        block = matrix[start : start + CHUNK].tolist()
        for offset, alleles in enumerate(block):
            loci = {
                locus: genotype(alleles[2 * li], alleles[2 * li + 1])
                for li, locus in enumerate(CODIS_CORE_LOCI)
            }
            ref = reference(start + offset)
            yield f"{category.value}:{ref}", DnaProfile(ref, category, loci)


def make_probes(matrix: Matrix, count: int, seed: int) -> list[tuple[DnaProfile, list[int]]]:
    """Stains and the stored rows they come from: even ones single source, odd ones two people."""
    rng = np.random.default_rng(seed + 1)
    rows = rng.choice(len(matrix), size=2 * count, replace=False).tolist()
    probes: list[tuple[DnaProfile, list[int]]] = []
    for i in range(count):
        people = [rows[2 * i]] if i % 2 == 0 else [rows[2 * i], rows[2 * i + 1]]
        loci: dict[str, Genotype] = {}
        for li, locus in enumerate(CODIS_CORE_LOCI):
            alleles = {int(matrix[p, 2 * li + k]) for p in people for k in (0, 1)}
            loci[locus] = tuple(sorted(alleles))
        mixture = len(people) > 1
        stain = DnaProfile(f"STAIN-{i:04d}", Category.CRIME_SCENE_STAIN, loci, None, mixture)
        probes.append((stain, people))
    return probes


# -- peer 1: numpy brute force --------------------------------------------------------


def brute_force(matrix: Matrix, probe: DnaProfile, min_loci: int = MIN_LOCI) -> npt.NDArray[Any]:
    """Rows matching ``probe`` at moderate stringency with >= ``min_loci`` compared loci."""
    ok = np.ones(len(matrix), dtype=np.bool_)
    compared = np.zeros(len(matrix), dtype=np.uint8)
    for li, locus in enumerate(CODIS_CORE_LOCI):
        asked = probe.loci.get(locus, ())
        if not asked:
            continue
        first, second = matrix[:, 2 * li], matrix[:, 2 * li + 1]
        inside = np.zeros(1000, dtype=np.bool_)  # alleles go up to 99.9 repeats = 999 tenths
        inside[list(asked)] = True
        inside[0] = True  # untyped passes
        # stored within probe: both stored alleles are in the probe's set
        fits = inside.take(first) & inside.take(second)
        if len(asked) == 1:
            # probe within stored: a homozygous probe allele the stored pair holds
            fits |= (first == asked[0]) | (second == asked[0])
        ok &= fits
        compared += first != 0
    return np.flatnonzero(ok & (compared >= min_loci))


# -- peer 2: PostgreSQL ------------------------------------------------------------------


def columns() -> list[str]:
    return [f"{locus.lower()}_{k}" for locus in CODIS_CORE_LOCI for k in (1, 2)]


def pg_load(conn: psycopg.Connection[Any], matrix: Matrix) -> float:
    cols = columns()
    conn.execute(
        "CREATE TABLE profiles (id integer NOT NULL, "
        + ", ".join(f"{c} smallint" for c in cols)
        + ")"
    )
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(f"COPY profiles (id, {', '.join(cols)}) FROM STDIN") as cp:
        for start in range(0, len(matrix), CHUNK):
            block = matrix[start : start + CHUNK]
            ids = np.arange(start, start + len(block))
            lines = [
                "\t".join(map(str, (i, *row)))
                for i, row in zip(ids.tolist(), block.tolist(), strict=True)
            ]
            cp.write(("\n".join(lines) + "\n").encode())
    conn.execute("VACUUM ANALYZE profiles")
    return time.perf_counter() - started


def pg_query(probe: DnaProfile) -> tuple[str, list[Any]]:
    """The moderate filter as SQL, NULL meaning untyped, with its parameters."""
    where: list[str] = []
    counted: list[str] = []
    params: list[Any] = []
    for locus in CODIS_CORE_LOCI:
        asked = list(probe.loci.get(locus, ()))
        if not asked:
            continue
        a, b = f"{locus.lower()}_1", f"{locus.lower()}_2"
        homozygote = asked[0] if len(asked) == 1 else None
        where.append(
            f"({a} IS NULL OR ({a} = ANY(%s::smallint[]) AND {b} = ANY(%s::smallint[]))"
            f" OR {a} = %s::smallint OR {b} = %s::smallint)"
        )
        params += [asked, asked, homozygote, homozygote]
        counted.append(f"({a} IS NOT NULL)::int")
    sql = (
        "SELECT id FROM profiles WHERE "
        + " AND ".join(where)
        + f" AND ({' + '.join(counted)}) >= {MIN_LOCI}"
    )
    return sql, params


def pg_time(
    conn: psycopg.Connection[Any], probes: Sequence[DnaProfile]
) -> tuple[list[float], list[list[int]], str]:
    times: list[float] = []
    found: list[list[int]] = []
    sql, params = pg_query(probes[0])
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
    for probe in probes:
        sql, params = pg_query(probe)
        started = time.perf_counter()
        rows = conn.execute(sql, params, prepare=False).fetchall()
        times.append(time.perf_counter() - started)
        found.append(sorted(r[0] for r in rows))
    return times, found, plan


# -- timing helpers ----------------------------------------------------------------


def summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(p95, 3),
        "min_ms": round(ms[0], 3),
        "max_ms": round(ms[-1], 3),
        "n": len(ms),
    }


def split(seconds: Sequence[float]) -> dict[str, dict[str, float]]:
    return {
        "all": summary(seconds),
        "single_source": summary(seconds[0::2]),
        "two_person_mixture": summary(seconds[1::2]),
    }


def timed(
    search: Callable[[DnaProfile], list[int]], probes: Sequence[DnaProfile]
) -> tuple[list[float], list[list[int]]]:
    search(probes[0])  # warm-up
    times: list[float] = []
    found: list[list[int]] = []
    for probe in probes:
        started = time.perf_counter()
        rows = search(probe)
        times.append(time.perf_counter() - started)
        found.append(sorted(rows))
    return times, found


def ours(index: DnaIndex, near: bool) -> Callable[[DnaProfile], list[int]]:
    def search(probe: DnaProfile) -> list[int]:
        hits = index.matches(probe, 1000, stringency=Stringency.MODERATE, near=near)
        return [int(c.key.rsplit("-", 1)[1]) for c in hits]

    return search


# -- the run ---------------------------------------------------------------------------


def retained_by_index(matrix: Matrix) -> int:
    """Bytes a DnaIndex of ``matrix``'s rows keeps allocated (tracemalloc, which sees numpy
    buffers and the Python objects of the allele-set tables), measured in a separate build."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = DnaIndex()
    index.add_many(profiles(matrix))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del index
    return after - before


def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.records
    say(f"drawing {n:,} profiles (seed {args.seed})")
    started = time.perf_counter()
    matrix = draw_alleles(n, args.seed)
    draw_s = time.perf_counter() - started
    probes = make_probes(matrix, args.probes, args.seed)
    stains = [p for p, _ in probes]
    result: dict[str, Any] = {
        "benchmark": "dna",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.dna " + " ".join(sys.argv[1:]),
        "parameters": {
            "records": n,
            "seed": args.seed,
            "probes": args.probes,
            "pg_probes": args.pg_probes,
            "loci": list(CODIS_CORE_LOCI),
            "population": POPULATION,
            "stored_category": Category.REFERENCE_CONVICTED.value,
            "probe_category": Category.CRIME_SCENE_STAIN.value,
            "reference_bytes": len(reference(0)),
            "stringency": "moderate",
            "min_loci": MIN_LOCI,
        },
        "goals": GOALS,
        "draw_seconds": round(draw_s, 2),
    }

    gc.collect()
    rss_before = rss_bytes()
    say("loading DnaIndex")
    started = time.perf_counter()
    index = DnaIndex()
    index.add_many(profiles(matrix))
    load_s = time.perf_counter() - started
    gc.collect()
    rss_after = rss_bytes()
    trimmed = rss_after
    with contextlib.suppress(OSError, AttributeError):
        # glibc keeps freed small blocks (the chunks' Python objects); give them back
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        trimmed = rss_bytes()
    breakdown = index.memory_breakdown()
    result["ours_load"] = {
        "seconds": round(load_s, 2),
        "profiles_per_second": round(n / load_s),
        "memory_bytes": index.memory_bytes(),
        "memory_bytes_per_profile": round(index.memory_bytes() / n, 2),
        "breakdown_bytes_per_profile": {k: round(v / n, 2) for k, v in breakdown.items()},
        "rss_growth_bytes_per_profile": round((rss_after - rss_before) / n, 2),
        "rss_growth_after_malloc_trim_bytes_per_profile": round((trimmed - rss_before) / n, 2),
        "rss_note": "RSS after load minus before, after gc; includes allocator slack",
    }
    say(f"loaded in {load_s:.1f} s, {index.memory_bytes() / n:.1f} B/profile")
    if args.tracemalloc:
        sample = matrix[: min(n, args.tracemalloc)]
        say(f"tracemalloc: rebuilding {len(sample):,} profiles")
        retained = retained_by_index(sample)
        result["ours_load"]["tracemalloc_sample_profiles"] = len(sample)
        result["ours_load"]["tracemalloc_bytes_per_profile"] = round(retained / len(sample), 2)

    say(f"searching {len(stains)} probes (ours, numpy)")
    ours_times, ours_found = timed(ours(index, near=False), stains)
    near_times, near_found = timed(ours(index, near=True), stains)
    np_times, np_found = timed(lambda p: brute_force(matrix, p).tolist(), stains)
    expected = [sorted(rows) for _, rows in probes]
    result["ours"] = {"near_false": split(ours_times), "near_true_default": split(near_times)}
    result["numpy"] = {
        **split(np_times),
        "matrix_bytes_per_profile": matrix.nbytes / n,
        "note": "N x 40 uint16, every row and locus scanned per probe",
    }
    result["agreement"] = {
        "ours_equals_numpy": ours_found == np_found,
        "ours_near_hits_superset": all(
            set(a) <= set(b) for a, b in zip(ours_found, near_found, strict=True)
        ),
        "every_contributor_found": all(
            set(e) <= set(f) for e, f in zip(expected, ours_found, strict=True)
        ),
        "hits_per_probe_max": max(len(f) for f in ours_found),
        "adventitious_hits_total": sum(
            len(set(f) - set(e)) for e, f in zip(expected, ours_found, strict=True)
        ),
    }
    index_bytes = index.memory_bytes()
    del index
    gc.collect()

    conn_env: dict[str, Any] | None = None
    if args.postgres:
        pg_stains = stains[: args.pg_probes]
        with scratch_database(say) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
            for name, value in PG_SESSION.items():
                conn.execute(f"SET {name} = '{value}'")
            conn_env = environment(conn, DNA_PG_SETTINGS)
            say("PostgreSQL: COPY")
            load = pg_load(conn, matrix)
            size = conn.execute("SELECT pg_total_relation_size('profiles')").fetchone()[0]  # type: ignore[index]
            say(f"PostgreSQL: loaded in {load:.1f} s; searching (sequential scan)")
            conn.execute(pg_query(pg_stains[0])[0], pg_query(pg_stains[0])[1])  # warm cache
            seq_times, seq_found, seq_plan = pg_time(conn, pg_stains)
            pg: dict[str, Any] = {
                "load_seconds_copy_and_analyze": round(load, 2),
                "table_bytes_per_profile": round(size / n, 2),
                "seqscan": {**split(seq_times), "plan": seq_plan},
                "agrees_with_ours": seq_found == ours_found[: len(pg_stains)],
            }
            if args.pg_indexes:
                say("PostgreSQL: building 20 B-tree indexes")
                started = time.perf_counter()
                for locus in CODIS_CORE_LOCI:
                    a, b = f"{locus.lower()}_1", f"{locus.lower()}_2"
                    conn.execute(f"CREATE INDEX ON profiles ({a}, {b})")
                conn.execute("ANALYZE profiles")
                built = time.perf_counter() - started
                size_ix = conn.execute("SELECT pg_total_relation_size('profiles')").fetchone()[0]  # type: ignore[index]
                idx_times, idx_found, idx_plan = pg_time(conn, pg_stains)
                pg["indexed"] = {
                    **split(idx_times),
                    "plan": idx_plan,
                    "index_build_seconds": round(built, 2),
                    "table_and_indexes_bytes_per_profile": round(size_ix / n, 2),
                    "agrees_with_ours": idx_found == ours_found[: len(pg_stains)],
                }
            result["postgresql"] = pg
    result["environment"] = environment(None) if conn_env is None else conn_env
    result["index_memory_bytes"] = index_bytes
    return result


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "-"


def print_table(result: dict[str, Any]) -> None:
    n = result["parameters"]["records"]
    ours = result["ours"]["near_false"]["all"]
    rows: list[tuple[str, dict[str, float], str]] = [
        ("ours, DnaIndex (near=False)", ours, "1"),
        ("ours, DnaIndex (near=True, default)", result["ours"]["near_true_default"]["all"], ""),
        ("numpy brute force, N x 40 uint16", result["numpy"]["all"], ""),
    ]
    pg = result.get("postgresql")
    if pg:
        rows.append(("PostgreSQL, sequential scan", pg["seqscan"]["all"], ""))
        if "indexed" in pg:
            rows.append(("PostgreSQL, 20 B-tree indexes", pg["indexed"]["all"], ""))
    print(f"\nModerate-stringency search, {n:,} profiles")
    print(f"{'searcher':40} {'median ms':>10} {'p95 ms':>10} {'ours/peer':>10}")
    for name, s, _ in rows:
        print(
            f"{name:40} {s['median_ms']:10.2f} {s['p95_ms']:10.2f} "
            f"{ratio(ours['median_ms'], s['median_ms']):>10}"
        )
    load = result["ours_load"]
    print(
        f"\nindex: {load['memory_bytes_per_profile']} B/profile (memory_bytes), "
        f"RSS growth {load['rss_growth_bytes_per_profile']} B/profile, "
        f"tracemalloc {load.get('tracemalloc_bytes_per_profile', '-')} B/profile; "
        f"numpy matrix {result['numpy']['matrix_bytes_per_profile']} B/profile"
        + (f"; PostgreSQL table {pg['table_bytes_per_profile']} B/profile" if pg else "")
    )
    print(
        f"load: ours {load['seconds']} s"
        + (f", PostgreSQL COPY {pg['load_seconds_copy_and_analyze']} s" if pg else "")
    )
    print(
        f"agreement: {result['agreement']}"
        + (f", PostgreSQL agrees: {pg['agrees_with_ours']}" if pg else "")
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dna", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1036)
    parser.add_argument("--probes", type=int, default=50, help="probes for ours and numpy")
    parser.add_argument("--pg-probes", type=int, default=20, help="probes for PostgreSQL")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--no-pg-indexes", dest="pg_indexes", action="store_false")
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=200_000,
        help="profiles rebuilt under tracemalloc (0: skip)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args)
    print_table(result)
    path = args.out / f"dna-{args.records}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    say(f"wrote {path}")


if __name__ == "__main__":
    main()
