"""Sampled respondents, the units each one rates, and contact attempts.

A respondent keeps only a status about answering: ``Response`` rows carry no reference
to a respondent, token or user (see surveyapp/models/responses.py).
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import enum_column, utcnow
from surveyapp.extensions import db
from surveyapp.i18n import enum_labels


class Selection(enum.StrEnum):
    PRIMARY = "primary"
    RESERVE = "reserve"


SELECTION_LABELS = enum_labels(
    Selection, {Selection.PRIMARY: ("Chính", "Primary"), Selection.RESERVE: ("Dự phòng", "Reserve")}
)


class RespondentStatus(enum.StrEnum):
    PENDING = "pending"
    INVITED = "invited"
    CONTACTED = "contacted"
    COMPLETED = "completed"
    REFUSED = "refused"
    NONCONTACT = "noncontact"
    INELIGIBLE = "ineligible"
    REPLACED = "replaced"


RESPONDENT_STATUS_LABELS = enum_labels(
    RespondentStatus,
    {
        RespondentStatus.PENDING: ("Chưa liên hệ", "Not yet contacted"),
        RespondentStatus.INVITED: ("Đã gửi thư mời", "Invited"),
        RespondentStatus.CONTACTED: ("Đang liên hệ", "Being contacted"),
        RespondentStatus.COMPLETED: ("Đã hoàn thành", "Completed"),
        RespondentStatus.REFUSED: ("Từ chối", "Refused"),
        RespondentStatus.NONCONTACT: ("Không liên hệ được", "Non-contact"),
        RespondentStatus.INELIGIBLE: ("Không thuộc đối tượng", "Ineligible"),
        RespondentStatus.REPLACED: ("Đã thay thế", "Replaced"),
    },
)


class TargetStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    DECLINED = "declined"


TARGET_STATUS_LABELS = enum_labels(
    TargetStatus,
    {
        TargetStatus.PENDING: ("Chưa đánh giá", "Not yet rated"),
        TargetStatus.COMPLETED: ("Đã đánh giá", "Rated"),
        TargetStatus.DECLINED: ("Không đánh giá", "Declined"),
    },
)


class ContactMode(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    POST = "post"
    EMAIL = "email"
    SMS = "sms"
    OTHER = "other"


CONTACT_MODE_LABELS = enum_labels(
    ContactMode,
    {
        ContactMode.PHONE: ("Điện thoại", "Phone"),
        ContactMode.VISIT: ("Đến gặp trực tiếp", "Visit"),
        ContactMode.POST: ("Thư bưu điện", "Post"),
        ContactMode.EMAIL: ("Thư điện tử", "Email"),
        ContactMode.SMS: ("Tin nhắn", "SMS"),
        ContactMode.OTHER: ("Khác", "Other"),
    },
)


class ContactOutcome(enum.StrEnum):
    COMPLETED = "completed"
    REFUSED = "refused"
    NONCONTACT = "noncontact"
    INELIGIBLE = "ineligible"
    CALLBACK = "callback"
    OTHER = "other"


CONTACT_OUTCOME_LABELS = enum_labels(
    ContactOutcome,
    {
        ContactOutcome.COMPLETED: ("Hoàn thành", "Completed"),
        ContactOutcome.REFUSED: ("Từ chối", "Refused"),
        ContactOutcome.NONCONTACT: ("Không liên hệ được", "Non-contact"),
        ContactOutcome.INELIGIBLE: ("Không thuộc đối tượng", "Ineligible"),
        ContactOutcome.CALLBACK: ("Hẹn gọi lại", "Call back"),
        ContactOutcome.OTHER: ("Khác", "Other"),
    },
)


class Disposition(enum.StrEnum):
    """Detailed result of a contact attempt (AAPOR-style; codes and rate classes in
    surveyapp/fieldwork/dispositions.py)."""

    COMPLETE = "complete"
    REFUSAL = "refusal"
    BREAKOFF = "breakoff"
    UNAVAILABLE = "unavailable"
    APPOINTMENT = "appointment"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    MOVED = "moved"
    INELIGIBLE = "ineligible"
    OTHER = "other"


class Respondent(db.Model):
    __tablename__ = "respondents"
    __table_args__ = (
        sa.CheckConstraint(
            "selection <> 'reserve' OR reserve_rank IS NOT NULL", name="reserve_has_rank"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(sa.ForeignKey("draws.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    source_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    respondent_group: Mapped[str] = mapped_column(sa.String(64))
    stratum: Mapped[str] = mapped_column(sa.Text)
    selection: Mapped[Selection] = mapped_column(enum_column(Selection, "selection"))
    reserve_rank: Mapped[int | None]
    inclusion_prob: Mapped[float]
    weight: Mapped[float]
    status: Mapped[RespondentStatus] = mapped_column(
        enum_column(RespondentStatus, "respondent_status"), default=RespondentStatus.PENDING
    )
    released: Mapped[bool] = mapped_column(default=False)  # reserves usable once released
    # The list record the person was drawn from (the draw's check compares their details).
    frame_record_id: Mapped[int | None]
    # Personal data, copied from the frame; purged by `surveyapp campaign purge-pii`.
    full_name: Mapped[str | None] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    address: Mapped[str | None] = mapped_column(sa.Text)
    dossier_code: Mapped[str | None] = mapped_column(sa.String(120))
    # Tokens are stored only as keyed hashes (HMAC-SHA256, key from security.derive_key).
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    short_code_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The letter's token and code sealed with AES-GCM (key from security.derive_key), so a
    # lost letter can be printed again with the same code; useless without SECRET_KEY.
    token_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    token_issued_at: Mapped[datetime | None]
    token_expires_on: Mapped[date | None]
    assigned_enumerator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), index=True
    )
    # The case's disposition for response rates (the most informative attempt result).
    disposition: Mapped[Disposition | None] = mapped_column(
        enum_column(Disposition, "respondent_disposition")
    )
    # A replaced case keeps the status it had (refused, noncontact, ineligible), so
    # response rates still count it, and points to the reserve released in its place.
    replaced_status: Mapped[RespondentStatus | None] = mapped_column(
        enum_column(RespondentStatus, "replaced_status")
    )
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("respondents.id"))

    targets = relationship(
        "RespondentTarget", back_populates="respondent", cascade="all, delete-orphan"
    )
    contact_attempts = relationship(
        "ContactAttempt",
        back_populates="respondent",
        cascade="all, delete-orphan",
        # By time, the completed interview last: it is stamped with the Monday of its week
        # (no page may show when a case was completed more precisely), which would put it
        # above the attempts made earlier that week; nothing is recorded after it.
        order_by=lambda: (
            ContactAttempt.outcome == ContactOutcome.COMPLETED,
            ContactAttempt.attempted_at,
            ContactAttempt.id,
        ),
    )


class RespondentTarget(db.Model):
    """A unit a respondent is asked to rate (one row per rated unit)."""

    __tablename__ = "respondent_targets"
    __table_args__ = (sa.UniqueConstraint("respondent_id", "rated_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    rated_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    status: Mapped[TargetStatus] = mapped_column(
        enum_column(TargetStatus, "target_status"), default=TargetStatus.PENDING
    )

    respondent = relationship("Respondent", back_populates="targets")


class ContactAttempt(db.Model):
    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    mode: Mapped[ContactMode] = mapped_column(enum_column(ContactMode, "contact_mode"))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_column(ContactOutcome, "contact_outcome"))
    disposition: Mapped[Disposition | None] = mapped_column(
        enum_column(Disposition, "attempt_disposition")
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
    by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    respondent = relationship("Respondent", back_populates="contact_attempts")


class BackcheckDraw(db.Model):
    """A random sub-sample of completed interviews to call back (phúc tra).

    ``respondent_ids`` is reproducible from ``seed`` and ``fraction`` (see
    surveyapp/fieldwork/operations.py: draw_backcheck).
    """

    __tablename__ = "backcheck_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    fraction: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    respondent_ids: Mapped[list] = mapped_column(sa.JSON)
