"""Request budgets shared by a whole worker fleet (issue 14: a Meta app's budget shared fairly
across every shop; GA4 quota per Cloud project and property; a HubSpot portal's tier across the
shops that share it): storeline_private.source_budgets and its two functions.

Revision ID: 0022
Revises: 0021
"""

from storeline.core.migrate import apply_files

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/app_dashboard/97_source_budgets.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
