"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from storeline.migrate import apply_files

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_files()


def downgrade() -> None:
    raise NotImplementedError("Storeline migrates forward; use `storeline db reset`")
