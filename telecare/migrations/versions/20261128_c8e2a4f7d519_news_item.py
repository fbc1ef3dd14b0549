"""news item

Revision ID: c8e2a4f7d519
Revises: b7c1f9e2d364
Create Date: 2026-11-29 00:10:00
"""

import sqlalchemy as sa
from alembic import op

import telecare.models.base

revision = "c8e2a4f7d519"
down_revision = "b7c1f9e2d364"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "news_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("event", "deadline", "initiative", name="newskind",
                                  native_enum=False, length=24), nullable=False),
        sa.Column("municipality", sa.String(length=6), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", telecare.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"],
                                name=op.f("fk_news_item_created_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_item")),
    )
    with op.batch_alter_table("news_item") as batch_op:
        batch_op.create_index("ix_news_item_valid", ["valid_until", "valid_from"], unique=False)


def downgrade() -> None:
    op.drop_table("news_item")
