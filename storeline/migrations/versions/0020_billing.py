"""Stripe billing (issue 19): the event log that makes the webhook idempotent, the event time
that keeps out-of-order events from regressing an agency's status, and Postgres refusing a
user's sync request while the agency's subscription is not active. Also the index the staleness
scheduler finds due pairs with (bench/fleet.py measured its tick).

Revision ID: 0020
Revises: 0019
"""

from storeline.core.migrate import apply_files

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/app_dashboard/94_billing.sql",
        "core/sql/app_dashboard/96_scheduler_due_index.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
