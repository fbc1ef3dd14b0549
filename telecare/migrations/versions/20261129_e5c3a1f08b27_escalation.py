"""escalation: the ladder on the alarm, its notifications, policies, device commands

Revision ID: e5c3a1f08b27
Revises: d9f0b1c2e3a4
Create Date: 2026-11-29 00:45:00
"""

from alembic import op
import sqlalchemy as sa
import telecare.models.base


revision = 'e5c3a1f08b27'
down_revision = 'd9f0b1c2e3a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation_policy',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('updated_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_escalation_policy_updated_by_id_app_user')),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_escalation_policy'))
    )
    op.create_table('device_command',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('command', sa.String(length=40), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('created_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_command_device_id_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_command'))
    )
    with op.batch_alter_table('device_command', schema=None) as batch_op:
        batch_op.create_index('ix_device_command_pending', ['sent_at', 'id'], unique=False)

    op.create_table('alarm_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False, server_default='-1'),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'confirmed', 'unanswered', 'failed', 'cancelled', name='notificationstate', native_enum=False, length=24), nullable=False),
    sa.Column('call_attempt_id', sa.Integer(), nullable=True),
    sa.Column('sms_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarm.id'], name=op.f('fk_alarm_notification_alarm_id_alarm'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_attempt_id'], ['call_attempt.id'], name=op.f('fk_alarm_notification_call_attempt_id_call_attempt')),
    sa.ForeignKeyConstraint(['sms_id'], ['sms_message.id'], name=op.f('fk_alarm_notification_sms_id_sms_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_alarm_notification_key'))
    )
    with op.batch_alter_table('alarm_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_notification_alarm_id'), ['alarm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alarm_notification_call_attempt_id'), ['call_attempt_id'], unique=False)
        batch_op.create_index('ix_alarm_notification_state', ['state', 'created_at'], unique=False)

    with op.batch_alter_table('alarm', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('policy', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ladder', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('step', sa.Integer(), nullable=False, server_default='-1'))
        batch_op.add_column(sa.Column('next_step_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('time_box_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ack_timeout_s', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('escalated_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_acknowledged_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('probable_false_alarm', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('claimed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_alarm_next_step_at', ['next_step_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_alarm_claimed_by_id_app_user'), 'app_user', ['claimed_by_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('alarm', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alarm_claimed_by_id_app_user'), type_='foreignkey')
        batch_op.drop_index('ix_alarm_next_step_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by_id')
        batch_op.drop_column('probable_false_alarm')
        batch_op.drop_column('first_acknowledged_at')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('ack_timeout_s')
        batch_op.drop_column('time_box_at')
        batch_op.drop_column('next_step_at')
        batch_op.drop_column('step')
        batch_op.drop_column('ladder')
        batch_op.drop_column('policy')
        batch_op.drop_column('code')

    with op.batch_alter_table('alarm_notification', schema=None) as batch_op:
        batch_op.drop_index('ix_alarm_notification_state')
        batch_op.drop_index(batch_op.f('ix_alarm_notification_call_attempt_id'))
        batch_op.drop_index(batch_op.f('ix_alarm_notification_alarm_id'))

    op.drop_table('alarm_notification')
    with op.batch_alter_table('device_command', schema=None) as batch_op:
        batch_op.drop_index('ix_device_command_pending')

    op.drop_table('device_command')
    op.drop_table('escalation_policy')
