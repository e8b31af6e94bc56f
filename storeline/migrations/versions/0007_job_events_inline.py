"""Job engine: the claim and the batched completion write their own transition events; the
statement trigger skips their transactions and logs every other transition as before.

Revision ID: 0007
Revises: 0006
"""

from storeline.core.migrate import apply_files

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/app_dashboard/70_job_events_inline.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
