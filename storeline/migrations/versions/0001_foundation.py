"""Foundation: Supabase compatibility, schemas, tenants, credentials, jobs, RLS.

Revision ID: 0001
Revises:
"""

from storeline.core.migrate import apply_files

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files(
        "core/sql/app_dashboard/00_supabase_compat.sql",
        "core/sql/app_dashboard/01_schemas.sql",
        "core/sql/app_dashboard/10_tenants.sql",
        "core/sql/app_dashboard/20_credentials.sql",
        "core/sql/app_dashboard/30_sync_jobs.sql",
        "core/sql/app_dashboard/40_rls.sql",
    )


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
