"""campaign lists_due_on: the day units' lists are due

Revision ID: f3a1c9d27b10
Revises: e5bf5b612dc6
Create Date: 2026-11-25 08:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3a1c9d27b10"
down_revision = "e5bf5b612dc6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lists_due_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("lists_due_on")
