"""cap message

Revision ID: e2b9d4f61a07
Revises: c4e8a1d93f20
Create Date: 2026-11-28 23:10:00
"""

import sqlalchemy as sa
from alembic import op

import telecare.models.base

revision = "e2b9d4f61a07"
down_revision = "c4e8a1d93f20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cap_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent", telecare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("msg_type", sa.String(length=20), nullable=False),
        sa.Column("state", sa.Enum("active", "superseded", "cancelled", "not_delivered",
                                   name="capstate", native_enum=False, length=24),
                  nullable=False),
        sa.Column("expires", telecare.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("area_istat", sa.JSON(), nullable=False),
        sa.Column("polygons", sa.JSON(), nullable=False),
        sa.Column("heat_level", sa.SmallInteger(), nullable=True),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("received_at", telecare.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["replaced_by_id"], ["cap_message.id"],
                                name=op.f("fk_cap_message_replaced_by_id_cap_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cap_message")),
        sa.UniqueConstraint("sender", "identifier", name="uq_cap_message_sender"),
    )
    with op.batch_alter_table("cap_message") as batch_op:
        batch_op.create_index(batch_op.f("ix_cap_message_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("cap_message")
