"""Shopify refunded additional fees (docs/shopify-sales-report.md rule 13, issue 13): a fee given
back (a RefundAgreement's AdditionalFeeSale, RETURN) lowers additional_fees and taxes on the
refund's day in reporting.shopify_daily_kpis. The rule lives in that function's one definition,
applied again here for databases that ran revision 0016 before the rule was added to it.

Revision ID: 0025
Revises: 0024
"""

from storeline.core.migrate import apply_files

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("platforms/shopify/sql/reporting/75_shopify_daily_kpis.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
