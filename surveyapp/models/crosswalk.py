"""A crosswalk maps the units of one registry (an earlier structure) to another's.

Every saved state is a new version (proposed from the official dataset, imported from a
CSV, or edited); versions are never changed afterwards, so a year-on-year figure can
always say which crosswalk it used. The Department confirms a version before it counts.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import utcnow
from surveyapp.extensions import db


class Crosswalk(db.Model):
    __tablename__ = "crosswalks"
    __table_args__ = (sa.UniqueConstraint("from_registry_id", "to_registry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_registry_id: Mapped[int] = mapped_column(sa.ForeignKey("registries.id"), index=True)
    to_registry_id: Mapped[int] = mapped_column(sa.ForeignKey("registries.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    # Where this version came from, e.g. "Đề xuất từ vietnamadminunits 1.0.4" or a file name.
    source: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    from_registry = relationship("Registry", foreign_keys=[from_registry_id])
    to_registry = relationship("Registry", foreign_keys=[to_registry_id])
    links = relationship(
        "CrosswalkLink",
        back_populates="crosswalk",
        cascade="all, delete-orphan",
        order_by="CrosswalkLink.id",
    )

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    def __repr__(self) -> str:
        return f"<Crosswalk {self.from_registry_id}->{self.to_registry_id} v{self.version}>"


class CrosswalkLink(db.Model):
    """Old unit -> new unit (several rows for a split), or -> nothing (abolished)."""

    __tablename__ = "crosswalk_links"
    __table_args__ = (
        sa.UniqueConstraint("crosswalk_id", "old_unit_id", "new_unit_id"),
        sa.CheckConstraint("share IS NULL OR (share > 0 AND share <= 1)", name="share_range"),
        sa.CheckConstraint("population IS NULL OR population >= 0", name="population_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crosswalk_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crosswalks.id", ondelete="CASCADE"), index=True
    )
    old_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # None: the old unit has no successor (e.g. an abolished district): not compared.
    new_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # Share of the old unit that went to the new one (split units); None means all of it.
    share: Mapped[float | None]
    # People of the old unit's part that went to the new one (for the population rule).
    population: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.String(255), default="")

    crosswalk = relationship("Crosswalk", back_populates="links")
    old_unit = relationship("Unit", foreign_keys=[old_unit_id])
    new_unit = relationship("Unit", foreign_keys=[new_unit_id])
