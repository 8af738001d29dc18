"""drop throttle_events: rate limits are counted by the limits library (Redis or memory)

Revision ID: c4d1e8a2f7b3
Revises: a7c41e0b9d25
Create Date: 2026-12-08 04:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4d1e8a2f7b3"
down_revision = "a7c41e0b9d25"
branch_labels = None
depends_on = None


def upgrade():
    # Counted events only live for a window of minutes: nothing in them is worth keeping.
    with op.batch_alter_table("throttle_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_events_occurred_at"))
        batch_op.drop_index("ix_throttle_events_lookup")
    op.drop_table("throttle_events")


def downgrade():
    op.create_table(
        "throttle_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_events")),
    )
    with op.batch_alter_table("throttle_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_throttle_events_lookup", ["scope", "key", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_throttle_events_occurred_at"), ["occurred_at"], unique=False
        )
