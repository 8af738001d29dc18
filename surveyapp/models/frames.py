"""Uploaded lists (sampling frames). Personal data lives only here and in ``Respondent``.

A unit's list for a campaign and kind is made of one or more files (``FrameUpload``); each
change (an upload replacing the list, a file added to it, a restore) makes a new numbered
``FrameVersion`` naming its files. Earlier versions and their files' records are kept, so
one can be restored. ``FrameUpload.is_current`` marks the files of the current version (what
draws read); a file awaiting confirmation (``pending_action``) is in no version yet.
"""

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


class PendingAction(enum.StrEnum):
    REPLACE = "replace"  # the file becomes the whole list once confirmed
    ADD = "add"  # the file joins the current list's files once confirmed


class FrameUpload(db.Model):
    """One uploaded file and its validation report."""

    __tablename__ = "frame_uploads"

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
    # Checked and stored, awaiting the user's confirmation (None once in a version).
    pending_action: Mapped[PendingAction | None] = mapped_column(
        enum_column(PendingAction, "pending_action")
    )

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


frame_version_files = sa.Table(
    "frame_version_files",
    db.metadata,
    sa.Column(
        "version_id", sa.ForeignKey("frame_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("upload_id", sa.ForeignKey("frame_uploads.id", ondelete="CASCADE"), primary_key=True),
)


class VersionAction(enum.StrEnum):
    UPLOAD = "upload"  # a file replaced the list (or was its first)
    ADD = "add"  # a file was added to the list's files
    RESTORE = "restore"  # an earlier version's files became the list again


VERSION_ACTION_LABELS = enum_labels(
    VersionAction,
    {
        VersionAction.UPLOAD: ("Tải lên (thay danh sách)", "Upload (replaced the list)"),
        VersionAction.ADD: ("Thêm tệp", "File added"),
        VersionAction.RESTORE: ("Khôi phục", "Restored"),
    },
)


class FrameVersion(db.Model):
    """A numbered state of a unit's list (campaign, unit, kind): the files it is made of."""

    __tablename__ = "frame_versions"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "unit_id", "list_kind", "number"),
        # One current version per list: a change clears the old flag and inserts the new
        # version in the same transaction.
        sa.Index(
            "uq_frame_versions_current",
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
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    list_kind: Mapped[ListKind] = mapped_column(enum_column(ListKind, "list_kind"))
    number: Mapped[int]
    action: Mapped[VersionAction] = mapped_column(enum_column(VersionAction, "version_action"))
    restored_from: Mapped[int | None]  # the version number a restore copied
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows_valid: Mapped[int] = mapped_column(default=0)  # its files' valid rows together
    is_current: Mapped[bool] = mapped_column(default=True)

    files = relationship("FrameUpload", secondary=frame_version_files, order_by="FrameUpload.id")
