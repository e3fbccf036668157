"""Storage: the ports (what the rest of the program asks of a store) and their adapters.

``ports`` defines the protocols in domain terms; ``memory`` is the in-memory
fake used by unit tests; ``sql`` is the SQLAlchemy adapter for SQLite and
PostgreSQL, with Alembic migrations in ``migrations``.
"""
