"""Fixtures for the store's integration tests: a fresh database per test, SQLite and PostgreSQL.

PostgreSQL is the server named by POLICENET_TEST_PG_URL (default: the local
server, user postgres). Each test gets its own scratch database, dropped
afterwards. When the server cannot be reached the PostgreSQL tests skip,
unless POLICENET_REQUIRE_PG=1 (as in CI), when they fail.

The helpers below the fixtures are plain functions so that they can move to
tests/conftest.py once other suites need a scratch PostgreSQL database.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from policenet.store.database import migrate, normalise_url, open_store
from policenet.store.memory import MemoryStore
from policenet.store.ports import Store
from policenet.store.schema import metadata
from policenet.store.sql import SqlStore

PG_URL_ENV = "POLICENET_TEST_PG_URL"
REQUIRE_PG_ENV = "POLICENET_REQUIRE_PG"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
ALL_BACKENDS = ["memory", *SQL_BACKENDS]


@pytest.fixture(params=SQL_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, unmigrated database: a new SQLite file or a new PostgreSQL database."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=ALL_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store: the in-memory fake, or a migrated SQLite or PostgreSQL database."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'policenet.db'}", create=True)
    else:
        opened = open_store(request.getfixturevalue("migrated_postgres"))
        empty_tables(opened)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """One migrated scratch database for the run, emptied before each test that uses it.

    Creating a PostgreSQL database takes a few tenths of a second (it is
    written to disk); emptying the tables takes milliseconds.
    """
    with scratch_postgres() as url:
        migrate(url)
        yield url


def empty_tables(store: SqlStore) -> None:
    """Delete every row and restart the id counters, as in a new database."""
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY")


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'policenet.db'}"
    else:
        with scratch_postgres() as url:
            yield url


def postgres_server_url() -> str:
    return normalise_url(os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL)


def scratch_postgres_url(name: str) -> str:
    """The URL of database ``name`` on the test server (it is not created here)."""
    server = make_url(postgres_server_url())
    return server.set(database=name).render_as_string(hide_password=False)


@functools.cache
def postgres_unreachable_reason(server_url: str) -> str | None:
    """Why the server at ``server_url`` cannot be used, or None when it can. Asked once per run."""
    engine = create_engine(server_url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
    finally:
        engine.dispose()
    return None


def require_postgres() -> str:
    """The test server's URL; skips the test if unreachable (fails it if PostgreSQL is required)."""
    url = postgres_server_url()
    reason = postgres_unreachable_reason(url)
    if reason is not None:
        shown = make_url(url).render_as_string(hide_password=True)
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(
                f"PostgreSQL required ({REQUIRE_PG_ENV}=1) but not reachable at {shown}: {reason}",
                pytrace=False,
            )
        pytest.skip(
            f"PostgreSQL not reachable at {shown}; the PostgreSQL half of the suite was skipped"
        )
    return url


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty database on the test server for the ``with`` block; dropped afterwards."""
    admin = create_engine(require_postgres(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"policenet_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield scratch_postgres_url(name)
        finally:
            with admin.connect() as conn:
                # A pool the test forgot to close would keep the database busy.
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.dispose()
