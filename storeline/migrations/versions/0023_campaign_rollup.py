"""Top campaigns read a campaign-day rollup, not the ad-day facts (issue 14: "read from
rollups, not facts"): reporting.campaign_daily, filled from the facts already there.

Revision ID: 0023
Revises: 0022
"""

from storeline.core.migrate import apply_files

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("platforms/meta/sql/40_campaign_rollup.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
