"""merge the privacy and service-beat branches

Revision ID: b8d2f4a6c1e3
Revises: 4ae743e4f2a5, ce1e7892ff79
Create Date: 2026-11-29 03:00:00
"""

revision = "b8d2f4a6c1e3"
down_revision = ("4ae743e4f2a5", "ce1e7892ff79")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
