"""campaigns and their deliveries

Revision ID: b7c1f9e2d364
Revises: a9d3e7c15b42
Create Date: 2026-11-29 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import telecare.models.base

revision = "b7c1f9e2d364"
down_revision = "a9d3e7c15b42"
branch_labels = None
depends_on = None

UTC_DATETIME = telecare.models.base.UTCDateTime(timezone=True)


def _enum(name, *values, length=24):
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("campaignkind", "scam", "heat_warning", "heat_check", "cap"),
                  nullable=False),
        sa.Column("state", _enum("campaignstate", "queued", "cancelled", "done"),
                  nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("scam_kind", _enum("scamkind", "fake_carabiniere", "fake_utility_worker",
                                     "fake_relative", "phone_fraud", "other"), nullable=True),
        sa.Column("area_municipality", sa.String(length=6), nullable=True),
        sa.Column("area_district", sa.Integer(), nullable=True),
        sa.Column("with_neighbours", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("cap_message_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=100), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["cap_message_id"], ["cap_message.id"],
                                name=op.f("fk_campaign_cap_message_id_cap_message")),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"],
                                name=op.f("fk_campaign_created_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_campaign_dedupe_key")),
    )
    op.create_table(
        "campaign_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("enrollee_id", sa.Integer(), nullable=False),
        sa.Column("state", _enum("deliverystate", "queued", "sending", "sent", "delivered",
                                 "failed", "cancelled"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_campaign_delivery_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["enrollee_id"], ["enrollee.id"],
                                name=op.f("fk_campaign_delivery_enrollee_id_enrollee")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_delivery")),
        sa.UniqueConstraint("campaign_id", "enrollee_id", name="uq_campaign_delivery_enrollee"),
    )
    with op.batch_alter_table("campaign_delivery") as batch_op:
        batch_op.create_index("ix_campaign_delivery_due", ["state", "next_attempt_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_delivery_campaign_id"), ["campaign_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("campaign_delivery")
    op.drop_table("campaign")
