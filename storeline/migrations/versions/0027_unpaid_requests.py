"""A user's sync request for an agency that is not paying is refused in Postgres on every path
(issue 19: "a manual sync answers a 402"; issue 18: rules enforced in Postgres, not only in
routes): a trigger on sync_jobs, since the role matrix's SECURITY DEFINER entry points are not
subject to row-level security.

Revision ID: 0027
Revises: 0026
"""

from storeline.core.migrate import apply_files

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files("core/sql/app_dashboard/99_unpaid_requests.sql")


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
