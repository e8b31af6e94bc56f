"""One role matrix enforced in Postgres, proven shop registration and deletion (issue 18):
`authenticated` writes nothing but a shop's name and its own default shop directly; syncs,
cancels, connections and deletions go through SECURITY DEFINER functions that check the role;
internal functions are not executable by users. Covering indexes for the metrics reads
(bench/api.py).

Revision ID: 0019
Revises: 0018
"""

from storeline.core.migrate import apply_files

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/app_dashboard/95_role_matrix.sql",
        "platforms/shopify/sql/reporting/70_metrics_read_index.sql",
        "platforms/meta/sql/60_metrics_read_index.sql",
        "platforms/ga4/sql/50_metrics_read_index.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
