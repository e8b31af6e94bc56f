"""Shopify's own sales report beside the product's (issue 13, items 3 and 4): Shopify's daily
figures per shop-day (reporting.shopify_reported_daily), each shop's latest reconciliation
(reporting.shopify_report_checks) and order-level coverage (reporting.shopify_order_coverage);
reporting.shopify_report_comparison says per day whether they agree and by how much, and
reporting.daily_figures serves Shopify's figures as provisional until order-level data lands.

Revision ID: 0017
Revises: 0016
"""

from storeline.core.migrate import apply_files

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("platforms/shopify/sql/reporting/60_shopify_sales_report.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
