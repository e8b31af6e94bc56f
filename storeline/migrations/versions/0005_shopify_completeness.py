"""Shopify completeness: duties and additional fees in the warehouse and the revenue rollup;
restamping a shop's local days when its timezone changes.

Revision ID: 0005
Revises: 0004
"""

from storeline.core.migrate import apply_files

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "platforms/shopify/sql/core_warehouse/20_shopify_duties.sql",
        "platforms/shopify/sql/reporting/20_shopify_duties.sql",
        "platforms/shopify/sql/reporting/30_shopify_kpis.sql",
        "platforms/shopify/sql/core_warehouse/30_shopify_restamp.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
