"""The first schema: the hub's and the node's tables.

Revision ID: 0001
Revises:
Created: the first release

A migration is a frozen record of a change, so it spells its tables out
instead of importing :mod:`policenet.store.schema`, which moves on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# INTEGER PRIMARY KEY is what makes SQLite number rows itself.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("code", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("parent", sa.String(63), nullable=True),
        sa.Column("registers", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("copy_enquiries_to_ncb", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_members"),
    )
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(40), nullable=False),
        sa.Column("member", sa.String(63), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("not_before", _TIME, nullable=False),
        sa.Column("not_after", _TIME, nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("serial", name="pk_certificates"),
    )
    op.create_index("ix_certificates_member_not_before", "certificates", ["member", "not_before"])
    op.create_table(
        "audit_entries",
        sa.Column("seq", _ID, autoincrement=False, nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    op.create_table(
        "tree_heads",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tree_heads"),
    )
    op.create_index(
        "ix_tree_heads_tree_size_timestamp_ms", "tree_heads", ["tree_size", "timestamp_ms"]
    )
    op.create_table(
        "events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_recipient_id", "events", ["recipient", "id"])
    op.create_table(
        "officers",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("totp_secret", sa.String(255), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _TIME, nullable=True),
        sa.Column("last_totp_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_officers"),
    )
    op.create_table(
        "officer_sessions",
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("csrf_token", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_officer_sessions"),
    )
    op.create_index("ix_officer_sessions_username", "officer_sessions", ["username"])
    op.create_table(
        "system_tokens",
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_system_tokens"),
        sa.UniqueConstraint("name", name="uq_system_tokens_name"),
    )
    op.create_table(
        "inbox",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("recipient", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
    )


def downgrade() -> None:
    for table in (
        "inbox",
        "system_tokens",
        "officer_sessions",
        "officers",
        "events",
        "tree_heads",
        "audit_entries",
        "certificates",
        "members",
    ):
        op.drop_table(table)
