"""HubSpot: raw staging, CRM facts (deals, contacts, companies, pipeline stages), reporting
pipeline views.

Revision ID: 0014
Revises: 0013
"""

from storeline.core.migrate import apply_files

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_HUBSPOT = "platforms/hubspot/sql/"


def upgrade() -> None:
    apply_files(
        _HUBSPOT + "05_helpers.sql",
        _HUBSPOT + "10_staging.sql",
        _HUBSPOT + "20_warehouse.sql",
        _HUBSPOT + "30_reporting.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
