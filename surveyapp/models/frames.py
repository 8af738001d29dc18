"""Uploaded lists (sampling frames). Personal data lives only here and in ``Respondent``."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import enum_column, utcnow
from surveyapp.extensions import db
from surveyapp.i18n import enum_labels


class ListKind(enum.StrEnum):
    CITIZENS = "citizens"  # people and organisations who completed a procedure
    OFFICIALS = "officials"  # leaders, civil servants, public employees


LIST_KIND_LABELS = enum_labels(
    ListKind,
    {
        ListKind.CITIZENS: ("Người dân, tổ chức", "Citizens and organisations"),
        ListKind.OFFICIALS: ("Cán bộ, công chức, viên chức", "Officials and civil servants"),
    },
)


class FrameUpload(db.Model):
    __tablename__ = "frame_uploads"
    __table_args__ = (
        # At most one current list per campaign, unit and kind: a new upload replaces the
        # previous one in the same transaction (clear the old flag, insert the new row).
        sa.Index(
            "uq_frame_uploads_current",
            "campaign_id",
            "unit_id",
            "list_kind",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    list_kind: Mapped[ListKind] = mapped_column(enum_column(ListKind, "list_kind"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    uploaded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_valid: Mapped[int] = mapped_column(default=0)
    rows_excluded: Mapped[int] = mapped_column(default=0)
    is_current: Mapped[bool] = mapped_column(default=True)
    report: Mapped[dict | None] = mapped_column(sa.JSON)  # validation summary and issues

    records = relationship(
        "FrameRecord", back_populates="upload", cascade="all, delete-orphan", passive_deletes=True
    )


class FrameRecord(db.Model):
    __tablename__ = "frame_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(
        sa.ForeignKey("frame_uploads.id", ondelete="CASCADE"), index=True
    )
    source_row: Mapped[int]  # row number in the uploaded file (1 = header)
    full_name: Mapped[str | None] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    address: Mapped[str | None] = mapped_column(sa.Text)
    dossier_code: Mapped[str | None] = mapped_column(sa.String(120))
    respondent_group: Mapped[str | None] = mapped_column(sa.String(64))
    completed_on: Mapped[date | None]
    position: Mapped[str | None] = mapped_column(sa.String(255))
    extra: Mapped[dict | None] = mapped_column(sa.JSON)

    upload = relationship("FrameUpload", back_populates="records")
