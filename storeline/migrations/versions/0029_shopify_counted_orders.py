"""reporting.shopify_daily_kpis names the orders that count once (rules 1 and 19 of
docs/shopify-sales-report.md, a `counted` CTE) instead of in each branch: the same figures, one
place for the rule. Applied again so a database upgraded earlier holds the same definition as a
new one.

Revision ID: 0029
Revises: 0028
"""

from storeline.core.migrate import apply_files

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("platforms/shopify/sql/reporting/75_shopify_daily_kpis.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
