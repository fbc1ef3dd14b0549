"""enrollee municipality and state index

Revision ID: f3a6c2e8b915
Revises: e2b9d4f61a07
Create Date: 2026-11-28 23:30:00
"""

from alembic import op

revision = "f3a6c2e8b915"
down_revision = "e2b9d4f61a07"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrollee") as batch_op:
        batch_op.drop_index("ix_enrollee_municipality_istat")
        batch_op.create_index("ix_enrollee_municipality_state", ["municipality_istat", "state"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enrollee") as batch_op:
        batch_op.drop_index("ix_enrollee_municipality_state")
        batch_op.create_index("ix_enrollee_municipality_istat", ["municipality_istat"],
                              unique=False)
