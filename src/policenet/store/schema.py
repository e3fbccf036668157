"""The database schema: one set of tables for both roles.

A hub fills ``members``, ``certificates``, ``audit_entries``, ``tree_heads``
and ``events``; a node fills ``officers``, ``officer_sessions``,
``system_tokens`` and ``inbox``. Each leaves the other role's tables empty, so
one migration history serves both.

Storage choices (the repositories in :mod:`.sql` convert to and from domain types):

- times are ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL; SQLite has no such
  type, so :class:`UtcDateTime` stores UTC without an offset and marks values
  read back as UTC. Either way a value comes back as an aware UTC datetime;
- a certificate serial (an X.509 serial is up to 20 octets, more than a
  64-bit integer holds) is 40 lower-case hex digits, zero-padded so that text
  order is number order;
- a member's registers are their names, sorted and comma-separated;
- an event payload is JSON text; audit bytes and hashes are binary.

The tables here and ``migrations/versions`` must describe the same schema;
tests/integration/test_migrations.py compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)

# SQLite makes a column an alias of its rowid (and so auto-numbered) only when
# it is declared exactly INTEGER PRIMARY KEY; BIGINT would not be.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC and returned as aware UTC on every backend.

    Binding a naive datetime raises ValueError: the program keeps every time in
    UTC, and a naive one would be read as the database server's local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; give it a zone")
        utc = value.astimezone(UTC)
        # SQLite's DATETIME drops any offset silently, so hand it plain UTC.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


members = Table(
    "members",
    metadata,
    Column("code", String(63), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=True),
    Column("parent", String(63), nullable=True),
    Column("registers", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("copy_enquiries_to_ncb", Boolean(), nullable=False),
    Column("may_report", Boolean(), nullable=False, server_default=false()),
)

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("member", String(63), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("not_before", UtcDateTime(), nullable=False),
    Column("not_after", UtcDateTime(), nullable=False),
    Column("pem", Text(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revocation_reason", Text(), nullable=True),
    Index(None, "member", "not_before"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("canonical", LargeBinary(), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

tree_heads = Table(
    "tree_heads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger(), nullable=False),
    Column("timestamp_ms", BigInteger(), nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary(), nullable=False),
    Index(None, "tree_size", "timestamp_ms"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("recipient", String(63), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
    Column("payload", Text(), nullable=False),
    Index(None, "recipient", "id"),
    # AUTOINCREMENT: never hand out an id again, even after the newest rows are deleted.
    sqlite_autoincrement=True,
)

officers = Table(
    "officers",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("totp_secret", String(255), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
    Column("disabled", Boolean(), nullable=False),
    Column("failed_logins", Integer(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("last_totp_step", BigInteger(), nullable=True),
)

officer_sessions = Table(
    "officer_sessions",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("created", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Column("csrf_token", String(128), nullable=False),
)

system_tokens = Table(
    "system_tokens",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created", UtcDateTime(), nullable=False),
    Column("revoked", Boolean(), nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("recipient", String(63), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
    Column("payload", Text(), nullable=False),
)

# The shared registers: one shape for every register. ``register_records`` holds
# each record's payload (JSON, as its register serialises it) beside its envelope
# in columns the store can filter on. ``register_changes`` is the change feed:
# one row per record put or removed, numbered in commit order (appends take the
# store's append lock), from which hub processes keep their indexes current and
# nodes their copies.

register_records = Table(
    "register_records",
    metadata,
    Column("register", String(32), primary_key=True),
    Column("key", String(160), primary_key=True),
    Column("owner", String(63), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
    Column("updated", UtcDateTime(), nullable=False),
    Column("expires", UtcDateTime(), nullable=True),
    Column("review_due", UtcDateTime(), nullable=True),
    Column("mode", String(16), nullable=False),
    Column("restrictions", Text(), nullable=False),
    Column("caveats", Text(), nullable=False),
    # the expiry and review dates the owner was last reminded of: a changed date reminds again
    Column("reminded_expiry", UtcDateTime(), nullable=True),
    Column("reminded_review", UtcDateTime(), nullable=True),
    Index(None, "register", "owner"),
    Index(None, "register", "expires"),
    Index(None, "register", "review_due"),
)

register_changes = Table(
    "register_changes",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("register", String(32), nullable=False),
    Column("key", String(160), nullable=False),
    Column("removed", Boolean(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "register", "seq"),
    sqlite_autoincrement=True,
)

# A node's offline copies of registers (ARCHITECTURE, "offline copy at nodes") and
# the enquiries answered from them, to repeat with the hub once it is back.

copy_entries = Table(
    "copy_entries",
    metadata,
    Column("register", String(32), primary_key=True),
    Column("key", String(160), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("entry", Text(), nullable=False),
    Index(None, "register", "key_hash"),
)

copy_state = Table(
    "copy_state",
    metadata,
    Column("register", String(32), primary_key=True),
    Column("position", BigInteger(), nullable=False),
    Column("synced_at", UtcDateTime(), nullable=True),
    Column("hub_key", Text(), nullable=False),
    Column("snapshot_done", Boolean(), nullable=False),
    Column("snapshot_key", String(160), nullable=False),
)

rechecks = Table(
    "rechecks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("register", String(32), nullable=False),
    Column("probe", Text(), nullable=False),
    Column("officer", String(64), nullable=True),
    Column("created", UtcDateTime(), nullable=False),
    Column("done", Boolean(), nullable=False),
    Index(None, "register", "done", "id"),
    sqlite_autoincrement=True,
)

# Follow-up cases between NCBs, their timelines, and sealed messages (the hub
# routes and keeps them but cannot read them; attachments are files beside the
# database, named by message and index).

cases = Table(
    "cases",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("register", String(32), nullable=False),
    Column("record_key", String(160), nullable=False),
    Column("owner", String(63), nullable=False),
    Column("owner_ncb", String(63), nullable=False),
    Column("enquirer", String(63), nullable=False),
    Column("enquirer_officer", String(64), nullable=True),
    Column("enquirer_ncb", String(63), nullable=False),
    Column("urgent", Boolean(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("updated", UtcDateTime(), nullable=False),
    Column("hit", Text(), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("note", Text(), nullable=False),
    Column("escalated", Boolean(), nullable=False),
    Index(None, "register", "record_key", "enquirer"),
    Index(None, "state", "deadline"),
)

case_timeline = Table(
    "case_timeline",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_number", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(63), nullable=False),
    Column("officer", String(64), nullable=True),
    Column("action", String(32), nullable=False),
    Column("detail", Text(), nullable=False),
    Index(None, "case_number", "id"),
    sqlite_autoincrement=True,
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sealed_id", String(64), nullable=False, unique=True),
    Column("case_number", String(32), nullable=True),
    Column("sender", String(63), nullable=False),
    Column("recipients", String(400), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
    Column("sealed", Text(), nullable=False),
    Column("attachments", Integer(), nullable=False),
    Index(None, "case_number", "id"),
    sqlite_autoincrement=True,
)

# A node's webhooks: national systems subscribed to the node's events, and the
# queue of deliveries to each (see policenet.node.webhooks). ``kinds`` is a JSON
# list of event-kind prefixes; ``queued_through`` the last inbox id considered.

webhooks = Table(
    "webhooks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("kinds", Text(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("max_attempts", Integer(), nullable=False),
    Column("queued_through", BigInteger(), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("webhook", String(64), primary_key=True),
    Column("event_id", BigInteger(), primary_key=True, autoincrement=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Index(None, "webhook", "state", "event_id"),
    Index(None, "state", "delivered_at"),
)

__all__ = [
    "UtcDateTime",
    "audit_entries",
    "case_timeline",
    "cases",
    "certificates",
    "copy_entries",
    "copy_state",
    "events",
    "inbox",
    "members",
    "messages",
    "metadata",
    "officer_sessions",
    "officers",
    "rechecks",
    "register_changes",
    "register_records",
    "system_tokens",
    "tree_heads",
    "webhook_deliveries",
    "webhooks",
]
