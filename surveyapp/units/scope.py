"""Which units a campaign surveys: those of its province's registry.

Every page that lists or counts units for a campaign (lists' status, upload pickers,
rating pickers) asks here, so a campaign never shows another registry's units (e.g. the
2024 districts beside the 2025 communes).
"""

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.units import Registry, Unit
from surveyapp.units.importer import tree_order


def campaign_units_query(campaign: Campaign) -> sa.Select:
    """Active units of the campaign's registry (every active unit when it names none)."""
    query = sa.select(Unit).where(Unit.active)
    if campaign.registry_id is not None:
        query = query.where(Unit.registry_id == campaign.registry_id)
    return query


def campaign_units(campaign: Campaign) -> list[Unit]:
    """The campaign's units in tree order."""
    return tree_order(list(db.session.scalars(campaign_units_query(campaign))))


def registries_newest_first() -> list[Registry]:
    """Registries, the newest structure first (the default for a new campaign)."""
    return list(
        db.session.scalars(
            sa.select(Registry).order_by(
                Registry.valid_from.desc().nulls_last(),
                Registry.imported_at.desc(),
                Registry.id.desc(),
            )
        )
    )
