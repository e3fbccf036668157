"""Opening a database: URLs, engines, the schema check and migrations.

Two kinds of URL are accepted:

- ``sqlite:///path/to/policenet.db`` (relative to the working directory;
  ``sqlite:////abs/path.db`` for an absolute path). A file is required: an
  in-memory SQLite database would be a different, empty database on every
  connection;
- ``postgresql://user:password@host:port/db``, also written
  ``postgresql+psycopg://...`` or ``postgres://...``; always driven by psycopg 3.

SQLite connections run in WAL mode (readers do not wait for the writer) with
foreign keys on and a 30 s busy timeout, and every unit of work begins with
``BEGIN IMMEDIATE``: it takes the write lock at the start, so writers queue
instead of failing midway when two try to upgrade a read lock at once.
Within one process the writers of a database file also queue on a Python
lock before they begin, so a thread waiting for its turn wakes as soon as
the one before commits (SQLite's own busy handler sleeps in steps of up to
100 ms, which made waits under load last seconds); the busy timeout is left
for other processes. :meth:`SqlStore.reading` transactions use a second
pool of connections that begin a deferred (read) transaction and refuse
writes (``PRAGMA query_only``), so reads neither wait for nor hold the write
lock. On PostgreSQL ``reading`` transactions are ``READ ONLY`` and ``REPEATABLE READ``
(one snapshot from the first statement on, as on SQLite).

Nothing here connects at import time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from policenet.errors import InvalidInput, Unavailable
from policenet.store.sql import SqlStore

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another process's write lock."""

READER_CONNECTIONS = 40
"""SQLite connections kept for reading transactions (anyio's worker threads are 40)."""

MIGRATION_LOCK_KEY = 0x706F_6C6E_6D69_6772
"""PostgreSQL advisory lock held while migrating, so two processes starting
at once do not both create the schema."""

_ALEMBIC_LOCK = threading.Lock()
_URL_HELP = "use sqlite:///path/to/file.db or postgresql://user@host:port/database"


def normalise_url(url: str) -> str:
    """The URL in the form the engine needs; InvalidInput naming the URL if it is not usable.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``;
    ``sqlite+pysqlite:///`` becomes ``sqlite:///``. The password, if any, is kept.
    """
    return _parse(url).render_as_string(hide_password=False)


