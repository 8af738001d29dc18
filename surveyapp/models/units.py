"""Administrative units: a hierarchy whose levels are data (``level_label``), never code.

A :class:`Registry` is one list of units: a province's current two-tier structure
imported from the official list (it records which edition), or an earlier structure
such as Bà Rịa – Vũng Tàu's 2024 registry. A unit keeps the statistics office's code in
``official_code``; ``code`` is the key people type (for units imported from the official
list it is that same code).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import utcnow
from surveyapp.extensions import db


class Registry(db.Model):
    __tablename__ = "registries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)  # "79-2025", "brvt-2024"
    name: Mapped[str] = mapped_column(sa.String(255))
    province_code: Mapped[str | None] = mapped_column(sa.String(8))
    # "two-tier" (province, communes; since 1 July 2025) or "three-tier" (with districts).
    structure: Mapped[str] = mapped_column(sa.String(16), default="two-tier")
    # Which edition of the official list the units came from, e.g.
    # "vietnamadminunits 1.0.4 (danh mục ĐVHC 07/2025)"; free text for hand-made lists.
    edition: Mapped[str] = mapped_column(sa.String(255), default="")
    valid_from: Mapped[date | None]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    units = relationship("Unit", back_populates="unit_registry", order_by="Unit.code")

    def __repr__(self) -> str:
        return f"<Registry {self.code}>"


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    # Free text, e.g. "Sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã".
    level_label: Mapped[str] = mapped_column(sa.String(120), default="")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The statistics office's code of the unit in its registry's edition (communes and
    # districts); departments and agencies have none.
    official_code: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    registry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registries.id"), index=True)

    parent = relationship("Unit", remote_side=[id], back_populates="children")
    children = relationship("Unit", back_populates="parent", order_by="Unit.code")
    unit_registry = relationship("Registry", back_populates="units")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"
