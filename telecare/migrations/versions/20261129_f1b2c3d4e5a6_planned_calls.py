"""planned calls: the weekly call, reassurance and birthdays; each enrollee's call slot

Revision ID: f1b2c3d4e5a6
Revises: e5c3a1f08b27
Create Date: 2026-11-29 02:14:48.110949
"""

from alembic import op
import sqlalchemy as sa
import telecare.models.base


revision = 'f1b2c3d4e5a6'
down_revision = 'e5c3a1f08b27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('planned_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('courtesy', 'reassurance', 'birthday', name='callkind', native_enum=False, length=24), nullable=False),
    sa.Column('mode', sa.Enum('automated', 'operator', name='callmode', native_enum=False, length=24), nullable=False),
    sa.Column('occasion', sa.Date(), nullable=False),
    sa.Column('planned_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('planned', 'calling', 'done', 'missed', 'cancelled', name='plannedcallstate', native_enum=False, length=24), nullable=False),
    sa.Column('next_attempt_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('attempt_started_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('call_attempt_id', sa.Integer(), nullable=True),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Enum('well', 'concern', 'help_requested', 'operator', 'no_answer', 'wrong_number', 'failed', name='callresult', native_enum=False, length=24), nullable=True),
    sa.Column('button_check', sa.Enum('asked', 'verified', 'flagged', name='buttoncheck', native_enum=False, length=24), nullable=True),
    sa.Column('button_asked_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('alarm_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarm.id'], name=op.f('fk_planned_call_alarm_id_alarm')),
    sa.ForeignKeyConstraint(['call_attempt_id'], ['call_attempt.id'], name=op.f('fk_planned_call_call_attempt_id_call_attempt')),
    sa.ForeignKeyConstraint(['enrollee_id'], ['enrollee.id'], name=op.f('fk_planned_call_enrollee_id_enrollee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operator_id'], ['app_user.id'], name=op.f('fk_planned_call_operator_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_call')),
    sa.UniqueConstraint('enrollee_id', 'kind', 'occasion', name='uq_planned_call_occasion')
    )
    with op.batch_alter_table('planned_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_call_enrollee_id'), ['enrollee_id'], unique=False)
        batch_op.create_index('ix_planned_call_state_next', ['state', 'next_attempt_at'], unique=False)

    op.create_table('planned_call_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('planned_call_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', telecare.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.Enum('well', 'concern', 'help_requested', 'operator', 'no_answer', 'wrong_number', 'failed', name='callresult', native_enum=False, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('call_attempt_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['call_attempt_id'], ['call_attempt.id'], name=op.f('fk_planned_call_log_call_attempt_id_call_attempt')),
    sa.ForeignKeyConstraint(['planned_call_id'], ['planned_call.id'], name=op.f('fk_planned_call_log_planned_call_id_planned_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_planned_call_log_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_call_log'))
    )
    with op.batch_alter_table('planned_call_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_call_log_planned_call_id'), ['planned_call_id'], unique=False)

    with op.batch_alter_table('enrollee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_weekday', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('call_window_start', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('call_window_end', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('call_mode', sa.Enum('automated', 'operator', name='callmode', native_enum=False, length=24), server_default='automated', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('enrollee', schema=None) as batch_op:
        batch_op.drop_column('call_mode')
        batch_op.drop_column('call_window_end')
        batch_op.drop_column('call_window_start')
        batch_op.drop_column('call_weekday')

    with op.batch_alter_table('planned_call_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_call_log_planned_call_id'))

    op.drop_table('planned_call_log')
    with op.batch_alter_table('planned_call', schema=None) as batch_op:
        batch_op.drop_index('ix_planned_call_state_next')
        batch_op.drop_index(batch_op.f('ix_planned_call_enrollee_id'))

    op.drop_table('planned_call')
