"""Month totals beside the daily rollups the metrics API sums (issue 18, benchmark goal):
revenue, ad spend and GA4 day totals, kept current by statement triggers on the daily tables and
filled from the rows already there, all by one scheme (core/sql/reporting/50_monthly_rollup.sql).

Revision ID: 0028
Revises: 0027
"""

from storeline.core.migrate import apply_files

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/reporting/50_monthly_rollup.sql",
        "platforms/shopify/sql/reporting/80_monthly_kpis.sql",
        "platforms/meta/sql/70_marketing_monthly.sql",
        "platforms/ga4/sql/60_web_traffic_monthly.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
