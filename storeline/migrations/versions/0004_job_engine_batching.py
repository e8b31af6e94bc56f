"""Job engine batching: transition events written per statement instead of per row.

Revision ID: 0004
Revises: 0003
"""

from storeline.core.migrate import apply_files

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/app_dashboard/60_job_engine_batching.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
