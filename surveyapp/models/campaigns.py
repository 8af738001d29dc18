"""Survey campaigns (e.g. "2024"), their instruments and who rates which unit."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from questionnaires.groups import GROUP_NAMES, group_name
from surveyapp.db import enum_column, utcnow
from surveyapp.extensions import db
from surveyapp.i18n import current_language, enum_labels


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    FIELDWORK = "fieldwork"
    CLOSED = "closed"


CAMPAIGN_STATUS_LABELS = enum_labels(
    CampaignStatus,
    {
        CampaignStatus.DRAFT: ("Bản nháp", "Draft"),
        CampaignStatus.FIELDWORK: ("Đang khảo sát", "Fieldwork"),
        CampaignStatus.CLOSED: ("Đã kết thúc", "Closed"),
    },
)


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint(
            "period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
            name="period_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    token_expires_on: Mapped[date | None]
    # Closing stops web answers; interviews and paper forms already in hand can still be
    # entered until this day (Vietnam's calendar). entry_closed_at: when data entry ended
    # (deadline passed or ended by the administrator) and the late answers left the box.
    entry_deadline: Mapped[date | None]
    entry_closed_at: Mapped[datetime | None]
    # Units' lists are due by this day (frames status table marks later uploads as late).
    lists_due_on: Mapped[date | None]
    # Year on year: last year's campaign (its units may be of an earlier structure, then
    # compared through a confirmed crosswalk) and how predecessors are combined
    # (scoring_bridge.comparison.RULES).
    previous_campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    comparison_rule: Mapped[str] = mapped_column(sa.String(16), default="responses")
    # The province's unit registry the campaign surveys: its pickers and counts show only
    # that registry's units. None (older databases without registries): every unit.
    registry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registries.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instruments = relationship(
        "CampaignInstrument",
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="CampaignInstrument.respondent_group",
    )

    previous_campaign = relationship("Campaign", remote_side=[id])
    unit_registry = relationship("Registry")

    @property
    def links_expire_on(self) -> date | None:
        """The last day citizens' links work: the day set, or else the survey's end."""
        return self.token_expires_on or self.period_end

    def __repr__(self) -> str:
        return f"<Campaign {self.code} {self.status}>"


# Respondent groups are codes a campaign chooses; the usual ones are shown by name (one
# table, in questionnaires.groups, shared with the reports), others as their code.
GROUP_LABELS = GROUP_NAMES


def group_label(code: str | None) -> str:
    """A respondent group's name in the visitor's language, or its code when unusual."""
    return group_name(code, current_language())


STRATUM_SEPARATOR = " | "  # as sampling.draw joins a stratum's values into its key


def stratum_label(
    key: str | None, unit=None, *, unit_code: str | None = None, unit_name: str | None = None
) -> str:
    """A stratum's key (``26506 | citizen``) as people read it: the unit's name (when
    ``unit``, or ``unit_code`` and ``unit_name``, is the stratum's unit) and the group's
    label, e.g. ``Phường Sài Gòn · Người dân``."""
    if not key:
        return "—"
    codes = {unit_code} if unit_code else set()
    if unit is not None:
        codes |= {unit.code, getattr(unit, "official_code", None)}
        unit_name = unit.name
    return " · ".join(
        unit_name if part in codes and unit_name else group_label(part)
        for part in key.split(STRATUM_SEPARATOR)
    )


class CampaignInstrument(db.Model):
    """Which questionnaire (and version) a respondent group answers in a campaign."""

    __tablename__ = "campaign_instruments"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "respondent_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    respondent_group: Mapped[str] = mapped_column(sa.String(64))  # "citizen", "official", ...
    questionnaire_id: Mapped[str] = mapped_column(sa.String(120))
    questionnaire_version: Mapped[str] = mapped_column(sa.String(32))

    campaign = relationship("Campaign", back_populates="instruments")


class RatingTarget(db.Model):
    """Respondents of ``respondent_group`` from ``source_unit`` rate ``rated_unit``.

    Without rows for a (group, source unit), respondents rate the unit whose list they
    came from. Rows let e.g. commune leaders rate provincial departments, or departments
    rate each other; the draw turns them into ``RespondentTarget`` rows.
    """

    __tablename__ = "rating_targets"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "respondent_group", "source_unit_id", "rated_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    respondent_group: Mapped[str] = mapped_column(sa.String(64))
    source_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    rated_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
