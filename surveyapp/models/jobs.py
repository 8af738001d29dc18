"""Background jobs' records: status, progress and result (run by surveyapp/jobs.py)."""

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import enum_column, utcnow
from surveyapp.extensions import db
from surveyapp.i18n import enum_labels


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATUS_LABELS = enum_labels(
    JobStatus,
    {
        JobStatus.QUEUED: ("Đang chờ", "Queued"),
        JobStatus.RUNNING: ("Đang chạy", "Running"),
        JobStatus.DONE: ("Xong", "Done"),
        JobStatus.FAILED: ("Lỗi", "Failed"),
    },
)


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(sa.Text)
    result_path: Mapped[str | None] = mapped_column(sa.String(500))
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # What to run, kept so that a failed job can be queued again (surveyapp/jobs.py retry).
    func_path: Mapped[str | None] = mapped_column(sa.String(200))
    args: Mapped[list | None] = mapped_column(sa.JSON)
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    # Written by the worker every JOB_HEARTBEAT_SECONDS while the job runs: a running job
    # whose heartbeat is older than JOB_HEARTBEAT_TIMEOUT lost its worker.
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
