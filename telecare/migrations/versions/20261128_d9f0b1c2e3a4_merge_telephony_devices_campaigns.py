"""merge the telephony, devices and campaigns branches

Revision ID: d9f0b1c2e3a4
Revises: a7f3c91e2b58, d1e5b7c0a4f2, c8e2a4f7d519
Create Date: 2026-11-28 23:55:00
"""

revision = "d9f0b1c2e3a4"
down_revision = ("a7f3c91e2b58", "d1e5b7c0a4f2", "c8e2a4f7d519")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
