"""Run the whole test suite, saying plainly whether the PostgreSQL half ran.

PostgreSQL is found at ``POLICENET_TEST_PG_URL`` (default: the local server,
user postgres). When it cannot be reached the PostgreSQL tests are skipped and
this says so; with ``POLICENET_REQUIRE_PG=1`` (as CI sets) they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import sys

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_reachable(url: str) -> str | None:
    """None when a connection works, else the reason it does not."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def main() -> int:
    url = os.environ.setdefault("POLICENET_TEST_PG_URL", DEFAULT_PG)
    problem = postgres_reachable(url)
    required = os.environ.get("POLICENET_REQUIRE_PG") == "1"
    if problem:
        if required:
            print(f"PostgreSQL is required (POLICENET_REQUIRE_PG=1) but not reachable: {problem}")
        else:
            print(f"PostgreSQL not reachable at {url} ({problem}):")
            print("  the PostgreSQL half of the suite will be SKIPPED; only SQLite is tested.")
    else:
        print(f"PostgreSQL reachable at {url}: the suite runs on SQLite and on PostgreSQL.")
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "pytest", "-q", *sys.argv[1:]], check=False
    )
    if problem and not required:
        print("NOTE: the PostgreSQL half of the suite was skipped (no server reachable).")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
