"""Alembic's entry point: runs the migrations on the connection policenet hands it.

:func:`policenet.store.database.migrate` opens a transaction (holding a
migration lock on PostgreSQL) and passes its connection in
``config.attributes["connection"]``; the migrations run inside that
transaction, so a failed upgrade leaves the database as it was (SQLite and
PostgreSQL both have transactional DDL).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from policenet.store.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "policenet's migrations run through policenet.store.database.migrate(url), "
            "which supplies the connection; offline (--sql) mode is not supported"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transactional_ddl=True,
        compare_type=True,
        # SQLite alters tables by copying them; batch mode writes that for autogenerate.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
