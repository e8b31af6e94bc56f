"""One SQL source of truth for the platform list: the app_dashboard.platform domain replaces the
CHECK that 0001 repeated on shop_credentials, sync_jobs and sync_cursors.

Revision ID: 0013
Revises: 0012
"""

from storeline.core.migrate import apply_files

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/app_dashboard/90_platform_domain.sql",
        # dropped above (its columns change type); created again from the same file, unchanged
        "core/sql/reporting/40_sync_status.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
