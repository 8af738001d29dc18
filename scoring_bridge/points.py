"""Index points per unit and criterion, in the layout the Department's scoring software imports.

Points table (``points.csv`` / ``points.xlsx`` sheet ``points`` / ``points.json``), one row
per unit × criterion, columns in this order:

===================  ================================================================
``unit``             unit code
``criterion``        criterion code of the province's index set
``points``           points given (empty when ``status`` is not ``scored``)
``max_points``       the criterion's maximum
``index``            the design-weighted index the points come from (0–100, or 1–5
                     for ``mean_score``)
``n``                valid answers behind the index (smallest item base for means)
``ci_low``           lower end of the 95% confidence interval of the index
``ci_high``          upper end
``status``           ``scored``; ``not_applicable`` (no valid answers for the source in
                     this unit, e.g. a unit handling no procedures: the Department drops
                     the criterion and rescales); ``below_min_n`` (fewer than the
                     criterion's ``min_responses``: not scored, for the Department to
                     decide)
``flags``            index flags (``partial``: some items had no answers)
``se``               standard error of the index
``index_unweighted`` the same index without weights, for comparison
``n_respondents``    respondents of the unit in the criterion's groups
``groups``           respondent groups pooled for the criterion ('+'-joined)
``source``           ``element:E1``, ``item:g1``, ``items:b1,b2`` or ``overall``
``formula``          formula of the index
``criterion_name``   criterion name (Vietnamese)
===================  ================================================================

Points are ``max_points × index / 100`` or, with a band table, the points of the first
band whose minimum the index reaches (0 below every band); they are rounded half-up to the
criterion's decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from scoring_bridge.mapping import Criterion

POINTS_COLUMNS = (
    "unit",
    "criterion",
    "points",
    "max_points",
    "index",
    "n",
    "ci_low",
    "ci_high",
    "status",
    "flags",
    "se",
    "index_unweighted",
    "n_respondents",
    "groups",
    "source",
    "formula",
    "criterion_name",
)
SCORED, NOT_APPLICABLE, BELOW_MIN_N = "scored", "not_applicable", "below_min_n"


def round_half_up(value: float, decimals: int) -> float:
    """Round as people do on paper (2.345 → 2.35), not to even as ``round`` does."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def points_for(index: float, criterion: Criterion) -> float:
    """Points of a criterion for an index value (proportional or band table), rounded."""
    if criterion.bands:
        raw = next((band.points for band in criterion.bands if index >= band.minimum), 0.0)
    else:
        raw = criterion.max_points * min(max(index, 0.0), 100.0) / 100.0
    return round_half_up(raw, criterion.decimals)


def index_key(criterion: Criterion, present_groups: list[str]) -> tuple[str, str, str, str] | None:
    """(groups label, level, code, formula) of the index row a criterion uses.

    None when none of the criterion's respondent groups answered at all.
    """
    wanted = [g for g in present_groups if not criterion.groups or g in criterion.groups]
    if not wanted:
        return None
    label = "+".join(sorted(wanted))
    if criterion.source_kind == "overall":
        level, code = "overall", "overall"
    elif criterion.source_kind == "items":
        level, code = "item_set", criterion.item_set_name
    else:
        level, code = criterion.source_kind, criterion.source_codes[0]
    return label, level, code, criterion.formula.name


def criterion_points(
    indices: pd.DataFrame,
    criteria: tuple[Criterion, ...],
    units: list[str],
    present_groups: list[str],
    min_n: int | None = None,
) -> pd.DataFrame:
    """The points table (layout in the module docstring) for every unit × criterion."""
    keyed = indices.set_index(["unit", "groups", "level", "code", "formula"]).sort_index()
    rows = []
    for criterion in criteria:
        key = index_key(criterion, present_groups)
        threshold = min_n if min_n is not None else criterion.min_responses
        for unit in units:
            found = None
            if key is not None and (unit, *key) in keyed.index:
                found = keyed.loc[(unit, *key)]
                found = found.iloc[0] if isinstance(found, pd.DataFrame) else found
            rows.append(_row(unit, criterion, key, found, threshold))
    frame = pd.DataFrame(rows, columns=list(POINTS_COLUMNS))
    return frame.astype({"n": "int64", "n_respondents": "int64"})


