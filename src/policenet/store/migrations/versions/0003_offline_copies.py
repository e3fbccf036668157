"""A node's offline copies of registers, and enquiries to re-check with the hub.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "copy_entries",
        sa.Column("register", sa.String(32), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("register", "key", name="pk_copy_entries"),
    )
    op.create_index("ix_copy_entries_register_key_hash", "copy_entries", ["register", "key_hash"])
    op.create_table(
        "copy_state",
        sa.Column("register", sa.String(32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", _TIME, nullable=True),
        sa.Column("hub_key", sa.Text(), nullable=False),
        sa.Column("snapshot_done", sa.Boolean(), nullable=False),
        sa.Column("snapshot_key", sa.String(160), nullable=False),
        sa.PrimaryKeyConstraint("register", name="pk_copy_state"),
    )
    op.create_table(
        "rechecks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("register", sa.String(32), nullable=False),
        sa.Column("probe", sa.Text(), nullable=False),
        sa.Column("officer", sa.String(64), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rechecks"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rechecks_register_done_id", "rechecks", ["register", "done", "id"])


def downgrade() -> None:
    op.drop_index("ix_rechecks_register_done_id", table_name="rechecks")
    op.drop_table("rechecks")
    op.drop_table("copy_state")
    op.drop_index("ix_copy_entries_register_key_hash", table_name="copy_entries")
    op.drop_table("copy_entries")
