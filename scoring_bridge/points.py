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
``n``                valid answers behind the index (for a mean of items: respondents
                     with a valid answer to at least one of them)
``ci_low``           lower end of the 95% confidence interval of the index
``ci_high``          upper end
``status``           ``scored``; ``not_applicable`` (respondents, but no valid answers for
                     the source in this unit, or the unit was not sampled in the
                     criterion's groups, e.g. a unit handling no procedures: the
                     Department drops the criterion and rescales); ``below_min_n`` (the
                     index's base, n or n_eff, is below the criterion's
                     ``min_responses``: not scored, for the Department to decide);
                     ``no_responses`` (the unit was sampled in the criterion's groups but
                     nobody answered: missing, not "not applicable")
``flags``            index flags (``partial``: some items had no answers; ``unreliable``:
                     the base is below half the minimum, the interval is not shown in
                     the report; ``single_respondent_stratum``; ``no_variation``)
``se``               standard error of the index
``index_unweighted`` the same index without weights, for comparison
``n_respondents``    respondents of the unit in the criterion's groups
``groups``           respondent groups pooled for the criterion ('+'-joined)
``source``           ``element:E1``, ``item:g1``, ``items:b1,b2`` or ``overall``
``formula``          formula of the index
``criterion_name``   criterion name (Vietnamese)
``n_eff``            Kish's effective sample size of the index's answers
``deff``             design effect of the index
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
from scoring_bridge.ranks import rank_table

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
    "n_eff",
    "deff",
)
SCORED, NOT_APPLICABLE, BELOW_MIN_N = "scored", "not_applicable", "below_min_n"
NO_RESPONSES = "no_responses"
#: A criterion whose base is below this share of its minimum is flagged "unreliable".
UNRELIABLE_SHARE = 0.5


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
    basis: str = "n",
    sampled: set[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The points table (layout in the module docstring) for every unit × criterion.

    A criterion is scored when its index's ``basis`` (``n`` valid answers, or Kish's
    ``n_eff``) reaches the criterion's ``min_responses`` (or ``min_n`` when given).
    ``sampled`` holds the (unit, group) pairs of the sample: a unit sampled in a
    criterion's groups whose sampled people did not answer is ``no_responses``; without
    it, a unit with no response at all is.
    """
    keyed = indices.set_index(["unit", "groups", "level", "code", "formula"]).sort_index()
    answered = set(indices.loc[indices.n_respondents > 0, "unit"])
    rows = []
    for criterion in criteria:
        key = index_key(criterion, present_groups)
        threshold = min_n if min_n is not None else criterion.min_responses
        for unit in units:
            found = None
            if key is not None and (unit, *key) in keyed.index:
                found = keyed.loc[(unit, *key)]
                found = found.iloc[0] if isinstance(found, pd.DataFrame) else found
            row = _row(unit, criterion, key, found, threshold, basis)
            if found is None and _was_sampled(unit, criterion, sampled, answered):
                row["status"] = NO_RESPONSES
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(POINTS_COLUMNS))
    return frame.astype({"n": "int64", "n_respondents": "int64"})


def _was_sampled(unit, criterion: Criterion, sampled, answered) -> bool:
    """Whether the unit was sampled in the criterion's groups (``sampled`` pairs; group
    ``""`` when only the unit's total is known, then a unit without any response is)."""
    groups = {g for u, g in sampled or () if u == unit}
    if sampled is None or groups <= {""}:
        return unit not in answered
    groups.discard("")
    return bool(groups if not criterion.groups else groups & set(criterion.groups))


def _row(unit, criterion: Criterion, key, found, threshold: int, basis: str) -> dict:
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
            "n_eff": np.nan,
            "deff": np.nan,
        }
    size = float(np.nan_to_num(found[basis]))
    enough = size >= threshold
    # "below_min_n" is the status here, and "unreliable" is judged against this
    # criterion's own minimum (the index table used the run's).
    kept = [
        f for f in str(found["flags"]).split(";") if f and f not in ("below_min_n", "unreliable")
    ]
    if size < UNRELIABLE_SHARE * threshold:
        kept.insert(0, "unreliable")
    flags = ";".join(kept)
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
        "n_eff": float(found["n_eff"]),
        "deff": float(found["deff"]),
    }


UNIT_STATUSES = (SCORED, BELOW_MIN_N, NO_RESPONSES, NOT_APPLICABLE)


