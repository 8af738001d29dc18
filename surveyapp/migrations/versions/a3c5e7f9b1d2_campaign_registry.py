"""campaign registry: a campaign surveys one province's unit registry

``campaigns.registry_id`` restricts the units a campaign lists and counts (lists' status,
upload and rating pickers). Existing campaigns take the registry most of the units their
lists and rating targets use; a campaign without any stays unrestricted (NULL).

Revision ID: a3c5e7f9b1d2
Revises: e1f4b7c2a8d3
Create Date: 2026-12-08 05:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c5e7f9b1d2"
down_revision = "e1f4b7c2a8d3"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a referencing column in place; batch mode would copy the table, and
        # dropping the old one fails while lists and draws point at campaigns.
        op.execute(
            "ALTER TABLE campaigns ADD COLUMN registry_id INTEGER REFERENCES registries (id)"
        )
    else:
        op.add_column("campaigns", sa.Column("registry_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_campaigns_registry_id_registries",
            "campaigns",
            "registries",
            ["registry_id"],
            ["id"],
        )
    op.create_index("ix_campaigns_registry_id", "campaigns", ["registry_id"])
    op.execute(
        """
        UPDATE campaigns SET registry_id = (
            SELECT u.registry_id FROM units u
            WHERE u.registry_id IS NOT NULL AND (
                u.id IN (SELECT f.unit_id FROM frame_uploads f WHERE f.campaign_id = campaigns.id)
                OR u.id IN (SELECT r.source_unit_id FROM rating_targets r
                            WHERE r.campaign_id = campaigns.id)
                OR u.id IN (SELECT r.rated_unit_id FROM rating_targets r
                            WHERE r.campaign_id = campaigns.id)
            )
            GROUP BY u.registry_id
            ORDER BY count(*) DESC, u.registry_id DESC
            LIMIT 1
        )
        WHERE registry_id IS NULL
        """
    )


def downgrade():
    op.drop_index("ix_campaigns_registry_id", table_name="campaigns")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("campaigns", schema=None) as batch_op:
            batch_op.drop_column("registry_id")
    else:
        op.drop_constraint("fk_campaigns_registry_id_registries", "campaigns", type_="foreignkey")
        op.drop_column("campaigns", "registry_id")
