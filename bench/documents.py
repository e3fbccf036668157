"""Travel documents register benchmarks, side by side with PostgreSQL (the named peer).

Two benchmarks, each writing a JSON result and printing a short table:

``index`` (``bench/results/documents-<N>.json``), in one process:

- lookups per second at N records: our :class:`DocumentIndex` (one probe per
  ``search`` call, and ``search_many`` of 10,000 probes) against PostgreSQL 15
  holding the same records with a B-tree index on the number (one prepared
  ``SELECT ... WHERE number = $1`` per lookup over TCP loopback, and one query
  per 10,000 numbers: ``= ANY(array)`` and a join against ``unnest``);
  half the probes are numbers that were loaded, half are not; medians over
  several repetitions after a warm-up;
- memory: the index's own count (:meth:`DocumentIndex.memory_bytes`), what
  tracemalloc sees while building it, and the RSS delta; extrapolated to
  10^8 records; PostgreSQL's table and index sizes on disk;
- load time: ``add_keys`` from a file of natural keys against ``COPY`` of the
  CSV plus ``CREATE INDEX``.

``tunnel`` (``bench/results/documents-tunnel.json``): a real hub and five
nodes (:class:`policenet.demo.network.DemoNetwork`, TLS 1.3, client
certificates, SQLite), M documents stored at the hub, and checks sent by a
Metropolitan Police officer to the Met's node, which forwards them through
its tunnel: batches of 10,000 (documents/s) and single checks from 50
concurrent clients (p50/p99 latency); and, before the processes start, the
hub's ``DocumentRegister.check`` called in this process, to tell the hub's
enquiry logic from the layers around it. PostgreSQL answers the same lookups
with no network hop, no TLS, no audit and no access decisions: the
comparison says what the whole enquiry path costs over a bare lookup.

Run from the repository root: ``.venv/bin/python -m bench.documents index
--records 1000000`` (see bench/README.md). Measurements only: nothing here
asserts a goal.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg

from bench.environment import environment
from bench.postgres import scratch_database
from bench.synthetic_documents import CSV_COLUMNS, SyntheticRegister, write_files
from policenet.demo.network import DemoNetwork
from policenet.domain.envelope import Envelope
from policenet.hub.app import create_hub
from policenet.hub.caller import Caller
from policenet.registers.documents.codec import to_payload
from policenet.registers.documents.index import DocumentIndex, DocumentProbe
from policenet.registers.documents.record import natural_key
from policenet.security.passwords import totp_now
from policenet.settings import save
from policenet.store.database import open_store
from policenet.store.ports import RecordPut

RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 10_000
EXTRAPOLATE_TO = 100_000_000
BORDER_PRESENT = 0.001
"""Share of reported numbers in the "border" cases: about one document in a thousand."""
TRACEMALLOC_UP_TO = 20_000_000
"""Above this many records the build under tracemalloc (several times slower) is left out."""
TUNNEL_OWNERS = {"USA": "ncb-us", "GBR": "ncb-gb", "FRA": "ncb-fr"}
"""The demo network's NCBs, and the issuing states whose documents they may own."""
TUNNEL_STATES = tuple(TUNNEL_OWNERS)

TABLE_SQL = """
CREATE TABLE documents (
    issuing_state text NOT NULL,
    document_type text NOT NULL,
    number text NOT NULL,
    status text NOT NULL,
    issue_date date,
    expiry_date date,
    reported_date date,
    reference text NOT NULL
)"""
PG_SESSION = {"maintenance_work_mem": "1GB", "jit": "off"}
"""Session settings that favour the peer: index builds sort in memory; no JIT
compilation on short lookup queries (PostgreSQL's default JIT costs time there)."""
PG_SINGLE = "SELECT issuing_state, document_type, number FROM documents WHERE number = %s"
PG_BATCHED = {
    "any": "SELECT issuing_state, document_type, number FROM documents WHERE number = ANY(%s)",
    "unnest": (
        "SELECT p.i, d.issuing_state, d.document_type, d.number "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS p(number, i) "
        "JOIN documents d ON d.number = p.number"
    ),
}


