"""enrollee district

Revision ID: a9d3e7c15b42
Revises: f3a6c2e8b915
Create Date: 2026-11-28 23:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a9d3e7c15b42"
down_revision = "f3a6c2e8b915"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrollee") as batch_op:
        batch_op.add_column(sa.Column("district", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_enrollee_district"), ["district"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enrollee") as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollee_district"))
        batch_op.drop_column("district")
