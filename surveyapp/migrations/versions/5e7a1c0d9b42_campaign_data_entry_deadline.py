"""campaign data-entry deadline: interviews and paper forms in hand keyed after closing

``entry_deadline``: the last day (Vietnam's calendar) interviews and paper forms can still
be entered once the campaign is closed; ``entry_closed_at``: when data entry ended (the
deadline passed, or the administrator ended it) and the late answers left the ballot box
(issue 10 item 5).

Revision ID: 5e7a1c0d9b42
Revises: d7e3a1b5c9f2
Create Date: 2026-12-08 04:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e7a1c0d9b42"
down_revision = "d7e3a1b5c9f2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("entry_closed_at", sa.DateTime(), nullable=True))
    # Campaigns closed before this revision had no data entry after closing.
    campaigns = sa.table(
        "campaigns",
        sa.column("status", sa.String()),
        sa.column("entry_closed_at", sa.DateTime()),
    )
    op.execute(
        campaigns.update()
        .where(campaigns.c.status == "closed")
        .values(entry_closed_at=sa.func.current_timestamp())
    )


def downgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("entry_closed_at")
        batch_op.drop_column("entry_deadline")
