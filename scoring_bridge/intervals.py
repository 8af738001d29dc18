"""Confidence intervals for indices on a bounded scale: Korn–Graubard (beta) intervals.

Every index lies on a bounded scale [L, H] (0–100 for rates and rescaled means, 1–5 for
mean scores). With p = (R̂ − L)/(H − L) and v_p = v(R̂)/(H − L)², the interval is the
Clopper–Pearson interval at an *effective sample size* (Korn & Graubard 1998, *Survey
Methodology* 24: 193–201; R's ``svyciprop(method = "beta")``):

    n* = p(1 − p)/v_p · (t_{n−1} / t_df)²          (degrees-of-freedom adjustment)
    lower = Beta⁻¹(α/2;  n*p,  n*(1 − p) + 1),    upper = Beta⁻¹(1 − α/2;  n*p + 1,  n*(1 − p))

with t_k the (1 − α/2) quantile of Student's t with k degrees of freedom, n the
respondents behind the cell and df its design degrees of freedom (respondents minus
variance strata in the cell). The lower end is L when p = 0 and the upper end H when
p = 1. The interval always lies inside the scale: nothing is clipped.

When the estimated variance is zero (every answer alike, or a census) the design gives no
spread, and a zero-width interval would read as a measurement without error: n* is then
Kish's effective sample size of the cell's weights, (Σw)²/Σw², and no df adjustment is
made; the cell is flagged ``no_variation``. With fewer than 2 respondents or df < 1 the df
adjustment is skipped as well (t with 0 degrees of freedom does not exist).

For a proportion this is exactly Korn and Graubard's interval; for a mean of several
proportions or a mean score it is the same beta interval with the effective sample size
implied by the design variance, which behaves near the ends of the scale where the
normal interval R̂ ± 1.96·SE would run past them.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95


def korn_graubard(
    estimate,
    variance,
    low,
    high,
    n,
    df,
    kish,
    level: float = LEVEL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper ends and the effective sample size n* (arrays, broadcast together).

    NaN where there is no estimate (n = 0).
    """
    estimate, variance, low, high, n, df, kish = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (estimate, variance, low, high, n, df, kish))
    )
    span = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip((estimate - low) / span, 0.0, 1.0)
        v_p = variance / span**2
        flat = ~(v_p > 0)
        n_eff = np.where(flat, kish, p * (1.0 - p) / v_p)
        alpha = 1.0 - level
        adjustable = ~flat & (n >= 2) & (df >= 1)
        t_n = stats.t.ppf(1 - alpha / 2, np.where(adjustable, n - 1, 1))
        t_df = stats.t.ppf(1 - alpha / 2, np.where(adjustable, df, 1))
        n_eff = np.where(adjustable, n_eff * (t_n / t_df) ** 2, n_eff)
        a_low, b_low = n_eff * p, n_eff * (1 - p) + 1
        a_high, b_high = n_eff * p + 1, n_eff * (1 - p)
        lower = np.where(p > 0, stats.beta.ppf(alpha / 2, np.maximum(a_low, 1e-300), b_low), 0.0)
        upper = np.where(
            p < 1, stats.beta.ppf(1 - alpha / 2, a_high, np.maximum(b_high, 1e-300)), 1.0
        )
    missing = np.isnan(estimate) | ~(n > 0) | np.isnan(n_eff)
    lower = np.where(missing, np.nan, low + span * lower)
    upper = np.where(missing, np.nan, low + span * upper)
    return lower, upper, np.where(missing, np.nan, n_eff)
