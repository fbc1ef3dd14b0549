"""privacy: erased_at on enrollee; the audit log append-only

Revision ID: 4ae743e4f2a5
Revises: f1b2c3d4e5a6
Create Date: 2026-11-29 02:47:57.891055
"""

from alembic import op
import sqlalchemy as sa
import telecare.models.base


revision = '4ae743e4f2a5'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None

# The audit log is evidence of who read or changed health data: the database itself refuses
# to change or remove an entry, whatever the application (or someone at a SQL prompt with the
# service's credentials) asks. Only INSERT is allowed.
#
# A later migration that rebuilds audit_entry (SQLite batch mode copies the table, drops the
# old one and renames the copy) loses these triggers with the old table: it must create them
# again. tests/privacy/test_audit_log.py fails if they are missing at head.
REFUSAL = "audit_entry is append-only: entries cannot be changed or removed"
SQLITE_TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")
PG_FUNCTION = "audit_entry_refuse_change"


def upgrade() -> None:
    with op.batch_alter_table('enrollee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', telecare.models.base.UTCDateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        # OR REPLACE: Base.metadata.drop_all (telecare.migrate.recreate) drops the table and
        # its triggers but not the function, and the next upgrade must still succeed.
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$""")
        op.execute(f"""
            CREATE TRIGGER audit_entry_append_only
            BEFORE UPDATE OR DELETE ON audit_entry
            FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()""")
        # DELETE triggers do not fire on TRUNCATE: a statement trigger closes that door too.
        op.execute(f"""
            CREATE TRIGGER audit_entry_no_truncate
            BEFORE TRUNCATE ON audit_entry
            FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()""")
    else:
        for name, event in zip(SQLITE_TRIGGERS, ("UPDATE", "DELETE"), strict=True):
            op.execute(f"""
                CREATE TRIGGER {name} BEFORE {event} ON audit_entry
                BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")

    with op.batch_alter_table('enrollee', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
