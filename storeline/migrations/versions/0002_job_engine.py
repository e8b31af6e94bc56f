"""Job engine: transition events + NOTIFY trigger, scheduler and pruning indexes.

Revision ID: 0002
Revises: 0001
"""

from storeline.core.migrate import apply_files

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/app_dashboard/50_job_engine.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
