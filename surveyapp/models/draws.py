"""Sample draws: the design, the allocation and the manifest that makes a draw reproducible."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import utcnow
from surveyapp.extensions import db


class Draw(db.Model):
    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    design: Mapped[dict] = mapped_column(sa.JSON)
    manifest: Mapped[dict | None] = mapped_column(sa.JSON)  # seed, frame digests, versions
    allocation: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    locked: Mapped[bool] = mapped_column(default=False)
