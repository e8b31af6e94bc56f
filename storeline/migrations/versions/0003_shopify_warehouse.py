"""Shopify warehouse: raw staging rows, typed core_warehouse tables, revenue rollup and view.

Revision ID: 0003
Revises: 0002
"""

from storeline.core.migrate import apply_files

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "platforms/shopify/sql/staging_ingest/10_shopify.sql",
        "platforms/shopify/sql/core_warehouse/10_shopify.sql",
        "platforms/shopify/sql/reporting/10_revenue.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
