"""stratum labels as text: a label joins list texts (unit, group, subgroup, field), each
within the list's cell limits, so it can pass 255 characters (issue 12.8)

Revision ID: e1f4b7c2a8d3
Revises: 5e7a1c0d9b42
Create Date: 2026-12-08 04:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1f4b7c2a8d3"
down_revision = "5e7a1c0d9b42"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("respondents", "responses"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("stratum", existing_type=sa.String(length=255), type_=sa.Text())


def downgrade():
    for table in ("respondents", "responses"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("stratum", existing_type=sa.Text(), type_=sa.String(length=255))
