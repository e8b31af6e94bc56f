"""Shopify revenue rules of docs/shopify-sales-report.md the product did not follow yet
(issue 13): gift card lines are never sales (rule 5); tax-inclusive prices are
reported net of the tax they contain (rules 3, 4, 6, 10); tax on duties and additional fees
is in taxes (rule 11); an order in another shop-money currency is never summed and is listed
in reporting.shopify_foreign_money_orders (rule 19). This revision adds the figures and the view
those rules need; the rules themselves reach reporting.shopify_daily_kpis with revision 0016
(platforms/shopify/sql/reporting/75_shopify_daily_kpis.sql, their one definition).

Revision ID: 0015
Revises: 0014
"""

from storeline.core.migrate import apply_files

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "platforms/shopify/sql/core_warehouse/50_shopify_revenue_rules.sql",
        "platforms/shopify/sql/reporting/40_shopify_revenue_rules.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
