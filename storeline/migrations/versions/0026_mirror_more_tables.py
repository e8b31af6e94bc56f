"""The BigQuery mirror carries the tables revisions 0021 (GA4 range users) and 0023 (the
campaign rollup) created after it.

Revision ID: 0026
Revises: 0025
"""

from storeline.core.migrate import apply_files

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("export/bigquery/sql/20_mirror_more_tables.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
