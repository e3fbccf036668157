"""Migrations and opening a database: creating the schema, checking it, refusing clearly."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from policenet.errors import InvalidInput, Unavailable
from policenet.store.database import (
    alembic_config,
    describe,
    head_revision,
    make_engine,
    migrate,
    normalise_url,
    open_store,
)
from policenet.store.schema import metadata

SCHEMA_TABLES = {
    "members",
    "certificates",
    "audit_entries",
    "tree_heads",
    "events",
    "officers",
    "officer_sessions",
    "system_tokens",
    "inbox",
    "register_records",
    "register_changes",
    "copy_entries",
    "copy_state",
    "rechecks",
    "cases",
    "case_timeline",
    "messages",
    "webhooks",
    "webhook_deliveries",
}


def test_upgrade_creates_the_schema_the_code_describes(store_url: str) -> None:
    migrate(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == SCHEMA_TABLES | {"alembic_version"}
            assert set(metadata.tables) == SCHEMA_TABLES
            # What autogenerate would write for a new revision: nothing, if
            # schema.py and the migrations agree.
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    finally:
        engine.dispose()


def test_migrating_again_keeps_the_data(store_url: str) -> None:
    store = open_store(store_url, create=True)
    with store.unit_of_work() as uow:
        uow.audit.append(b"entry", bytes(32))
    store.close()
    migrate(store_url)
    store = open_store(store_url, create=True)
    try:
        with store.unit_of_work() as uow:
            assert uow.audit.size() == 1
    finally:
        store.close()


def test_processes_initialising_at_once_all_succeed(store_url: str) -> None:
    script = "import sys; from policenet.store.database import migrate; migrate(sys.argv[1])"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, store_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    open_store(store_url).close()


def test_downgrade_removes_the_schema_and_upgrade_restores_it(store_url: str) -> None:
    migrate(store_url)
    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        with pytest.raises(InvalidInput, match="is not initialised"):
            open_store(store_url)
    finally:
        engine.dispose()
    open_store(store_url, create=True).close()


def test_opening_an_unmigrated_database_says_to_initialise_it(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        # A database with someone else's table is still not ours.
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    finally:
        engine.dispose()
    with pytest.raises(InvalidInput) as caught:
        open_store(store_url)
    assert caught.value.message == (
        f"database at {describe(store_url)} is not initialised (run policenet hub init / node init)"
    )


def test_a_schema_from_a_newer_version_is_refused(store_url: str) -> None:
    migrate(store_url)
    engine = make_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(InvalidInput, match=r"revision 9999.*newer version"):
        open_store(store_url)


def test_a_missing_sqlite_file_is_not_created_without_create(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with pytest.raises(InvalidInput, match=f"database at {path} is not initialised"):
        open_store(f"sqlite:///{path}")
    assert not path.exists()


def test_create_makes_the_folder_of_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "hub" / "data" / "policenet.db"
    open_store(f"sqlite:///{path}", create=True).close()
    open_store(f"sqlite:///{path}").close()
    assert path.is_file()


@pytest.mark.parametrize("create", [False, True])
def test_a_file_that_is_not_a_sqlite_database_is_named(tmp_path: Path, create: bool) -> None:
    path = tmp_path / "hub.db"
    garbage = b"this is not a database, it is a shopping list\n" * 100
    path.write_bytes(garbage)
    with pytest.raises(InvalidInput, match="not a SQLite database") as caught:
        open_store(f"sqlite:///{path}", create=create)
    assert str(path) in caught.value.message
    assert path.read_bytes() == garbage


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}", create=True)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "p.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_a_sqlite_writer_waits_for_another_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    first, second = open_store(url, create=True), open_store(url)
    order: list[str] = []
    try:
        with first.unit_of_work() as uow:
            uow.audit.append(b"first", bytes(32))

            def append_second() -> None:
                with second.unit_of_work() as other:
                    order.append(f"second got {other.audit.append(b'second', bytes(32))}")

            waiting = threading.Thread(target=append_second)
            waiting.start()
            waiting.join(timeout=0.5)
            order.append("first commits")
        waiting.join(timeout=30)
        assert order == ["first commits", "second got 1"]
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://police@db.example:5432/hub",
            "postgresql+psycopg://police@db.example:5432/hub",
        ),
        ("postgres://police:s3cret@db/hub", "postgresql+psycopg://police:s3cret@db/hub"),
        ("postgresql+psycopg://db/hub", "postgresql+psycopg://db/hub"),
        ("sqlite:///data/hub.db", "sqlite:///data/hub.db"),
        ("sqlite+pysqlite:////var/lib/policenet/hub.db", "sqlite:////var/lib/policenet/hub.db"),
    ],
)
def test_urls_are_normalised_to_the_drivers_used(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@db/hub", "'mysql' is not supported"),
        ("postgresql+psycopg2://db/hub", "psycopg 3"),
        ("postgresql://db", "names no PostgreSQL database"),
        ("sqlite://", "names no SQLite file"),
        ("sqlite:///:memory:", "names no SQLite file"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(url: str, complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        open_store(url, create=True)


def test_messages_never_show_a_password() -> None:
    assert describe("postgresql://police:s3cret@db/hub") == "postgresql+psycopg://police:***@db/hub"
    assert describe("sqlite:///data/hub.db") == "data/hub.db"


def test_an_unreachable_postgresql_server_is_unavailable() -> None:
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    url = "postgresql://police:s3cret@127.0.0.1:9/hub"
    with pytest.raises(Unavailable, match="cannot be reached") as caught:
        open_store(url)
    # the operator's detail names the server; the message sent to members does not
    assert caught.value.detail is not None
    assert "127.0.0.1:9/hub" in caught.value.detail
    assert "127.0.0.1" not in caught.value.message
    assert "s3cret" not in caught.value.message + caught.value.detail
