"""Crosswalk versions in the database: propose, import, export, confirm.

Every change makes a new version (never an edit of an old one); the year-on-year
comparison uses the latest confirmed version. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from surveyapp.crosswalk import logic
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models.crosswalk import Crosswalk, CrosswalkLink
from surveyapp.models.units import Registry, Unit
from surveyapp.units import official
from surveyapp.units.importer import RowError, tree_order


class CrosswalkError(Exception):
    def __init__(self, message_vi: str, message_en: str):
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en


@dataclass
class Outcome:
    crosswalk: Crosswalk | None = None
    errors: list[RowError] = field(default_factory=list)
    unmapped: list[logic.UnitRef] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def registry_by_code(code: str) -> Registry:
    registry = db.session.scalar(sa.select(Registry).where(Registry.code == code))
    if registry is None:
        known = ", ".join(db.session.scalars(sa.select(Registry.code).order_by(Registry.code)))
        raise CrosswalkError(
            f"Không có danh mục «{code}» (có: {known or 'chưa có'}).",
            f"No registry «{code}» (there are: {known or 'none'}).",
        )
    return registry


def registry_units(registry: Registry) -> list[Unit]:
    units = db.session.scalars(sa.select(Unit).where(Unit.registry_id == registry.id)).all()
    return tree_order(list(units))


def unit_refs(registry: Registry) -> list[logic.UnitRef]:
    return [
        logic.UnitRef(u.code, u.name, u.level_label or "", u.official_code)
        for u in registry_units(registry)
    ]


def versions(from_registry: Registry, to_registry: Registry) -> list[Crosswalk]:
    return list(
        db.session.scalars(
            sa.select(Crosswalk)
            .where(
                Crosswalk.from_registry_id == from_registry.id,
                Crosswalk.to_registry_id == to_registry.id,
            )
            .order_by(Crosswalk.version.desc())
        )
    )


def latest_confirmed(from_registry_id: int, to_registry_id: int | None = None) -> Crosswalk | None:
    query = sa.select(Crosswalk).where(
        Crosswalk.from_registry_id == from_registry_id, Crosswalk.confirmed_at.is_not(None)
    )
    if to_registry_id is not None:
        query = query.where(Crosswalk.to_registry_id == to_registry_id)
    return db.session.scalar(query.order_by(Crosswalk.version.desc(), Crosswalk.id.desc()))


def _new_version(from_registry, to_registry, links, source: str, user_id) -> Crosswalk:
    number = 1 + (
        db.session.scalar(
            sa.select(sa.func.max(Crosswalk.version)).where(
                Crosswalk.from_registry_id == from_registry.id,
                Crosswalk.to_registry_id == to_registry.id,
            )
        )
        or 0
    )
    crosswalk = Crosswalk(
        from_registry_id=from_registry.id,
        to_registry_id=to_registry.id,
        version=number,
        source=source[:255],
        created_by_id=user_id,
    )
    ids_old = {u.code: u.id for u in registry_units(from_registry)}
    ids_new = {u.code: u.id for u in registry_units(to_registry)}
    for link in links:
        crosswalk.links.append(
            CrosswalkLink(
                old_unit_id=ids_old[link.old_code],
                new_unit_id=ids_new[link.new_code] if link.new_code else None,
                share=link.share,
                population=link.population,
                note=link.note[:255],
            )
        )
    db.session.add(crosswalk)
    db.session.flush()
    return crosswalk


def _check_pair(from_registry: Registry, to_registry: Registry) -> None:
    if not registry_units(from_registry) or not registry_units(to_registry):
        raise CrosswalkError("Cả hai danh mục phải có đơn vị.", "Both registries must have units.")


def propose(from_registry: Registry, to_registry: Registry, user_id: int | None) -> Outcome:
    """A new version proposed from the official dataset's conversion (communes), names
    and the 2025 department mergers; old units it cannot place are listed."""
    _check_pair(from_registry, to_registry)
    proposal = logic.propose(unit_refs(from_registry), unit_refs(to_registry))
    source = f"Đề xuất từ {official.edition()} / proposed from the official dataset"
    crosswalk = _new_version(from_registry, to_registry, proposal.links, source, user_id)
    return Outcome(crosswalk, unmapped=proposal.unmapped)


def import_csv(
    from_registry: Registry,
    to_registry: Registry,
    data: bytes,
    user_id: int | None,
    filename: str = "crosswalk.csv",
) -> Outcome:
    """A new version from a CSV; all-or-nothing, every problem named by row and code."""
    _check_pair(from_registry, to_registry)
    rows, errors = logic.read_csv(data)
    if errors:
        return Outcome(errors=errors)
    links, errors = logic.check_rows(
        rows, unit_refs(from_registry), unit_refs(to_registry), to_registry.province_code
    )
    if errors:
        return Outcome(errors=sorted(errors, key=lambda e: (e.row == 0, e.row)))
    crosswalk = _new_version(from_registry, to_registry, links, f"CSV {filename}", user_id)
    return Outcome(crosswalk)


def links_of(crosswalk: Crosswalk) -> list[logic.Link]:
    return [
        logic.Link(
            link.old_unit.code,
            link.new_unit.code if link.new_unit else None,
            link.share,
            link.population,
            link.note or "",
        )
        for link in crosswalk.links
    ]


def export_rows(crosswalk: Crosswalk) -> list[list[str]]:
    return logic.write_rows(
        links_of(crosswalk),
        unit_refs(crosswalk.from_registry),
        unit_refs(crosswalk.to_registry),
    )


def unmapped_units(crosswalk: Crosswalk) -> list[Unit]:
    mapped = {link.old_unit_id for link in crosswalk.links}
    return [u for u in registry_units(crosswalk.from_registry) if u.id not in mapped]


def confirm(crosswalk: Crosswalk, user_id: int | None) -> list[Unit]:
    """Mark the version confirmed by the Department; refused (the unmapped old units are
    returned) while some old unit has no row."""
    missing = unmapped_units(crosswalk)
    if not missing:
        crosswalk.confirmed_at = utcnow()
        crosswalk.confirmed_by_id = user_id
    return missing