def unit_summary(
    points: pd.DataFrame,
    indices: pd.DataFrame,
    all_groups: str,
    criterion_decimals: dict[str, int],
    min_n: int = 0,
    basis: str = "n",
) -> pd.DataFrame:
    """Per unit: status, points, applicable maximum, the overall index (all groups) and rank.

    ``status``: ``no_responses`` (sampled, nobody answered), ``not_applicable`` (every
    criterion not applicable), ``below_min_n`` (a criterion, or the overall index, below
    its minimum: the unit is not ranked) or ``scored``. ``points_total`` is given only for
    ``scored`` units (empty otherwise). Only ``scored`` units are ranked,
    by the overall satisfaction index of all respondent groups pooled, with a rank
    interval and a group of units that cannot be told apart (:mod:`scoring_bridge.ranks`);
    the others follow, unranked.
    """

    scored = points[points.status == SCORED]
    applicable = points[~points.status.isin([NOT_APPLICABLE])]
    summary = pd.DataFrame({"unit": sorted(points.unit.unique())}).set_index("unit")
    summary["points_total"] = scored.groupby("unit")["points"].sum()
    summary["max_applicable"] = applicable.groupby("unit")["max_points"].sum()
    for status, column in (
        (SCORED, "criteria_scored"),
        (NOT_APPLICABLE, "criteria_not_applicable"),
        (BELOW_MIN_N, "criteria_below_min_n"),
        (NO_RESPONSES, "criteria_no_responses"),
    ):
        summary[column] = points[points.status == status].groupby("unit").size()
    overall = indices[
        (indices.level == "overall")
        & (indices.groups == all_groups)
        & (indices.formula == "satisfaction_rate")
    ].set_index("unit")
    summary["overall_index"] = overall["estimate"]
    summary["overall_ci_low"] = overall["ci_low"]
    summary["overall_ci_high"] = overall["ci_high"]
    summary["overall_se"] = overall["se"]
    summary["overall_n"] = overall["n"]
    summary["overall_n_eff"] = overall["n_eff"]
    summary["overall_deff"] = overall["deff"]
    summary["n_respondents"] = overall["n_respondents"]
    summary["flags"] = overall["flags"]
    # points_total stays empty for a unit with no criterion scored: 0 would read as scored 0.
    counts = [
        "criteria_scored",
        "criteria_not_applicable",
        "criteria_below_min_n",
        "criteria_no_responses",
        "n_respondents",
        "overall_n",
    ]
    summary = summary.fillna({"max_applicable": 0.0, "flags": "", **dict.fromkeys(counts, 0)})
    decimals = max(criterion_decimals.values(), default=2)
    summary["points_total"] = summary["points_total"].map(
        lambda v: v if pd.isna(v) else round_half_up(v, decimals)
    )
    summary.insert(0, "status", _unit_status(summary, min_n, basis))
    # A unit that is not scored as a whole gets no total: a sum of the criteria that happened
    # to reach their minimum would be imported as the unit's points (its criteria stay in
    # the points table with their own status).
    summary.loc[summary.status != SCORED, "points_total"] = np.nan
    ranked = (summary.status == SCORED) & summary.overall_index.notna()
    ranks = rank_table(
        summary.overall_index[ranked],
        summary.overall_ci_low[ranked],
        summary.overall_ci_high[ranked],
    )
    ranks.index = summary.index[ranked]
    for position, column in enumerate(("rank", "rank_low", "rank_high", "rank_group")):
        summary.insert(1 + position, column, ranks[column].reindex(summary.index).astype("Int64"))
    summary = summary.reset_index().sort_values(["rank", "unit"], na_position="last")
    for column in counts:
        summary[column] = summary[column].astype("int64")
    return summary.reset_index(drop=True)


def _unit_status(summary: pd.DataFrame, min_n: int, basis: str) -> pd.Series:
    criteria = summary[
        [
            "criteria_scored",
            "criteria_not_applicable",
            "criteria_below_min_n",
            "criteria_no_responses",
        ]
    ].sum(axis=1)
    overall_base = summary["overall_n" if basis == "n" else "overall_n_eff"].fillna(0)
    status = pd.Series(SCORED, index=summary.index)
    short = (summary.criteria_below_min_n + summary.criteria_no_responses > 0) | (
        overall_base < min_n
    )
    status[short] = BELOW_MIN_N
    status[(summary.criteria_not_applicable == criteria) & (summary.n_respondents > 0)] = (
        NOT_APPLICABLE
    )
    status[summary.n_respondents == 0] = NO_RESPONSES
    return status
