"""API writes RLS cannot express: connect/disconnect a platform, fold a sync into a queued job.

Revision ID: 0009
Revises: 0008
"""

from storeline.core.migrate import apply_files

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/app_dashboard/75_job_type_strength.sql",
        "core/sql/app_dashboard/80_api_writes.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
