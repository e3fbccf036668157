"""The shared registers: records with their envelopes, the change feed, agencies that report.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("may_report", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "register_records",
        sa.Column("register", sa.String(32), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.Column("expires", _TIME, nullable=True),
        sa.Column("review_due", _TIME, nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("restrictions", sa.Text(), nullable=False),
        sa.Column("caveats", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("register", "key", name="pk_register_records"),
    )
    op.create_index("ix_register_records_register_owner", "register_records", ["register", "owner"])
    op.create_table(
        "register_changes",
        sa.Column("seq", _ID, autoincrement=True, nullable=False),
        sa.Column("register", sa.String(32), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_register_changes"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_register_changes_register_seq", "register_changes", ["register", "seq"])


def downgrade() -> None:
    op.drop_index("ix_register_changes_register_seq", table_name="register_changes")
    op.drop_table("register_changes")
    op.drop_index("ix_register_records_register_owner", table_name="register_records")
    op.drop_table("register_records")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("may_report")