def command_line() -> str:
    """The command that made a result, without the folders of this machine (``--out``,
    ``--workdir``), which do not change what is measured."""
    words: list[str] = []
    skip = False
    for word in sys.argv[1:]:
        if skip:
            skip = False
        elif word in ("--out", "--workdir"):
            skip = True
        elif not word.startswith(("--out=", "--workdir=")):
            words.append(word)
    return " ".join(["python -m bench.documents", *words])


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def every(step: int, what: str, total: int) -> Callable[[int], None]:
    """A progress callback printing a line each time ``step`` more items are done."""
    mark = [0]

    def progress(done: int) -> None:
        if done - mark[0] >= step or done == total:
            mark[0] = done
            say(f"{what}: {done:,} of {total:,}")

    return progress


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def pg_load(conn: psycopg.Connection[Any], csv_path: Path, total: int) -> dict[str, float]:
    """(Re)create the table, COPY the CSV in, index the number, analyse; seconds per step."""
    conn.execute("DROP TABLE IF EXISTS documents")
    conn.execute(TABLE_SQL)
    progress = every(max(total // 5, 1), "PostgreSQL COPY (approx. rows)", total)
    size, sent = csv_path.stat().st_size, 0
    started = time.perf_counter()
    columns = ", ".join(CSV_COLUMNS)
    with (
        csv_path.open("rb") as source,
        conn.cursor().copy(
            f"COPY documents ({columns}) FROM STDIN (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        while data := source.read(1 << 20):
            copy.write(data)
            sent += len(data)
            progress(min(total, round(total * sent / size)))
    copied = time.perf_counter()
    conn.execute("CREATE INDEX documents_number ON documents (number)")
    indexed = time.perf_counter()
    conn.execute("VACUUM ANALYZE documents")
    analysed = time.perf_counter()
    return {
        "copy_s": copied - started,
        "create_index_s": indexed - copied,
        "load_s": indexed - started,
        "vacuum_analyze_s": analysed - indexed,
    }


def keys_from(path: Path, total: int) -> Iterator[str]:
    progress = every(max(total // 5, 1), "index add_keys", total)
    with path.open(encoding="ascii") as lines:
        for done, line in enumerate(lines, start=1):
            yield line[:-1]
            if done % 100_000 == 0 or done == total:
                progress(done)


def build_index(keys_path: Path, total: int) -> tuple[DocumentIndex, float]:
    """An index of every key in the file, and the seconds it took: one ``add_keys`` call
    over a stream of keys, as :meth:`DocumentRegister.load` builds it from the store."""
    index = DocumentIndex()
    keys = keys_from(keys_path, total)
    started = time.perf_counter()
    index.add_keys(keys)
    return index, time.perf_counter() - started


def median_of(runs: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(runs), "runs": [round(r, 1) for r in runs]}


# --- lookups --------------------------------------------------------------------------


def ours_single(index: DocumentIndex, probes: Sequence[DocumentProbe]) -> tuple[float, int]:
    search, hits = index.search, 0
    started = time.perf_counter()
    for probe in probes:
        hits += len(search(probe))
    return len(probes) / (time.perf_counter() - started), hits


def ours_batched(index: DocumentIndex, probes: Sequence[DocumentProbe]) -> tuple[float, int]:
    hits = 0
    started = time.perf_counter()
    for at in range(0, len(probes), BATCH):
        hits += sum(map(len, index.search_many(probes[at : at + BATCH])))
    return len(probes) / (time.perf_counter() - started), hits


def pg_single(conn: psycopg.Connection[Any], numbers: Sequence[str]) -> tuple[float, int]:
    cursor, hits = conn.cursor(), 0
    started = time.perf_counter()
    for number in numbers:
        cursor.execute(PG_SINGLE, (number,), prepare=True)
        hits += len(cursor.fetchall())
    return len(numbers) / (time.perf_counter() - started), hits


def pg_batched(
    conn: psycopg.Connection[Any], numbers: Sequence[str], query: str, seqscan: bool = True
) -> tuple[float, int]:
    """One query per batch; ``seqscan`` False forbids sequential scans (planner hint)."""
    cursor, hits = conn.cursor(), 0
    if not seqscan:
        conn.execute("SET enable_seqscan = off")
    started = time.perf_counter()
    for at in range(0, len(numbers), BATCH):
        cursor.execute(query, (list(numbers[at : at + BATCH]),), prepare=True)
        hits += len(cursor.fetchall())
    rate = len(numbers) / (time.perf_counter() - started)
    if not seqscan:
        conn.execute("SET enable_seqscan = on")
    return rate, hits


def explain(
    conn: psycopg.Connection[Any], query: str, numbers: list[str], seqscan: bool = True
) -> list[str]:
    """The plan PostgreSQL picks for one batch (lines cut to 160 characters)."""
    conn.execute(f"SET enable_seqscan = {'on' if seqscan else 'off'}")
    rows = conn.execute(f"EXPLAIN {query}", (numbers,)).fetchall()
    conn.execute("SET enable_seqscan = on")
    return [str(row[0])[:160] for row in rows]


def measure_lookups(
    index: DocumentIndex,
    conn: psycopg.Connection[Any],
    register: SyntheticRegister,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Lookups/s of each case over several repetitions (the first a warm-up), and ratios.

    Every case gets fresh probes in every repetition, so no side answers from
    caches that the same probes warmed before (CPU caches for ours, shared
    buffers for PostgreSQL). PostgreSQL's batched query has three forms
    (``= ANY``, a join against ``unnest``, and that join with sequential scans
    forbidden); the ratio is taken against the fastest. The ``no_hits`` cases
    (only absent numbers) show the cost of a probe without the cost of a hit;
    the ``border`` cases have one number in a thousand present, as at a border.
    Whether both sides find the same hits is checked apart, on one probe set.
    """
    single_n, batched_n = args.single_probes, args.batches * BATCH
    forms = {
        "any": (PG_BATCHED["any"], True),
        "unnest": (PG_BATCHED["unnest"], True),
        "unnest_no_seqscan": (PG_BATCHED["unnest"], False),
    }

    def ours(run: Callable[..., tuple[float, int]]) -> Callable[[list[str]], tuple[float, int]]:
        def measure(numbers: list[str]) -> tuple[float, int]:
            return run(index, [DocumentProbe(number) for number in numbers])  # not timed

        return measure

    # name -> (share of present numbers, probes, measurement)
    cases: dict[str, tuple[float, int, Callable[[list[str]], tuple[float, int]]]] = {
        "ours_single": (args.present, single_n, ours(ours_single)),
        "ours_batched": (args.present, batched_n, ours(ours_batched)),
        "postgresql_single": (args.present, single_n, lambda n: pg_single(conn, n)),
        **{
            f"postgresql_batched_{name}": (
                args.present,
                batched_n,
                lambda n, form=form: pg_batched(conn, n, *form),
            )
            for name, form in forms.items()
        },
        "ours_batched_no_hits": (0.0, batched_n, ours(ours_batched)),
        "ours_batched_border": (BORDER_PRESENT, batched_n, ours(ours_batched)),
        "postgresql_batched_unnest_border": (
            BORDER_PRESENT,
            batched_n,
            lambda n: pg_batched(conn, n, PG_BATCHED["unnest"]),
        ),
        "postgresql_batched_unnest_no_hits": (
            0.0,
            batched_n,
            lambda n: pg_batched(conn, n, PG_BATCHED["unnest"]),
        ),
    }
    rates: dict[str, list[float]] = {name: [] for name in cases}
    for repetition in range(args.repeats + 1):  # the first is a warm-up
        for number, (name, (present, count, measure)) in enumerate(cases.items()):
            seed = args.seed + 1000 * (repetition + 1) + number
            rate, _ = measure([n for _, n, _ in register.probes(count, present, seed)])
            if repetition:
                rates[name].append(rate)
        say(
            f"lookups repetition {repetition or 'warm-up'}: "
            + ", ".join(f"{name} {rates[name][-1] if repetition else 0:,.0f}/s" for name in cases)
        )
    numbers = [n for _, n, _ in register.probes(batched_n, args.present, args.seed + 1)]
    hits = {
        "ours_single": ours(ours_single)(numbers[:single_n])[1],
        "postgresql_single": pg_single(conn, numbers[:single_n])[1],
        "ours_batched": ours(ours_batched)(numbers)[1],
        **{
            f"postgresql_batched_{name}": pg_batched(conn, numbers, *form)[1]
            for name, form in forms.items()
        },
    }
    result: dict[str, Any] = {name: median_of(runs) for name, runs in rates.items()}
    pg_best = max(
        (f"postgresql_batched_{name}" for name in forms),
        key=lambda name: result[name]["median"],
    )
    result["ratio_single_ours_over_postgresql"] = (
        result["ours_single"]["median"] / result["postgresql_single"]["median"]
    )
    result["ratio_batched_ours_over_postgresql"] = (
        result["ours_batched"]["median"] / result[pg_best]["median"]
    )
    result["postgresql_batched_best"] = pg_best
    result["hits_on_one_probe_set"] = hits
    result["hits_agree"] = (
        hits["ours_single"] == hits["postgresql_single"]
        and hits["ours_batched"] == hits["postgresql_batched_unnest"]
        and hits["ours_batched"] == hits["postgresql_batched_unnest_no_seqscan"]
    )
    result["postgresql_plans"] = {
        name: explain(conn, query, numbers[:BATCH], seqscan)
        for name, (query, seqscan) in forms.items()
    }
    return result


# --- index benchmark ------------------------------------------------------------------


def run_index(args: argparse.Namespace) -> dict[str, Any]:
    total = args.records
    work = Path(tempfile.mkdtemp(prefix="policenet-bench-", dir=args.workdir))
    try:
        csv_path, keys_path = work / "documents.csv", work / "keys.txt"
        say(f"generating {total:,} synthetic records in {work}")
        register = SyntheticRegister(args.seed)
        started = time.perf_counter()
        write_files(register, total, csv_path, keys_path, every(1_000_000, "generated", total))
        generation = {
            "seconds": time.perf_counter() - started,
            "csv_bytes": csv_path.stat().st_size,
            "issuing_states": len({s.state for s in register.streams if s.count}),
        }
        load_repeats = args.load_repeats or (3 if total <= 2_000_000 else 1)

        # (b) memory and (c) load time of our index: the first build in a fresh process
        # gives the RSS delta; tracemalloc (which slows allocation) gets a build of its own.
        gc.collect()
        rss_before = rss_bytes()
        index, first_load = build_index(keys_path, total)
        gc.collect()
        rss_delta = rss_bytes() - rss_before
        # the high-water mark of this process: the first build is its largest moment so far
        rss_peak_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
        memory_bytes, records = index.memory_bytes(), len(index)
        ours_loads = [first_load]
        for _ in range(load_repeats - 1):
            del index
            gc.collect()
            index, seconds = build_index(keys_path, total)
            ours_loads.append(seconds)
        traced_load: float | None = None
        traced = traced_peak = None
        if total <= TRACEMALLOC_UP_TO:
            del index
            gc.collect()
            say("building the index once more under tracemalloc")
            tracemalloc.start()
            index, traced_load = build_index(keys_path, total)
            traced, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

        with scratch_database(say) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
            env = environment(conn)
            for setting, value in PG_SESSION.items():
                conn.execute(f"SET {setting} = '{value}'")
            pg_loads = []
            for repetition in range(load_repeats):
                say(f"PostgreSQL load {repetition + 1} of {load_repeats}")
                pg_loads.append(pg_load(conn, csv_path, total))
            sizes = conn.execute(
                "SELECT pg_total_relation_size('documents'), pg_relation_size('documents'), "
                "pg_relation_size('documents_number'), count(*) FROM documents"
            ).fetchone()
            assert sizes is not None
            say("measuring lookups")
            # as the hub does once its indexes are built (policenet.hub.app): the garbage
            # collector leaves the objects alive now alone; see docs/benchmarks.md
            gc.collect()
            gc.freeze()
            lookups = measure_lookups(index, conn, register, args)
            gc.unfreeze()
            # with the directory a batch builds at its first search (not there after the build)
            searched_bytes = index.memory_bytes()
        per_record = {
            "memory_bytes_method": memory_bytes / records,
            "rss_delta": rss_delta / records,
            "rss_peak_delta_while_loading": rss_peak_delta / records,
        }
        if traced is not None and traced_peak is not None:
            per_record["tracemalloc_current"] = traced / records
            per_record["tracemalloc_peak_while_loading"] = traced_peak / records
        return {
            "benchmark": "documents-index",
            "peer": "PostgreSQL, B-tree index on documents(number)",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command_line(),
            "environment": env,
            "load_average_at_end": os.getloadavg(),
            "parameters": {
                "records": total,
                "seed": args.seed,
                "present_fraction": args.present,
                "single_probes_per_repetition": args.single_probes,
                "batched_probes_per_repetition": args.batches * BATCH,
                "batch_size": BATCH,
                "repetitions": args.repeats,
                "probes": "fresh for every case and repetition; one warm-up repetition first",
                "load_repetitions": load_repeats,
                "postgresql_session": PG_SESSION,
                "postgresql_connection": "TCP 127.0.0.1:5432, psycopg 3, prepared statements",
            },
            "generation": generation,
            "lookups_per_second": lookups,
            "memory": {
                "records_in_index": records,
                "index_bytes": {
                    "memory_bytes_method": memory_bytes,
                    "tracemalloc_current": traced,
                    "tracemalloc_peak_while_loading": traced_peak,
                    "rss_delta": rss_delta,
                    "rss_peak_delta_while_loading": rss_peak_delta,
                    "memory_bytes_method_after_lookups": searched_bytes,
                },
                "bytes_per_record": per_record,
                "extrapolated_to_100m_bytes": {
                    name: value * EXTRAPOLATE_TO for name, value in per_record.items()
                },
                "extrapolation_note": (
                    f"linear extrapolation from {total:,} records to {EXTRAPOLATE_TO:,}"
                    + ("; measured, not extrapolated" if total == EXTRAPOLATE_TO else "")
                ),
                "postgresql": {
                    "rows": sizes[3],
                    "total_relation_bytes": sizes[0],
                    "table_bytes": sizes[1],
                    "number_index_bytes": sizes[2],
                    "note": "on disk, the whole row (status, dates, reference) with the key",
                },
            },
            "load_seconds": {
                "ours_add_keys": median_of(ours_loads),
                "ours_add_keys_under_tracemalloc": traced_load,
                "postgresql_copy_plus_create_index": median_of([x["load_s"] for x in pg_loads]),
                "postgresql_steps": pg_loads,
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_index_table(result: dict[str, Any]) -> None:
    lookups, memory, load = (
        result["lookups_per_second"],
        result["memory"],
        result["load_seconds"],
    )
    best = lookups["postgresql_batched_best"]
    n = result["parameters"]["records"]
    print(f"\ntravel documents at {n:,} records (medians)")
    print(f"{'':38}{'ours':>14}{'PostgreSQL':>14}{'ours/PG':>10}")
    rows = [
        (
            "single lookups/s",
            lookups["ours_single"]["median"],
            lookups["postgresql_single"]["median"],
        ),
        (
            f"batched lookups/s ({best.removeprefix('postgresql_batched_')})",
            lookups["ours_batched"]["median"],
            lookups[best]["median"],
        ),
    ]
    for label, ours, peer in rows:
        print(f"{label:38}{ours:>14,.0f}{peer:>14,.0f}{ours / peer:>10.2f}")
    ours_load = load["ours_add_keys"]["median"]
    pg_load_s = load["postgresql_copy_plus_create_index"]["median"]
    print(f"{'load seconds':38}{ours_load:>14.1f}{pg_load_s:>14.1f}{ours_load / pg_load_s:>10.2f}")
    per = memory["bytes_per_record"]
    pg_per = memory["postgresql"]["total_relation_bytes"] / memory["postgresql"]["rows"]
    print(f"{'bytes/record (memory_bytes)':38}{per['memory_bytes_method']:>14.1f}{pg_per:>14.1f}")
    if "tracemalloc_peak_while_loading" in per:
        peak = per["tracemalloc_peak_while_loading"]
        print(f"{'bytes/record (tracemalloc peak)':38}{peak:>14.1f}")
    print(
        f"{'bytes/record (RSS peak while loading)':38}{per['rss_peak_delta_while_loading']:>14.1f}"
    )
    print(f"{'bytes/record (RSS delta)':38}{per['rss_delta']:>14.1f}")
    gib = memory["extrapolated_to_100m_bytes"]["memory_bytes_method"] / 2**30
    print(f"100M records, extrapolated: {gib:.2f} GiB (index arrays)")
    print(
        f"{'batched, absent numbers only':38}{lookups['ours_batched_no_hits']['median']:>14,.0f}"
        f"{lookups['postgresql_batched_unnest_no_hits']['median']:>14,.0f}"
    )
    print(
        f"{'batched, 0.1% present (border)':38}{lookups['ours_batched_border']['median']:>14,.0f}"
        f"{lookups['postgresql_batched_unnest_border']['median']:>14,.0f}"
    )
    print(f"hits agree between ours and PostgreSQL: {lookups['hits_agree']}")


# --- through node and tunnel ----------------------------------------------------------


def load_hub_store(network: DemoNetwork, register: SyntheticRegister, total: int) -> float:
    """Store ``total`` records at the hub directly, owned by the issuing country's NCB."""
    now = datetime.now(UTC)
    store = open_store(network.hub_settings().db_url)
    started = time.perf_counter()
    try:
        for chunk in register.chunks(total, every(50_000, "stored at the hub", total)):
            puts = [
                RecordPut(
                    natural_key(doc),
                    to_payload(doc),
                    Envelope(
                        owner=TUNNEL_OWNERS[doc.issuing_state],
                        created=now,
                        review_due=now + timedelta(days=365),
                    ),
                )
                for doc in chunk.documents()
            ]
            for at in range(0, len(puts), BATCH):
                with store.unit_of_work() as uow:
                    uow.records.put_many("documents", puts[at : at + BATCH], now)
    finally:
        store.close()
    return time.perf_counter() - started


def percentiles(latencies: Sequence[float]) -> dict[str, float]:
    ms = np.array(latencies) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


async def concurrent_singles(
    call: Callable[[str], Any], numbers: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    """``args.clients`` workers, each sending one lookup at a time, until ``args.singles``
    lookups are done or ``args.single_seconds`` have passed."""
    latencies: list[float] = []
    failures: list[str] = []
    limit = min(args.singles, len(numbers))
    feed = iter(numbers[:limit])
    deadline = time.monotonic() + args.single_seconds

    async def worker() -> None:
        # taking the next number and sending it happen without a pause, so no more
        # than ``limit`` lookups are ever started
        while time.monotonic() < deadline and (number := next(feed, None)) is not None:
            await timed(call, number, latencies, failures)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.clients)))
    return summary(args.clients, latencies, failures, time.perf_counter() - started)


async def timed(
    call: Callable[[str], Any], number: str, latencies: list[float], failures: list[str]
) -> None:
    """``call(number)``, its latency added to ``latencies`` or its failure to ``failures``."""
    started = time.perf_counter()
    try:
        await call(number)
        latencies.append(time.perf_counter() - started)
    except Exception as exc:  # counted and reported, the run goes on
        failures.append(f"{type(exc).__name__}: {exc}"[:200])


def summary(
    clients: int, latencies: list[float], failures: list[str], elapsed: float
) -> dict[str, Any]:
    return {
        "clients": clients,
        "lookups": len(latencies),
        "failures": len(failures),
        "first_failures": failures[:3],
        "seconds": elapsed,
        "lookups_per_second": len(latencies) / elapsed,
        **(percentiles(latencies) if latencies else {}),
    }


async def logged_in(network: DemoNetwork, node: str, clients: int = 1) -> httpx.AsyncClient:
    """An HTTPS client logged in at ``node`` as its first demo login (a one-time code is
    accepted once per 30-second step, so each node's login is used once)."""
    login = next(x for x in network.logins if x.node == node)
    web_cert = network.node_dir(node) / "tls" / "web.pem"
    client = httpx.AsyncClient(
        base_url=login.url,
        verify=ssl.create_default_context(cafile=str(web_cert)),
        timeout=120.0,
        limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
    )
    answer = await client.post(
        "/api/v1/login",
        json={
            "username": login.username,
            "password": login.password,
            "otp": totp_now(login.totp_secret, datetime.now(UTC)),
        },
    )
    answer.raise_for_status()
    client.headers["authorization"] = f"Bearer {answer.json()['token']}"
    return client


async def officer_client(network: DemoNetwork, clients: int) -> httpx.AsyncClient:
    """An HTTPS client logged in as PC Smith at the Met's node."""
    return await logged_in(network, "met", clients)


async def wait_for_offline_copies(
    network: DemoNetwork, met: httpx.AsyncClient, timeout: float = 600.0
) -> float:
    """Seconds until every node's offline copy of the register is complete.

    A node copies the register when it starts (signed snapshot pages from the
    hub); measuring checks meanwhile would measure that copy too. ``met`` is
    the officer's client at the Met's node (a one-time code is good for one
    login: the others log in here).
    """
    started = time.perf_counter()
    for node in sorted({login.node for login in network.logins}):
        client = met if node == "met" else await logged_in(network, node)
        try:
            while True:
                status = (await client.get("/api/v1/status")).json()["offline_copy"]
                if status is None or status["ready"]:
                    break
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"the offline copy at {node} is not ready: {status}")
                await asyncio.sleep(0.5)
        finally:
            if client is not met:
                await client.aclose()
    return time.perf_counter() - started


WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "single_checks.lua"


def wrk_singles(
    network: DemoNetwork, token: str, numbers: Sequence[str], args: argparse.Namespace
) -> dict[str, Any] | None:
    """Single checks from ``args.clients`` connections of wrk (a load generator in C, so the
    client's own cost stays out of the figures), each sending one check at a time for
    ``args.wrk_seconds``; None when wrk is not installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    login = next(x for x in network.logins if x.node == "met")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(numbers) + "\n")
    try:
        command = [
            wrk,
            "-t1",
            f"-c{args.clients}",
            f"-d{args.wrk_seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            login.url,
        ]
        env = {**os.environ, "CHECK_NUMBERS": listing.name, "CHECK_TOKEN": token}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    finally:
        os.unlink(listing.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("wrk-json: "))
    found = json.loads(line.removeprefix("wrk-json: "))
    errors = sum(v for k, v in found.items() if k.startswith("errors_"))
    return {
        "client": f"wrk, 1 thread, {args.clients} connections",
        "clients": args.clients,
        "lookups": found["requests"],
        "failures": errors,
        "errors": {k: v for k, v in found.items() if k.startswith("errors_")},
        "seconds": found["seconds"],
        "lookups_per_second": found["requests"] / found["seconds"],
        "p50_ms": found["p50_us"] / 1000,
        "p90_ms": found["p90_us"] / 1000,
        "p99_ms": found["p99_us"] / 1000,
        "max_ms": found["max_us"] / 1000,
    }


async def paced_singles(
    call: Callable[[str], Any], numbers: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    """``args.clients`` clients, each sending one check every ``args.pace`` seconds (a
    border's gates at a steady rate), for ``args.paced_seconds``: latency below saturation."""
    latencies: list[float] = []
    failures: list[str] = []
    feed = iter(numbers)
    deadline = time.monotonic() + args.paced_seconds

    async def gate(offset: float) -> None:
        await asyncio.sleep(offset)  # the gates start spread over one interval
        tick = time.monotonic()
        while tick < deadline and (number := next(feed, None)) is not None:
            await timed(call, number, latencies, failures)
            tick += args.pace
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    started = time.perf_counter()
    await asyncio.gather(*(gate(i * args.pace / args.clients) for i in range(args.clients)))
    result = summary(args.clients, latencies, failures, time.perf_counter() - started)
    return {
        "seconds_between_checks_per_client": args.pace,
        "offered_per_second": args.clients / args.pace,
        **result,
    }


async def node_measurements(
    network: DemoNetwork,
    client: httpx.AsyncClient,
    probes: Sequence[tuple[str, str, bool]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    async def check(numbers: Sequence[str]) -> int:
        body = {"documents": [{"number": n} for n in numbers]}
        reply = await client.post("/api/v1/documents/check", json=body)
        if reply.status_code != 200:
            raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:200]}")
        return sum(1 for a in reply.json()["answers"] if a.get("hits"))

    numbers = [number for _, number, _ in probes]
    batches = [numbers[at : at + BATCH] for at in range(0, args.batches * BATCH, BATCH)]
    seconds: list[float] = []
    failures: list[str] = []
    answered_with_hits = 0
    for n, batch in enumerate([batches[-1], *batches]):  # the first is a warm-up
        started = time.perf_counter()
        try:
            found = await check(batch)
        except Exception as exc:  # counted and reported, the run goes on
            failures.append(f"batch {n}: {type(exc).__name__}: {exc}"[:300])
            say(f"node batch {n} failed after {time.perf_counter() - started:.2f} s: {exc}")
            continue
        if n:
            seconds.append(time.perf_counter() - started)
            answered_with_hits += found
            say(f"node batch {n} of {len(batches)}: {seconds[-1]:.2f} s")
    warm, measured = _single_probes(numbers, args)
    await concurrent_singles(lambda n: check([n]), warm, _warm_up(args))
    token = client.headers["authorization"].removeprefix("Bearer ")
    say(f"single checks: {args.clients} wrk connections for {args.wrk_seconds} s")
    singles = await asyncio.to_thread(wrk_singles, network, token, measured, args)
    if singles is None:
        say("wrk is not installed: single checks from this process's HTTP client instead")
        singles = await concurrent_singles(lambda n: check([n]), measured, args)
        singles["client"] = f"httpx in the benchmark's process, {args.clients} connections"
    say(f"paced single checks: {args.clients} clients, one check each every {args.pace} s")
    paced = await paced_singles(lambda n: check([n]), measured[::-1], args)
    return {
        "batched": {
            "batches": len(batches),
            "batch_size": BATCH,
            "seconds": [round(s, 3) for s in seconds],
            "failures": failures,
            "documents_per_second_median_batch": (
                BATCH / statistics.median(seconds) if seconds else None
            ),
            "documents_per_second_overall": len(seconds) * BATCH / sum(seconds)
            if seconds
            else None,
            "documents_with_hits": answered_with_hits,
        },
        "single_concurrent": singles,
        "single_paced": paced,
    }


def _warm_up(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "singles": 4 * args.clients, "single_seconds": 30})


def _single_probes(numbers: list[str], args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The numbers for the single checks' warm-up and for the measured run (after the batches)."""
    start = args.batches * BATCH
    return numbers[start : start + 4 * args.clients], numbers[start + 4 * args.clients :]


async def pg_measurements(
    dsn: str, probes: Sequence[tuple[str, str, bool]], args: argparse.Namespace
) -> dict[str, Any]:
    numbers = [number for _, number, _ in probes]
    with psycopg.connect(dsn, autocommit=True) as conn:
        pg_batched(conn, numbers[:BATCH], PG_BATCHED["unnest"])  # warm-up
        seconds, found = [], 0
        for at in range(0, args.batches * BATCH, BATCH):
            rate, hits = pg_batched(conn, numbers[at : at + BATCH], PG_BATCHED["unnest"])
            seconds.append(BATCH / rate)
            found += hits
    connections = [
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(args.clients)
    ]
    idle = list(connections)

    async def lookup(number: str) -> None:
        conn = idle.pop()
        try:
            cursor = await conn.execute(PG_SINGLE, (number,), prepare=True)
            await cursor.fetchall()
        finally:
            idle.append(conn)

    try:
        warm, measured = _single_probes(numbers, args)
        await concurrent_singles(lookup, warm, _warm_up(args))
        singles = await concurrent_singles(lookup, measured, args)
    finally:
        for conn in connections:
            await conn.close()
    return {
        "batched": {
            "query": PG_BATCHED["unnest"],
            "documents_per_second_median_batch": BATCH / statistics.median(seconds),
            "documents_per_second_overall": len(seconds) * BATCH / sum(seconds),
            "rows_found": found,
        },
        "single_concurrent": singles,
    }


def hub_in_process(
    network: DemoNetwork, register: SyntheticRegister, args: argparse.Namespace
) -> dict[str, Any]:
    """The hub's check without HTTP, TLS or node: ``DocumentRegister.check`` on the hub's
    own store, called in this process for the Met, hits resolved to JSON as the route does.

    Run before the processes start, with probes of their own seed; it shows how much of
    the time through the node is the hub's enquiry logic (search, access, audit, cases).
    """
    hub, _ = create_hub(network.hub_settings())
    try:
        hub.documents.load(hub.store)
        with hub.store.unit_of_work() as uow:
            member = uow.members.get("gb-metropolitan-police")
        assert member is not None
        caller = Caller(member=member, officer="pc.smith", serial=0)

        def check(numbers: Sequence[str]) -> list[list[dict[str, Any]]]:
            probes = [DocumentProbe(number) for number in numbers]
            now = hub.clock()
            with hub.store.unit_of_work() as uow:
                found = hub.documents.check(uow, hub.audit, caller, probes, now, hub.deadlines)
            return [[hit.to_json() for hit in hits] for hits in found]

        runs: dict[str, Any] = {}
        for fraction in args.present:
            count = args.batches * BATCH + args.in_process_singles
            numbers = [n for _, n, _ in register.probes(count, fraction, args.seed + 7)]
            seconds, latencies = [], []
            for at in range(0, args.batches * BATCH, BATCH):
                started = time.perf_counter()
                check(numbers[at : at + BATCH])
                seconds.append(time.perf_counter() - started)
            for number in numbers[args.batches * BATCH :]:
                started = time.perf_counter()
                check([number])
                latencies.append(time.perf_counter() - started)
            median = statistics.median(seconds)
            say(f"hub in process, {fraction:.1%} present: batches {median:.2f} s")
            runs[f"present_{fraction}"] = {
                "documents_per_second_median_batch": BATCH / statistics.median(seconds),
                "batch_seconds": [round(x, 3) for x in seconds],
                "single_sequential": {"checks": len(latencies), **percentiles(latencies)},
            }
        return runs
    finally:
        hub.store.close()


def network_cpu_seconds(network: DemoNetwork) -> float:
    """CPU seconds used so far by the hub's and the nodes' processes."""
    total = 0.0
    for process in network.processes.values():
        with open(f"/proc/{process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def wait_until_quiet(network: DemoNetwork, timeout: float = 300.0) -> float:
    """Seconds until the network's processes together use under a tenth of a core over two
    seconds: the follow-up of one run (NCB nodes storing hit events, cases) must not fall
    into the next one's measurements."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = network_cpu_seconds(network)
        await asyncio.sleep(2.0)
        if network_cpu_seconds(network) - before < 0.2:
            break
    return time.perf_counter() - started


async def tunnel_runs(
    network: DemoNetwork, dsn: str, register: SyntheticRegister, args: argparse.Namespace
) -> dict[str, Any]:
    """For each share of present numbers: the checks through the node, then PostgreSQL's."""
    runs: dict[str, Any] = {}
    client = await officer_client(network, args.clients)
    try:
        say("waiting for the nodes' offline copies of the register")
        runs["offline_copies_seconds"] = await wait_for_offline_copies(network, client)
        for fraction in args.present:
            quiet = await wait_until_quiet(network)
            say(f"checks with {fraction:.1%} of the numbers present (quiet after {quiet:.0f} s)")
            count = args.batches * BATCH + args.singles + 4 * args.clients
            probes = register.probes(count, fraction, args.seed + 1)
            node = await node_measurements(network, client, probes, args)
            say("the same lookups in PostgreSQL")
            peer = await pg_measurements(dsn, probes, args)
            runs[f"present_{fraction}"] = {
                "present_fraction": fraction,
                "seconds_waited_for_a_quiet_network": quiet,
                "through_node_and_tunnel": node,
                "postgresql_direct": peer,
            }
    finally:
        await client.aclose()
    return runs


def run_tunnel(args: argparse.Namespace) -> dict[str, Any]:
    total = args.documents
    work = Path(tempfile.mkdtemp(prefix="policenet-bench-", dir=args.workdir))
    network = DemoNetwork(work / "net")
    try:
        say(f"creating a hub and five nodes in {network.root}")
        network.create(fast_hashing=True)
        # A batch with many hits may take the hub longer than the node's default
        # wait (10 s): the benchmark measures how long, rather than a 503.
        met = network.node_settings("met")
        save(dataclasses.replace(met, hub_timeout_seconds=args.hub_timeout))
        register = SyntheticRegister(args.seed, states=TUNNEL_STATES)
        store_s = load_hub_store(network, register, total)
        csv_path = work / "documents.csv"
        # the same records again (same seed), as CSV for PostgreSQL
        twin = SyntheticRegister(args.seed, states=TUNNEL_STATES)
        write_files(twin, total, csv_path, work / "keys.txt")
        say("the hub's check in this process (no HTTP, no TLS, no node)")
        in_process = hub_in_process(network, register, args)
        say("starting the hub and the nodes")
        started = time.perf_counter()
        network.start_hub()
        network.start_nodes()
        network.wait_until_up(timeout=300)
        startup_s = time.perf_counter() - started
        with scratch_database(say) as dsn:
            with psycopg.connect(dsn, autocommit=True) as conn:
                env = environment(conn)
                pg_load(conn, csv_path, total)
            runs = asyncio.run(tunnel_runs(network, dsn, register, args))
        return {
            "benchmark": "documents-tunnel",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command_line(),
            "environment": env,
            "load_average_at_end": os.getloadavg(),
            "what_is_compared": (
                "policenet: an officer's HTTPS request to the Met's node, forwarded through the "
                "node's mTLS tunnel to the hub, which searches its index, reads the hit records "
                "from SQLite, decides access, appends an audit entry and hit events, and answers "
                "back the same way. PostgreSQL: the same lookups sent straight to the database "
                "over loopback TCP (no TLS, no node, no audit, no access decisions). All processes "
                "(benchmark client, hub, five nodes, PostgreSQL) share the same CPUs."
            ),
            "parameters": {
                "documents": total,
                "issuing_states": list(TUNNEL_STATES),
                "seed": args.seed,
                "batches": args.batches,
                "batch_size": BATCH,
                "clients": args.clients,
                "singles": args.singles,
                "single_seconds_limit": args.single_seconds,
                "met_node_hub_timeout_seconds": args.hub_timeout,
            },
            "setup_seconds": {
                "store_at_hub": store_s,
                "start_network": startup_s,
                "offline_copies_complete": runs.pop("offline_copies_seconds"),
            },
            "runs": runs,
            "hub_in_process": in_process,
        }
    finally:
        network.stop()
        shutil.rmtree(work, ignore_errors=True)


def print_tunnel_table(result: dict[str, Any]) -> None:
    print(
        f"\ntravel documents through node and tunnel, {result['parameters']['documents']:,} stored"
    )
    for key, run in result["runs"].items():
        node, peer = run["through_node_and_tunnel"], run["postgresql_direct"]
        alone = result["hub_in_process"][key]
        print(f"-- {run['present_fraction']:.1%} of the numbers present")
        print(f"{'':36}{'node+tunnel':>14}{'PostgreSQL':>14}")
        ours_rate = node["batched"]["documents_per_second_median_batch"] or float("nan")
        print(
            f"{'batches of 10,000: documents/s':36}{ours_rate:>14,.0f}"
            f"{peer['batched']['documents_per_second_median_batch']:>14,.0f}"
        )
        clients = node["single_concurrent"]["clients"]
        for name in ("p50_ms", "p99_ms"):
            label = f"single, {clients} clients: {name}"
            print(
                f"{label:36}"
                f"{node['single_concurrent'].get(name, float('nan')):>14.1f}"
                f"{peer['single_concurrent'].get(name, float('nan')):>14.1f}"
            )
        print(
            f"{'hub alone, in process: documents/s':36}"
            f"{alone['documents_per_second_median_batch']:>14,.0f}"
        )
        print(
            f"{'hub alone, one check: p50/p99 ms':36}{alone['single_sequential']['p50_ms']:>14.1f}"
            f"{alone['single_sequential']['p99_ms']:>14.1f}"
        )
        print(
            f"{'single: lookups/s':36}"
            f"{node['single_concurrent']['lookups_per_second']:>14,.0f}"
            f"{peer['single_concurrent']['lookups_per_second']:>14,.0f}"
        )
        paced = node["single_paced"]
        label = f"paced, {paced['offered_per_second']:.0f}/s offered: p50/p99"
        print(
            f"{label:36}{paced.get('p50_ms', float('nan')):>14.1f}"
            f"{paced.get('p99_ms', float('nan')):>14.1f}"
        )
        print(f"(single checks through the node sent by {node['single_concurrent']['client']})")


# --- command line ---------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--workdir", help="where to write the temporary files (default: $TMPDIR)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON result")
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index", help="lookups, memory and load time in one process")
    index.add_argument("--records", type=int, default=1_000_000)
    index.add_argument("--repeats", type=int, default=7, help="measured repetitions (>= 5)")
    index.add_argument("--load-repeats", type=int, default=0, help="0: 3 up to 2M records, else 1")
    index.add_argument("--single-probes", type=int, default=20_000)
    index.add_argument("--batches", type=int, default=10, help="batches of 10,000 per repetition")
    index.add_argument("--present", type=float, default=0.5, help="share of probes loaded")
    tunnel = commands.add_parser("tunnel", help="checks through a real node and hub")
    tunnel.add_argument("--documents", type=int, default=200_000)
    tunnel.add_argument("--batches", type=int, default=10)
    tunnel.add_argument("--clients", type=int, default=50)
    tunnel.add_argument("--singles", type=int, default=5_000, help="single checks at most")
    tunnel.add_argument("--single-seconds", type=float, default=60.0, help="time limit")
    tunnel.add_argument("--wrk-seconds", type=int, default=30, help="wrk's single checks")
    tunnel.add_argument(
        "--pace", type=float, default=0.5, help="paced singles: seconds between a client's checks"
    )
    tunnel.add_argument("--paced-seconds", type=float, default=30.0, help="paced singles")
    tunnel.add_argument(
        "--in-process-singles", type=int, default=500, help="single checks at the hub alone"
    )
    tunnel.add_argument(
        "--hub-timeout",
        type=float,
        default=60.0,
        help="the Met node's hub_timeout_seconds (policenet's default is 10)",
    )
    tunnel.add_argument(
        "--present", type=float, nargs="+", default=[0.001, 0.5], help="shares of probes stored"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.command == "index":
        result = run_index(args)
        path = args.out / f"documents-{args.records}.json"
        print_index_table(result)
    else:
        result = run_tunnel(args)
        path = args.out / "documents-tunnel.json"
        print_tunnel_table(result)
    path.write_text(json.dumps(result, indent=2) + "\n")
    say(f"wrote {path}")


if __name__ == "__main__":
    main()
