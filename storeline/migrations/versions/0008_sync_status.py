"""reporting.sync_status: each connected platform's state for the API, without its secrets.

Revision ID: 0008
Revises: 0007
"""

from storeline.core.migrate import apply_files

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/reporting/40_sync_status.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
