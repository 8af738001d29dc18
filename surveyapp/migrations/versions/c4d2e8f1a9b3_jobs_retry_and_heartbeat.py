"""jobs: what to run (for a retry), attempts, start and heartbeat times

Revision ID: c4d2e8f1a9b3
Revises: 216162cad47c
Create Date: 2026-12-08 04:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4d2e8f1a9b3"
down_revision = "216162cad47c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("func_path", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("args", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("args")
        batch_op.drop_column("func_path")
