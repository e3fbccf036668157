"""Alembic migrations of the policenet schema.

Run them with :func:`policenet.store.database.migrate` (or ``open_store(url,
create=True)``); there is no alembic.ini. To write the next revision, add a
file to ``versions`` whose ``down_revision`` is the current head, and keep
:mod:`policenet.store.schema` in step: tests/integration/test_migrations.py
fails while the two differ.
"""
