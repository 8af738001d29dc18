"""Walk-in links: the random address printed on a unit's counter poster for a campaign."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import utcnow
from surveyapp.extensions import db


class WalkinLink(db.Model):
    __tablename__ = "walkin_links"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # Random, so posters cannot be found by trying unit codes; a new slug retires a poster.
    slug: Mapped[str] = mapped_column(sa.String(32), unique=True)
    respondent_group: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
