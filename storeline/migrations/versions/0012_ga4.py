"""GA4: raw report pages, the traffic breakdown and day-total facts, reporting.web_traffic_daily.

Revision ID: 0012
Revises: 0011
"""

from storeline.core.migrate import apply_files

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_GA4 = "platforms/ga4/sql/"


def upgrade() -> None:
    apply_files(
        _GA4 + "05_helpers.sql",
        _GA4 + "10_staging.sql",
        _GA4 + "20_warehouse.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
