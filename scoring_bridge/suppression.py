"""Small-cell suppression of published count tables, with complementary suppression.

Primary suppression hides every cell with 1..k−1 respondents (k configurable; empty
cells reveal nobody and stay). Because row and column totals are published, a row or
column with exactly one hidden cell would let a reader subtract it back; complementary
suppression then hides the smallest other non-empty cell of that row or column (or the
margin itself when the row has no other cell), repeating until every row and column has
none or at least two hidden cells (the classic rule; Hundepool et al. 2012, *Statistical
Disclosure Control*, §4.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOTAL = "Tổng"


def suppression_mask(counts: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cells, row totals and column totals to hide in a table of counts.

    Returns boolean arrays: cells (rows × columns), row totals (rows), column totals
    (columns).
    """
    values = counts.to_numpy(dtype=float)
    cells = (values > 0) & (values < k)
    row_totals = np.zeros(values.shape[0], dtype=bool)
    column_totals = np.zeros(values.shape[1], dtype=bool)
    changed = True
    while changed:
        changed = False
        for r in range(values.shape[0]):
            changed |= _protect_line(values[r], cells[r], row_totals, r)
        for c in range(values.shape[1]):
            changed |= _protect_line(values[:, c], cells[:, c], column_totals, c)
    return cells, row_totals, column_totals


def _protect_line(values, hidden, margins, position) -> bool:
    """Hide one more cell of a line (a row or column view) with exactly one hidden cell."""
    if hidden.sum() != 1 or margins[position]:
        return False
    candidates = np.flatnonzero(~hidden & (values > 0))
    if candidates.size == 0:
        # nothing else to hide: the line's total would reveal the cell, so hide it
        margins[position] = True
        return True
    hidden[candidates[np.argmin(values[candidates])]] = True
    return True


def suppress_counts(counts: pd.DataFrame, k: int) -> pd.DataFrame:
    """The table with row and column totals, hidden cells as NaN (published as blanks)."""
    cells, row_totals, column_totals = suppression_mask(counts, k)
    published = counts.astype(float).where(~cells)
    published[TOTAL] = counts.sum(axis=1).astype(float).where(~row_totals)
    bottom = counts.sum(axis=0).astype(float).where(~column_totals)
    bottom[TOTAL] = float(counts.to_numpy().sum())
    published.loc[TOTAL] = bottom
    return published


def published_tables(
    responses: pd.DataFrame, indices: pd.DataFrame, k: int
) -> dict[str, pd.DataFrame]:
    """Tables safe to publish: respondents and overall index by unit × respondent group.

    An index is hidden wherever the count of its cell is hidden.
    """
    used = responses[responses["is_probability"]]
    counts = pd.crosstab(used["unit"].astype(str), used["group"].astype(str))
    counts.index.name, counts.columns.name = "unit", None
    published_counts = suppress_counts(counts, k)
    overall = indices[(indices.level == "overall") & (indices.formula == "satisfaction_rate")]
    single = overall[overall.groups.isin(counts.columns)]
    index_table = single.pivot(index="unit", columns="groups", values="estimate").reindex(
        index=counts.index, columns=counts.columns
    )
    hidden = published_counts.loc[counts.index, counts.columns].isna() & (counts > 0)
    index_table = index_table.where(~hidden).round(1)
    index_table.columns.name = None
    return {"respondents": published_counts, "overall_index": index_table}
