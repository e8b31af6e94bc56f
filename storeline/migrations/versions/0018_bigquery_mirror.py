"""The BigQuery mirror (issue 17): BIGQUERY as an export platform of the job engine, per-table
mirror watermarks, a mirror_version on every mirrored table and tombstones for deleted rows.

Revision ID: 0018
Revises: 0017
"""

from storeline.core.migrate import apply_files

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("export/bigquery/sql/10_mirror.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
