"""Shopify order shapes of docs/shopify-sales-report.md (issues 13 and 22): order edits on the
edit's day (rules 1, 2, 7), refund money on no refund line (rule 8), exchanges and the fees kept
on returns (rules 2, 14, the new return_fees column of reporting.shop_daily_kpis and
reporting.daily_revenue, in total sales).

Revision ID: 0016
Revises: 0015
"""

from storeline.core.migrate import apply_files

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "platforms/shopify/sql/core_warehouse/60_shopify_order_shapes.sql",
        "platforms/shopify/sql/reporting/50_shopify_order_shapes.sql",
        "platforms/shopify/sql/reporting/75_shopify_daily_kpis.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
