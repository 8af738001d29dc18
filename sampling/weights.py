"""Nonresponse adjustment of design weights within weighting classes (strata by default).

Weighting-class adjustment (Valliant, Dever & Kreuter 2013, *Practical Tools for
Designing and Weighting Survey Samples*, section 13.5.1; Kalton & Flores-Cervantes 2003,
J. Official Statistics 19(2)). Within a class ``c``::

    w_i* = w_i · Σ_{eligible released in c} w_j / Σ_{respondents in c} w_j

for respondents; ineligible units keep their base weight (they are out of scope, so they
neither receive nor pass on weight); nonrespondents and units never released get 0.
Then Σ_{respondents} w* + Σ_{ineligible} w = Σ_{released} w in every class.

Reserves. Spares are released in rank order, so the released units of a stratum
(primary + first ``k`` reserves) are a random sample of the stratum; their base weight is
scaled by ``Σ_{primary} w / Σ_{released} w`` so that it still adds to the stratum's
primary total. For SRS this is exactly ``N_h / (n_h + k)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sampling.errors import SamplingError

RESPONDENT = "respondent"
NONRESPONDENT = "nonrespondent"
INELIGIBLE = "ineligible"
OUTCOMES = (RESPONDENT, NONRESPONDENT, INELIGIBLE)


class WeightingError(SamplingError):
    """Weights cannot be adjusted (unknown outcome, class without respondents, ...)."""


def _outcomes(table: pd.DataFrame, outcomes) -> pd.Series:
    if isinstance(outcomes, str):
        values = table[outcomes]
    elif isinstance(outcomes, pd.Series):
        values = outcomes.reindex(table.index)  # aligned by label
    else:
        values = pd.Series(list(outcomes), index=table.index)  # a list: in table order
    text = values.astype("string").str.strip().str.lower()
    unknown = sorted(set(text.dropna()) - set(OUTCOMES))
    if unknown:
        raise WeightingError(
            f"Kết quả liên hệ không hợp lệ: {unknown[:5]}. Dùng: {', '.join(OUTCOMES)} "
            "hoặc để trống (chưa liên hệ).",
            f"Unknown contact outcomes: {unknown[:5]}. Use: {', '.join(OUTCOMES)} or leave "
            "empty (not released).",
        )
    return text


def adjust_for_nonresponse(table: pd.DataFrame, outcomes, *, by="stratum") -> pd.Series:
    """Nonresponse-adjusted weights (a Series aligned with ``table``).

    ``table`` is a :attr:`Sample.table` (``weight``, ``selection``, ``stratum``);
    ``outcomes`` a column name, a Series aligned with it by index, or a list in table
    order, holding ``respondent``,
    ``nonrespondent``, ``ineligible`` or missing (not released). ``by`` names the
    weighting-class column(s), the stratum by default.
    """
    classes = [by] if isinstance(by, str) else list(by)
    outcome = _outcomes(table, outcomes)
    released = outcome.notna().to_numpy()
    weight = table["weight"].to_numpy(dtype=float)
    primary = (table["selection"] == "primary").to_numpy()
    frame = table[classes].copy()
    frame["_primary_w"] = np.where(primary, weight, 0.0)
    frame["_released_w"] = np.where(released, weight, 0.0)
    groups = frame.groupby(classes, sort=False, observed=True, dropna=False)
    release_factor = groups["_primary_w"].transform("sum") / groups["_released_w"].transform("sum")
    base = np.where(released, weight * release_factor.fillna(0.0).to_numpy(), 0.0)

    respondent = (outcome == RESPONDENT).fillna(False).to_numpy()
    eligible = released & ~(outcome == INELIGIBLE).fillna(False).to_numpy()
    frame["_eligible_w"] = np.where(eligible, base, 0.0)
    frame["_respondent_w"] = np.where(respondent, base, 0.0)
    groups = frame.groupby(classes, sort=False, observed=True, dropna=False)
    eligible_total = groups["_eligible_w"].transform("sum").to_numpy()
    respondent_total = groups["_respondent_w"].transform("sum").to_numpy()
    empty = (eligible_total > 0) & (respondent_total == 0)
    if empty.any():
        names = frame.loc[empty, classes].drop_duplicates().astype(str).agg(" | ".join, axis=1)
        raise WeightingError(
            f"Nhóm không có người trả lời nên không điều chỉnh được: {names.tolist()[:5]}. "
            "Hãy gộp nhóm hoặc liên hệ thêm dự phòng.",
            f"Classes without respondents cannot be adjusted: {names.tolist()[:5]}. Merge "
            "classes or release more reserves.",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(respondent_total > 0, eligible_total / respondent_total, 0.0)
    ineligible = released & ~eligible
    adjusted = np.where(respondent, base * factor, np.where(ineligible, base, 0.0))
    return pd.Series(adjusted, index=table.index, name="nr_weight")
