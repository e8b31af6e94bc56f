"""Meta Ads: raw insights staging, ad-day and daily marketing facts, reporting.marketing_daily.

Revision ID: 0011
Revises: 0010
"""

from storeline.core.migrate import apply_files

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_META = "platforms/meta/sql/"


def upgrade() -> None:
    apply_files(
        _META + "05_helpers.sql",
        _META + "10_staging.sql",
        _META + "20_warehouse.sql",
        _META + "30_reporting.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
