"""list versions: a unit's list as numbered versions of one or more files, files awaiting
confirmation (issue 10.7)

Revision ID: d7e2a4c9b1f0
Revises: b8e2d4f61a09
Create Date: 2026-12-08 04:10:00

Every existing upload becomes a version of its own, numbered in upload order per campaign,
unit and kind; the current upload's version is the current one. (Replaced uploads lost
their records before versions were kept: their versions cannot be restored.)
"""

import sqlalchemy as sa
from alembic import op

revision = "d7e2a4c9b1f0"
down_revision = "b8e2d4f61a09"
branch_labels = None
depends_on = None

LIST_KIND = sa.Enum(
    "citizens", "officials", name="list_kind", native_enum=False, create_constraint=True,
    length=32,
)  # fmt: skip


def upgrade():
    op.create_table(
        "frame_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("list_kind", LIST_KIND, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "upload", "add", "restore", name="version_action", native_enum=False,
                create_constraint=True, length=32,
            ),  # fmt: skip
            nullable=False,
        ),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rows_valid", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_frame_versions_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_frame_versions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_frame_versions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frame_versions")),
        sa.UniqueConstraint(
            "campaign_id", "unit_id", "list_kind", "number",
            name=op.f("uq_frame_versions_campaign_id_unit_id_list_kind_number"),
        ),  # fmt: skip
    )
    with op.batch_alter_table("frame_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_frame_versions_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            "uq_frame_versions_current",
            ["campaign_id", "unit_id", "list_kind"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )
    op.create_table(
        "frame_version_files",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["frame_uploads.id"],
            name=op.f("fk_frame_version_files_upload_id_frame_uploads"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["version_id"], ["frame_versions.id"],
            name=op.f("fk_frame_version_files_version_id_frame_versions"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("version_id", "upload_id", name=op.f("pk_frame_version_files")),
    )
    with op.batch_alter_table("frame_uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pending_action",
                sa.Enum(
                    "replace", "add", name="pending_action", native_enum=False,
                    create_constraint=True, length=32,
                ),  # fmt: skip
                nullable=True,
            )
        )
        # A list may now have several current files (one per file of the current version).
        batch_op.drop_index("uq_frame_uploads_current")
    _versions_of_existing_uploads()


def _versions_of_existing_uploads():
    connection = op.get_bind()
    uploads = sa.table(
        "frame_uploads", sa.column("id"), sa.column("campaign_id"), sa.column("unit_id"),
        sa.column("list_kind"), sa.column("uploaded_by"), sa.column("uploaded_at"),
        sa.column("rows_valid"), sa.column("is_current"),
    )  # fmt: skip
    versions = sa.table(
        "frame_versions", sa.column("id"), sa.column("campaign_id"), sa.column("unit_id"),
        sa.column("list_kind"), sa.column("number"), sa.column("action"),
        sa.column("created_by"), sa.column("created_at"), sa.column("rows_valid"),
        sa.column("is_current"),
    )  # fmt: skip
    files = sa.table("frame_version_files", sa.column("version_id"), sa.column("upload_id"))
    rows = connection.execute(
        sa.select(uploads).order_by(
            uploads.c.campaign_id, uploads.c.unit_id, uploads.c.list_kind,
            uploads.c.uploaded_at, uploads.c.id,
        )  # fmt: skip
    ).all()
    numbers: dict = {}
    for row in rows:
        key = (row.campaign_id, row.unit_id, row.list_kind)
        numbers[key] = numbers.get(key, 0) + 1
        version_id = connection.execute(
            sa.insert(versions)
            .values(
                campaign_id=row.campaign_id, unit_id=row.unit_id, list_kind=row.list_kind,
                number=numbers[key], action="upload", created_by=row.uploaded_by,
                created_at=row.uploaded_at, rows_valid=row.rows_valid,
                is_current=row.is_current,
            )  # fmt: skip
            .returning(versions.c.id)
        ).scalar_one()
        connection.execute(sa.insert(files).values(version_id=version_id, upload_id=row.id))


def downgrade():
    connection = op.get_bind()
    # Back to one current file per list: the first file of each current version stays
    # current; files awaiting confirmation are dropped.
    connection.execute(sa.text("DELETE FROM frame_uploads WHERE pending_action IS NOT NULL"))
    connection.execute(
        sa.text(
            "UPDATE frame_uploads SET is_current = false WHERE is_current AND id NOT IN "
            "(SELECT min(f.upload_id) FROM frame_version_files f JOIN frame_versions v "
            "ON v.id = f.version_id WHERE v.is_current GROUP BY v.id)"
        )
    )
    with op.batch_alter_table("frame_uploads", schema=None) as batch_op:
        batch_op.create_index(
            "uq_frame_uploads_current",
            ["campaign_id", "unit_id", "list_kind"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )
        batch_op.drop_constraint(batch_op.f("ck_frame_uploads_pending_action"), type_="check")
        batch_op.drop_column("pending_action")
    op.drop_table("frame_version_files")
    with op.batch_alter_table("frame_versions", schema=None) as batch_op:
        batch_op.drop_index("uq_frame_versions_current")
        batch_op.drop_index(batch_op.f("ix_frame_versions_campaign_id"))
    op.drop_table("frame_versions")
