"""respondents.token_sealed: the letter's token and code sealed (AES-GCM), so a lost letter
can be re-printed with the same code

Revision ID: b8e2d4f61a09
Revises: f27bfce498d9
Create Date: 2026-12-08 04:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b8e2d4f61a09"
down_revision = "f27bfce498d9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_sealed", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.drop_column("token_sealed")
