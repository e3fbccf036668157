"""The PostgreSQL peer's scratch database, shared by every benchmark.

Each benchmark that runs PostgreSQL beside policenet creates a database of
its own on the local server (``127.0.0.1:5432``, user ``postgres``, trust
authentication) and drops it at the end, even after an error.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator

import psycopg

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
"""Where the scratch databases are made (the server's maintenance database)."""


@contextlib.contextmanager
def scratch_database(say: Callable[[str], None]) -> Iterator[str]:
    """A new database ``policenet_bench_<random>``, as a connection string; dropped afterwards.

    ``say`` reports its creation and removal (each benchmark prints progress its own way).
    """
    name = f"policenet_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    say(f"PostgreSQL scratch database {name} created")
    try:
        yield PG_ADMIN.replace("dbname=postgres", f"dbname={name}")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        say(f"PostgreSQL scratch database {name} dropped")
