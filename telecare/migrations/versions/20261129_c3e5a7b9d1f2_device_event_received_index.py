"""device events by time: /metrics counts the last 24 hours at each scrape

Revision ID: c3e5a7b9d1f2
Revises: b8d2f4a6c1e3
Create Date: 2026-11-29 03:08:28.832566
"""

from alembic import op
import sqlalchemy as sa
import telecare.models.base


revision = 'c3e5a7b9d1f2'
down_revision = 'b8d2f4a6c1e3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('device_event', schema=None) as batch_op:
        batch_op.create_index('ix_device_event_received', ['received_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('device_event', schema=None) as batch_op:
        batch_op.drop_index('ix_device_event_received')

