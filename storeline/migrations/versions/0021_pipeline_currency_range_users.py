"""HubSpot deal currency (issue 16, docs/platforms/hubspot.md "Deal currency"): deals keep the
portal's company currency and HubSpot's amount in it; a deal without `deal_currency_code` is in
the company currency, a deal in another currency counts through HubSpot's conversion when the
company currency is the shop's, and only the rest are flagged. The pipeline views read them.
GA4 range users (issue 15, docs/platforms/ga4.md item 5): users over the last 7 / 30 days and
calendar months, as GA4 counts them over each range.

Revision ID: 0021
Revises: 0020
"""

from storeline.core.migrate import apply_files

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "platforms/hubspot/sql/40_deal_currency.sql",
        "platforms/ga4/sql/30_range_users.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
