"""Scoring runs and the files stored for them, as records every host reads.

The files themselves lie in the one storage location (``STORAGE_DIR``, by default the
instance folder; surveyapp/storage.py); a :class:`StoredFile` names one by its key there,
with its size and SHA-256, so that listing, showing and downloading a run never depend on
which host ran it or on walking folders.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.jobs import Job


class ScoringRun(db.Model):
    __tablename__ = "scoring_runs"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # mapping, min_n, min_n_basis, single_respondent_strata, include_walkin, k, previous,
    # previous_source: what the scoring was asked to do.
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    job_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"))
    # The run's folder in the storage location (relative, "/"-separated).
    storage_key: Mapped[str] = mapped_column(sa.String(300))

    campaign: Mapped[Campaign] = relationship()
    job: Mapped[Job | None] = relationship()
    files: Mapped[list["StoredFile"]] = relationship(
        back_populates="run", order_by="StoredFile.name", cascade="all, delete-orphan"
    )


class StoredFile(db.Model):
    __tablename__ = "stored_files"
    __table_args__ = (sa.UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("scoring_runs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))  # "input" | "output"
    name: Mapped[str] = mapped_column(sa.String(300))  # e.g. "sipas-citizen/units.csv"
    key: Mapped[str] = mapped_column(sa.String(500))  # its path in the storage location
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[ScoringRun | None] = relationship(back_populates="files")
