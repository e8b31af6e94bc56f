"""Staging retention for every platform, run by the worker (issue 14): staging tables register
in storeline_private.staging_tables with how long their lines are kept, and the reaper calls
storeline_private.prune_staging() about once an hour. Before this, Shopify's prune existed but
nothing called it, and Meta, GA4 and HubSpot had none.

Revision ID: 0024
Revises: 0023
"""

from storeline.core.migrate import apply_files

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/app_dashboard/98_staging_retention.sql",
        "platforms/shopify/sql/staging_ingest/90_retention.sql",
        "platforms/meta/sql/90_retention.sql",
        "platforms/ga4/sql/90_retention.sql",
        "platforms/hubspot/sql/90_retention.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
