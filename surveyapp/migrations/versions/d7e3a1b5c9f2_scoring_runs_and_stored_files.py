"""scoring runs and stored files in the database (run.json folders imported)

Revision ID: d7e3a1b5c9f2
Revises: d7e2a4c9b1f0
Create Date: 2026-12-08 04:20:00

"""

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "d7e3a1b5c9f2"
down_revision = "d7e2a4c9b1f0"
branch_labels = None
depends_on = None


def upgrade():
    runs = op.create_table(
        "scoring_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_scoring_runs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_scoring_runs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_scoring_runs_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_runs")),
    )
    with op.batch_alter_table("scoring_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_runs_campaign_id"), ["campaign_id"], unique=False
        )
    files = op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scoring_runs.id"],
            name=op.f("fk_stored_files_run_id_scoring_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("key", name=op.f("uq_stored_files_key")),
    )
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stored_files_run_id"), ["run_id"], unique=False)
    _import_run_folders(runs, files)


def _storage_root() -> Path | None:
    try:
        return Path(current_app.config.get("STORAGE_DIR") or current_app.instance_path)
    except RuntimeError:  # run by plain Alembic, outside the application: nothing to import
        return None


def _import_run_folders(runs: sa.Table, files: sa.Table) -> None:
    """Runs kept before this migration as <storage>/results/campaign-<id>/<run>/run.json:
    each becomes a row, its inputs and complete outputs stored-file rows (files stay)."""
    root = _storage_root()
    if root is None or not (root / "results").is_dir():
        return
    connection = op.get_bind()
    campaigns = set(connection.scalars(sa.text("SELECT id FROM campaigns")))
    users = set(connection.scalars(sa.text("SELECT id FROM users")))
    jobs = {str(i) for i in connection.scalars(sa.text("SELECT id FROM jobs"))}
    for meta_path in sorted(root.glob("results/campaign-*/*/run.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        folder = meta_path.parent
        if meta.get("campaign_id") not in campaigns:
            continue  # left by an earlier database
        job_id = meta.get("job_id") if meta.get("job_id") in jobs else None
        settings = {
            k: v
            for k, v in meta.items()
            if k not in ("run_id", "campaign_id", "campaign_code", "created_at", "created_by", "job_id")
        }
        run_id = uuid.UUID(meta["run_id"])
        connection.execute(
            runs.insert().values(
                id=run_id,
                campaign_id=meta["campaign_id"],
                created_at=datetime.fromisoformat(meta["created_at"]),
                created_by=meta.get("created_by") if meta.get("created_by") in users else None,
                settings=settings,
                job_id=uuid.UUID(job_id) if job_id else None,
                storage_key=folder.relative_to(root).as_posix(),
            )
        )
        stored = [(folder / n, n, "input") for n in ("mapping.yaml", "previous.csv")]
        outputs = folder / "outputs"
        if outputs.is_dir():
            for questionnaire in sorted(p for p in outputs.iterdir() if p.is_dir()):
                if not questionnaire.name.startswith("."):  # one still being written
                    for path in sorted(p for p in questionnaire.iterdir() if p.is_file()):
                        stored.append((path, f"{questionnaire.name}/{path.name}", "output"))
        for path, name, kind in stored:
            if path.is_file():
                data = path.read_bytes()
                connection.execute(
                    files.insert().values(
                        run_id=run_id,
                        kind=kind,
                        name=name,
                        key=path.relative_to(root).as_posix(),
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                        created_at=datetime.fromisoformat(meta["created_at"]),
                    )
                )


def downgrade():
    with op.batch_alter_table("stored_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_files_run_id"))
    op.drop_table("stored_files")
    with op.batch_alter_table("scoring_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_runs_campaign_id"))
    op.drop_table("scoring_runs")
