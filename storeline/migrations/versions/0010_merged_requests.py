"""Merged requests: a stronger request joining a job gives it a fresh attempt budget and a clean
progress, the upgrade is logged, and every event of a merge names its own cause.

Revision ID: 0010
Revises: 0009
"""

from storeline.core.migrate import apply_files

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/app_dashboard/85_merged_requests.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
