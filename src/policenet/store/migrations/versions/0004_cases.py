"""Follow-up cases, their timelines, and sealed messages between members.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("register", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(160), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("owner_ncb", sa.String(63), nullable=False),
        sa.Column("enquirer", sa.String(63), nullable=False),
        sa.Column("enquirer_officer", sa.String(64), nullable=True),
        sa.Column("enquirer_ncb", sa.String(63), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened", _TIME, nullable=False),
        sa.Column("deadline", _TIME, nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.Column("hit", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_cases"),
    )
    op.create_index(
        "ix_cases_register_record_key_enquirer", "cases", ["register", "record_key", "enquirer"]
    )
    op.create_index("ix_cases_state_deadline", "cases", ["state", "deadline"])
    op.create_table(
        "case_timeline",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_number", sa.String(32), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(63), nullable=False),
        sa.Column("officer", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_timeline"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_case_timeline_case_number_id", "case_timeline", ["case_number", "id"])
    op.create_table(
        "messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sealed_id", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(32), nullable=True),
        sa.Column("sender", sa.String(63), nullable=False),
        sa.Column("recipients", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("sealed_id", name="uq_messages_sealed_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_case_number_id", "messages", ["case_number", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_case_number_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_case_timeline_case_number_id", table_name="case_timeline")
    op.drop_table("case_timeline")
    op.drop_index("ix_cases_state_deadline", table_name="cases")
    op.drop_index("ix_cases_register_record_key_enquirer", table_name="cases")
    op.drop_table("cases")
