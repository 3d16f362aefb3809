"""legacy_imports: what the legacy import brought in, per user.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "legacy_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("legacy_id", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_legacy_imports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_imports")),
        sa.UniqueConstraint(
            "user_id", "kind", "legacy_id", name=op.f("uq_legacy_imports_user_id_kind_legacy_id")
        ),
    )


def downgrade():
    op.drop_table("legacy_imports")