def describe(url: str) -> str:
    """The database for messages and logs: a SQLite file path, or the URL without its password."""
    return _describe(_parse(url))


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with policenet's connection settings. Connects lazily."""
    return _engine(_parse(url))


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for policenet's migrations, without an alembic.ini.

    The migrations' env.py runs on ``connection`` (in its transaction), so pass
    one to run a command: ``command.upgrade(alembic_config(conn), "head")``.
    """
    config = Config()
    # ConfigParser interpolation treats "%" as special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The schema revision this version of policenet needs."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads; they must have one")
    return heads[0]


def migrate(url: str) -> None:
    """Create the schema, or upgrade it to :func:`head_revision`. Safe to run twice.

    Raises InvalidInput for a URL or SQLite file that is not usable and
    Unavailable for a PostgreSQL server that cannot be reached.
    """
    parsed = _parse(url)
    _prepare_sqlite_file(parsed, create=True)
    engine = _engine(parsed)
    try:
        with _translating(parsed):
            _upgrade(engine)
    finally:
        engine.dispose()


def open_store(url: str, *, create: bool = False) -> SqlStore:
    """Open the database at ``url`` as a store.

    With ``create`` the schema is created or upgraded first (and a SQLite
    file and its folder are made if missing). Without it, a database that
    was never initialised, or whose schema is older or newer than this
    version of policenet, raises InvalidInput saying what to run; a file that
    is not a SQLite database raises InvalidInput naming the file; a
    PostgreSQL server that cannot be reached raises Unavailable.
    """
    parsed = _parse(url)
    _prepare_sqlite_file(parsed, create=create)
    engine = _engine(parsed)
    try:
        with _translating(parsed):
            if create:
                _upgrade(engine)
            else:
                _check_revision(engine, _describe(parsed))
    except BaseException:
        engine.dispose()
        raise
    reader: Engine
    if parsed.get_backend_name() != "sqlite":
        reader = engine.execution_options(
            postgresql_readonly=True, isolation_level="REPEATABLE READ"
        )
        return SqlStore(engine, _describe(parsed), reader=reader)
    # as many pooled connections as the threads that may read at once (the web servers'
    # worker threads), so that none is opened and closed per read
    reader = create_engine(parsed, pool_size=READER_CONNECTIONS, max_overflow=READER_CONNECTIONS)
    event.listen(reader, "connect", _on_sqlite_connect)
    event.listen(reader, "connect", _on_sqlite_reader_connect)
    event.listen(reader, "begin", _on_sqlite_reader_begin)
    return SqlStore(
        engine, _describe(parsed), reader=reader, writer_lock=_writer_lock(parsed.database)
    )


_WRITER_LOCKS: dict[str, threading.Lock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(database: str | None) -> threading.Lock:
    """One lock per SQLite file in this process, shared by every store opened on it."""
    path = str(Path(str(database)).resolve())
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(path, threading.Lock())


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"{url!r} is not a database URL; {_URL_HELP}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise InvalidInput(f"SQLite driver {parsed.drivername!r} is not supported; {_URL_HELP}")
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise InvalidInput(
                f"{parsed.render_as_string(hide_password=True)!r} names no SQLite file; "
                "give a path, as in sqlite:///policenet.db"
            )
        return parsed.set(drivername="sqlite")
    if backend in ("postgresql", "postgres"):
        if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise InvalidInput(
                f"PostgreSQL driver {parsed.drivername!r} is not supported; "
                "policenet uses psycopg 3 (postgresql+psycopg://)"
            )
        if not parsed.database:
            raise InvalidInput(
                f"{parsed.render_as_string(hide_password=True)!r} names no PostgreSQL database"
            )
        return parsed.set(drivername="postgresql+psycopg")
    raise InvalidInput(f"database {backend!r} is not supported; {_URL_HELP}")


def _describe(parsed: URL) -> str:
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


def _prepare_sqlite_file(parsed: URL, *, create: bool) -> None:
    if parsed.get_backend_name() != "sqlite":
        return
    path = Path(str(parsed.database))
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"cannot make the folder for {path}: {exc.strerror}") from None
    elif not path.exists():
        # Connecting would create an empty file; say what to do instead.
        raise InvalidInput(_not_initialised(str(path)))


def _engine(parsed: URL) -> Engine:
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    # pre_ping replaces pooled connections the server closed (restart, idle timeout).
    return create_engine(parsed, pool_pre_ping=True)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Take transaction control away from the sqlite3 module (it would issue a
    # deferred BEGIN itself and COMMIT before DDL); _on_sqlite_begin issues ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _on_sqlite_reader_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()


def _on_sqlite_reader_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _upgrade(engine: Engine) -> None:
    # Alembic keeps the running migration context in module globals, so two
    # threads of one process must not migrate at once; other processes are
    # kept out by the database (BEGIN IMMEDIATE, or the advisory lock).
    with _ALEMBIC_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        command.upgrade(alembic_config(conn), "head")


def _check_revision(engine: Engine, where: str) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == heads:
        return
    if not current:
        raise InvalidInput(_not_initialised(where))
    known = {rev.revision for rev in script.walk_revisions()}
    found = ", ".join(sorted(current))
    wanted = ", ".join(sorted(heads))
    if not current <= known:
        raise InvalidInput(
            f"database at {where} has schema revision {found}, which this version of "
            f"policenet does not know (it needs {wanted}); it was written by a newer version"
        )
    raise InvalidInput(
        f"database at {where} has schema revision {found} but this version of policenet "
        f"needs {wanted} (run policenet hub upgrade / node upgrade)"
    )


def _not_initialised(where: str) -> str:
    return f"database at {where} is not initialised (run policenet hub init / node init)"


@contextmanager
def _translating(parsed: URL) -> Iterator[None]:
    """Turn driver errors met while opening a database into policenet errors."""
    where = _describe(parsed)
    try:
        yield
    except DBAPIError as exc:
        reason = _first_line(exc)
        if parsed.get_backend_name() == "sqlite":
            if "file is not a database" in reason or "malformed" in reason:
                raise InvalidInput(
                    f"{where} is not a SQLite database, or it is damaged ({reason})"
                ) from exc
            raise InvalidInput(f"cannot open the SQLite database {where}: {reason}") from exc
        if isinstance(exc, OperationalError | InterfaceError):
            raise Unavailable(
                "the database cannot be reached; the operator's log has the details",
                detail=f"database at {where}: {reason}",
            ) from exc
        raise


def _first_line(exc: DBAPIError) -> str:
    return (str(exc.orig).strip().splitlines() or ["unknown error"])[0]


__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS_DIR",
    "alembic_config",
    "describe",
    "head_revision",
    "make_engine",
    "migrate",
    "normalise_url",
    "open_store",
]
