"""service beats: each running part of each `telecare serve` process says it is alive

Revision ID: ce1e7892ff79
Revises: f1b2c3d4e5a6
Create Date: 2026-11-29 02:48:37.480025
"""

from alembic import op
import sqlalchemy as sa
import telecare.models.base


revision = 'ce1e7892ff79'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_beat',
    sa.Column('component', sa.String(length=40), nullable=False),
    sa.Column('instance', sa.String(length=120), nullable=False),
    sa.Column('started_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_beat_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('component', 'instance', name=op.f('pk_service_beat'))
    )


def downgrade() -> None:
    op.drop_table('service_beat')
