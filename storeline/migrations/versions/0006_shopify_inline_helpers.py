"""Shopify helpers the planner can inline: shopify_gid_id and shopify_nodes as single
expressions (same results), so COPY's generated columns and the transform stop paying a
SQL-function call (and a regular expression) per row.

Revision ID: 0006
Revises: 0005
"""

from storeline.core.migrate import apply_files

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("platforms/shopify/sql/core_warehouse/40_shopify_inline_helpers.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
