"""Retention: remember which expiry and review dates owners were reminded of.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("register_records") as batch:
        batch.add_column(sa.Column("reminded_expiry", _TIME, nullable=True))
        batch.add_column(sa.Column("reminded_review", _TIME, nullable=True))
    op.create_index(
        "ix_register_records_register_expires", "register_records", ["register", "expires"]
    )
    op.create_index(
        "ix_register_records_register_review_due", "register_records", ["register", "review_due"]
    )


def downgrade() -> None:
    op.drop_index("ix_register_records_register_review_due", table_name="register_records")
    op.drop_index("ix_register_records_register_expires", table_name="register_records")
    with op.batch_alter_table("register_records") as batch:
        batch.drop_column("reminded_review")
        batch.drop_column("reminded_expiry")
