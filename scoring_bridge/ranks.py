"""Ranks with their uncertainty: rank intervals and groups of units that cannot be told apart.

Units are ranked by their overall index, best first (``rank``: 1 + the number of units
with a higher index, ties sharing the better rank). Each index has a sampling error, so
a rank is uncertain too. Units' samples are independent (strata lie within units), so
the difference of two indices has standard error √(s_a² + s_b²). Here s is the standard
error behind the published 95% interval, s = (upper − lower)/(2 · 1.96): the linearised
SE when the interval is symmetric, wider where the Korn–Graubard interval is (small
degrees of freedom, a cell without variation), so that a unit whose answers were all
alike is not taken as measured without error.

Two units *differ* when |I_a − I_b| > 1.96 · √(s_a² + s_b²) (a two-sided test at 5%, each
pair on its own: no multiple-comparison adjustment, so some pairs will differ by chance).

* **Rank interval** of unit a: from 1 + (units that are higher *and* differ from a) to
  N − (units that are lower and differ from a): the ranks a could take if every
  difference that is not significant went either way (Goldstein & Spiegelhalter 1996,
  *JRSS A* 159: 385–443, discuss such intervals for league tables).
* **Groups** ("nhóm"): units in index order; the best unit opens group 1, and the
  following units join it until one differs from the group's first unit: that one opens
  the next group, and so on. Units of one group cannot be told apart from the group's
  first unit; the groups are shown beside the strict order, which the data do not
  support within a group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


def comparison_se(ci_low, ci_high, level: float = LEVEL) -> np.ndarray:
    """The standard error behind a published interval: its width / (2 z)."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    return (np.asarray(ci_high, dtype=float) - np.asarray(ci_low, dtype=float)) / (2 * z)


def differ(estimate, se, level: float = LEVEL) -> np.ndarray:
    """N × N: True where units a and b differ at the given level (the diagonal is False)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    gap = np.abs(estimate[:, None] - estimate[None, :])
    spread = np.sqrt(se[:, None] ** 2 + se[None, :] ** 2)
    return gap > z * spread


def rank_table(estimate, ci_low, ci_high, level: float = LEVEL) -> pd.DataFrame:
    """Rank, rank interval and group of each unit (inputs in the same order; no NaN).

    Returns columns ``rank``, ``rank_low``, ``rank_high``, ``rank_group`` in the input order.
    """
    estimate = np.asarray(estimate, dtype=float)
    count = len(estimate)
    if count == 0:
        return pd.DataFrame(columns=["rank", "rank_low", "rank_high", "rank_group"], dtype="Int64")
    distinct = differ(estimate, comparison_se(ci_low, ci_high, level), level)
    higher = estimate[None, :] > estimate[:, None]  # [a, b]: b is above a
    lower = estimate[None, :] < estimate[:, None]
    rank = 1 + higher.sum(axis=1)
    rank_low = 1 + (higher & distinct).sum(axis=1)
    rank_high = count - (lower & distinct).sum(axis=1)
    group = np.zeros(count, dtype=np.int64)
    order = np.lexsort((np.arange(count), -estimate))
    leader, current = order[0], 1
    for unit in order:
        if distinct[leader, unit]:
            leader, current = unit, current + 1
        group[unit] = current
    return pd.DataFrame(
        {"rank": rank, "rank_low": rank_low, "rank_high": rank_high, "rank_group": group}
    ).astype("Int64")
