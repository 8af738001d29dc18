"""Last year's figures for this year's units: the previous campaign's latest results
(read by :mod:`surveyapp.results.runs`) or an uploaded previous results file, taken through
the confirmed crosswalk when the units were reorganised, combined by the campaign's rule
(:mod:`scoring_bridge.comparison`).

The result is the ``previous`` table a scoring run takes (columns unit, overall_index,
questionnaire, and how each figure was made), so the results page, the report and the
Department's import file show it beside this year's index.
"""

from __future__ import annotations

import io
from collections import Counter

import pandas as pd
import sqlalchemy as sa

from scoring_bridge.comparison import RULE_LABELS, combine_previous
from surveyapp.crosswalk.operations import latest_confirmed
from surveyapp.extensions import db
from surveyapp.models.campaigns import Campaign
from surveyapp.models.crosswalk import Crosswalk
from surveyapp.models.frames import FrameUpload
from surveyapp.models.units import Registry, Unit
from surveyapp.units import official


def _registry_of(codes) -> int | None:
    ids = db.session.scalars(
        sa.select(Unit.registry_id).where(Unit.code.in_(list(codes)), Unit.registry_id.is_not(None))
    ).all()
    return Counter(ids).most_common(1)[0][0] if ids else None


def crosswalk_for(previous: pd.DataFrame) -> Crosswalk | None:
    """The latest confirmed crosswalk out of the registry of the previous units."""
    registry_id = _registry_of(set(previous["unit"].astype(str)))
    return latest_confirmed(registry_id) if registry_id is not None else None


def _links(crosswalk: Crosswalk) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "old": link.old_unit.code,
                "new": link.new_unit.code if link.new_unit else None,
                "share": link.share,
                "population": link.population,
            }
            for link in crosswalk.links
        ],
        columns=["old", "new", "share", "population"],
    )


def partial_units(crosswalk: Crosswalk) -> set[str]:
    """Current units with predecessors outside the earlier registry: after a merger of
    provinces, departments (which took in the other provinces' departments too) and any
    commune the official conversion says had a predecessor in another province."""
    old, new = crosswalk.from_registry, crosswalk.to_registry
    if not old.province_code or old.province_code == new.province_code:
        return set()
    legacy = official.legacy_codes()
    partial = set()
    for link in crosswalk.links:
        unit = link.new_unit
        if unit is None:
            continue
        if not unit.official_code:
            partial.add(unit.code)
            continue
        provinces = {
            legacy[code].province_code
            for code in official.predecessors(unit.official_code)
            if code in legacy
        }
        if provinces - {old.province_code}:
            partial.add(unit.code)
    return partial


def current_registry_id(campaign: Campaign) -> int | None:
    """The registry of the units that sent lists to ``campaign`` (the most common one)."""
    ids = db.session.scalars(
        sa.select(Unit.registry_id)
        .join(FrameUpload, FrameUpload.unit_id == Unit.id)
        .where(FrameUpload.campaign_id == campaign.id, Unit.registry_id.is_not(None))
    ).all()
    return Counter(ids).most_common(1)[0][0] if ids else None


class NoCrosswalk(Exception):
    """Last year's units are of another registry and no confirmed crosswalk leads here."""

    def __init__(self, old_registry: str, new_registry: str):
        super().__init__(old_registry, new_registry)
        self.message_vi = (
            f"Đơn vị năm trước thuộc danh mục «{old_registry}», năm nay «{new_registry}», "
            "nhưng chưa có bảng chuyển đổi đã xác nhận giữa hai danh mục: không so sánh. "
            "Hãy đề xuất, hoàn thiện và xác nhận bảng chuyển đổi (mục Chuyển đổi đơn vị)."
        )
        self.message_en = (
            f"Last year's units are of the registry «{old_registry}», this year's of "
            f"«{new_registry}», and no confirmed crosswalk links them: not compared. Propose, "
            "complete and confirm a crosswalk (Crosswalks)."
        )


def through_crosswalk(
    previous: pd.DataFrame, rule: str, current_registry: int | None = None
) -> tuple[pd.DataFrame, str]:
    """``previous`` re-expressed for the current units, and a sentence saying how.

    Raises :class:`NoCrosswalk` when last year's units belong to another registry than
    ``current_registry`` and no confirmed crosswalk leads from one to the other.
    """
    crosswalk = crosswalk_for(previous)
    if crosswalk is not None and current_registry is not None:
        crosswalk = latest_confirmed(crosswalk.from_registry_id, current_registry)
    if crosswalk is None:
        old = _registry_of(set(previous["unit"].astype(str)))
        if old is not None and current_registry is not None and old != current_registry:
            raise NoCrosswalk(
                db.session.get(Registry, old).name, db.session.get(Registry, current_registry).name
            )
        return previous, "cùng đơn vị / same units"
    links = _links(crosswalk)
    names = dict(db.session.execute(sa.select(Unit.code, Unit.name)).all())
    partial = partial_units(crosswalk)
    if "responses" not in previous:
        previous = previous.assign(responses=float("nan"))
    parts = []
    groups = (
        previous.groupby("questionnaire") if "questionnaire" in previous else [(None, previous)]
    )
    for questionnaire, rows in groups:
        combined = combine_previous(rows, links, rule, names=names, partial=partial)
        if questionnaire is not None:
            combined["questionnaire"] = questionnaire
        parts.append(combined)
    how = (
        f"{crosswalk.from_registry.name} → {crosswalk.to_registry.name}, bảng chuyển đổi "
        f"phiên bản {crosswalk.version}, {RULE_LABELS[rule][0]} / crosswalk version "
        f"{crosswalk.version}, {RULE_LABELS[rule][1]}"
    )
    return pd.concat(parts, ignore_index=True), how


def previous_csv(
    campaign: Campaign, uploaded: bytes | None, last_year: pd.DataFrame | None
) -> tuple[bytes | None, str]:
    """The ``previous.csv`` of a scoring run of ``campaign``: the uploaded file or, without
    one, ``last_year`` (the previous campaign's results), through the crosswalk when there
    is one; and a sentence saying where it came from."""
    if uploaded is not None:
        previous = pd.read_csv(io.BytesIO(uploaded), dtype={"unit": str, "questionnaire": str})
        source = "tệp tải lên / uploaded file"
    elif last_year is not None:
        previous = last_year
        code = campaign.previous_campaign.code
        source = f"đợt {code} / campaign {code}"
    else:
        return None, ""
    try:
        previous, how = through_crosswalk(
            previous, campaign.comparison_rule or "responses", current_registry_id(campaign)
        )
    except NoCrosswalk as exc:
        return None, f"{source}: {exc.message_vi} / {exc.message_en}"
    return previous.to_csv(index=False).encode("utf-8"), f"{source}; {how}"
