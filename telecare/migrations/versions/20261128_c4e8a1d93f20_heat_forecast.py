"""heat forecast

Revision ID: c4e8a1d93f20
Revises: 6c2d2d276adb
Create Date: 2026-11-28 23:00:00
"""

import sqlalchemy as sa
from alembic import op

import telecare.models.base

revision = "c4e8a1d93f20"
down_revision = "6c2d2d276adb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heat_forecast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("updated_at", telecare.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heat_forecast")),
        sa.UniqueConstraint("city", "day", name="uq_heat_forecast_city_day"),
    )


def downgrade() -> None:
    op.drop_table("heat_forecast")