def _row(unit, criterion: Criterion, key, found, threshold: int) -> dict:
    base = {
        "unit": unit,
        "criterion": criterion.code,
        "max_points": criterion.max_points,
        "groups": key[0] if key else "+".join(criterion.groups),
        "source": criterion.source_label,
        "formula": criterion.formula.name,
        "criterion_name": criterion.name_vi,
    }
    if found is None or np.isnan(found["estimate"]) or found["n"] == 0:
        return {
            **base,
            "points": np.nan,
            "index": np.nan,
            "n": 0,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "status": NOT_APPLICABLE,
            "flags": "",
            "se": np.nan,
            "index_unweighted": np.nan,
            "n_respondents": 0 if found is None else int(found["n_respondents"]),
        }
    enough = found["n"] >= threshold
    flags = ";".join(f for f in str(found["flags"]).split(";") if f and f != "below_min_n")
    return {
        **base,
        "points": points_for(float(found["estimate"]), criterion) if enough else np.nan,
        "index": float(found["estimate"]),
        "n": int(found["n"]),
        "ci_low": float(found["ci_low"]),
        "ci_high": float(found["ci_high"]),
        "status": SCORED if enough else BELOW_MIN_N,
        "flags": flags,
        "se": float(found["se"]),
        "index_unweighted": float(found["estimate_unweighted"]),
        "n_respondents": int(found["n_respondents"]),
    }


def unit_summary(
    points: pd.DataFrame,
    indices: pd.DataFrame,
    all_groups: str,
    criterion_decimals: dict[str, int],
    min_n: int = 0,
) -> pd.DataFrame:
    """Per unit: points, applicable maximum, the overall index (all groups) and its rank.

    The rank is by the overall satisfaction index of all respondent groups pooled, among
    the units with at least ``min_n`` respondents: a unit with fewer gets no rank (its index
    is for information only) and is listed after the ranked ones.
    """
    scored = points[points.status == SCORED]
    applicable = points[points.status != NOT_APPLICABLE]
    summary = pd.DataFrame({"unit": sorted(points.unit.unique())}).set_index("unit")
    summary["points_total"] = scored.groupby("unit")["points"].sum()
    summary["max_applicable"] = applicable.groupby("unit")["max_points"].sum()
    summary["criteria_scored"] = scored.groupby("unit").size()
    summary["criteria_not_applicable"] = (
        points[points.status == NOT_APPLICABLE].groupby("unit").size()
    )
    summary["criteria_below_min_n"] = points[points.status == BELOW_MIN_N].groupby("unit").size()
    overall = indices[
        (indices.level == "overall")
        & (indices.groups == all_groups)
        & (indices.formula == "satisfaction_rate")
    ].set_index("unit")
    summary["overall_index"] = overall["estimate"]
    summary["overall_ci_low"] = overall["ci_low"]
    summary["overall_ci_high"] = overall["ci_high"]
    summary["n_respondents"] = overall["n_respondents"]
    # points_total stays empty for a unit with no criterion scored: 0 would read as scored 0.
    summary = summary.fillna(
        {
            "max_applicable": 0.0,
            "criteria_scored": 0,
            "criteria_not_applicable": 0,
            "criteria_below_min_n": 0,
            "n_respondents": 0,
        }
    )
    decimals = max(criterion_decimals.values(), default=2)
    summary["points_total"] = summary["points_total"].map(
        lambda v: v if pd.isna(v) else round_half_up(v, decimals)
    )
    rankable = summary["overall_index"].where(summary["n_respondents"] >= min_n)
    summary["rank"] = rankable.rank(ascending=False, method="min")
    summary = summary.reset_index().sort_values(["rank", "unit"], na_position="last")
    for column in (
        "criteria_scored",
        "criteria_not_applicable",
        "criteria_below_min_n",
        "n_respondents",
    ):
        summary[column] = summary[column].astype("int64")
    summary["rank"] = summary["rank"].astype("Int64")
    return summary.reset_index(drop=True)
