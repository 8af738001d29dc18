"""Raking the weights to totals the Department knows (for example procedures by field).

The Department may know, for each unit, how many procedures of each field (or dossiers by
mode, or people by sex) it handled in the period. Raking (iterative proportional fitting,
Deming & Stephan 1940; R's ``survey::rake``) adjusts the weights so that, within each
unit, the weighted count of the sample in every category of every given variable equals
the known total, changing the weights as little as the margins allow:

    repeat until every margin is met (relative difference below 1e-10, at most 100 rounds):
        for each variable X, for each category c:  w_i ← w_i · T_c / Σ_{X_i = c} w_i

Totals (CSV or XLSX: :func:`read_totals`) have the columns ``unit`` (the totals of one
unit; empty or absent: the whole sample), ``variable`` (a questionnaire variable of the
microdata, or ``group``/``mode``), ``category`` (its code) and ``total``. Only
probability respondents are raked; walk-ins keep their weights. Every problem is
reported at once (row, column, value): a variable not in the responses, a category
answered in a unit without a total, a total whose category nobody in the unit answered
(no weight can reach it), a respondent without an answer to a raking variable, margins
that disagree on the unit's total, or margins that cannot all be met.

The published standard errors treat the raked weights as fixed: they do not show the
gain from calibration (usually a small reduction of the variance for answers related to
the margins), so they tend to be conservative. The estimates are R's ``rake`` ones
exactly (``tests/scoring_bridge/test_raking.py``).

Written here rather than taken from a library: samplics' ``rake`` (the Python option)
rakes the whole sample only, to a relative tolerance of 1e-4, and brings polars and
statsmodels; the rule itself is the few lines below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring_bridge.errors import ScoringError

TOTALS_COLUMNS = ("variable", "category", "total")
TOLERANCE = 1e-10
MAX_ROUNDS = 100
_LISTED = 10


def read_totals(path: str | Path) -> pd.DataFrame:
    """Known totals from a CSV or XLSX file (columns ``unit``, ``variable``, ``category``,
    ``total``), checked for shape; :func:`rake_weights` checks them against the sample."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, engine="calamine", dtype=str)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ScoringError(
            f"Không đọc được tệp tổng số đã biết {path.name}: {exc}",
            f"Cannot read the known totals file {path.name}: {exc}",
        ) from exc
    return check_totals(frame)


def check_totals(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in TOTALS_COLUMNS if c not in frame.columns]
    if missing:
        raise ScoringError(
            f"Tệp tổng số đã biết thiếu cột {', '.join(missing)} (cần unit, variable, "
            "category, total).",
            f"The known totals lack the column(s) {', '.join(missing)} (unit, variable, "
            "category, total are expected).",
            column=missing[0],
        )
    if "unit" not in frame:
        frame["unit"] = ""
    for column in ("unit", "variable", "category"):
        frame[column] = frame[column].fillna("").map(_code)
    totals = pd.to_numeric(frame["total"].astype(str).str.replace(",", "."), errors="coerce")
    bad = frame.index[~(totals > 0)]
    if len(bad):
        shown = "; ".join(f"dòng {i + 2}: {frame.at[i, 'total']!r}" for i in bad[:_LISTED])
        shown_en = "; ".join(f"row {i + 2}: {frame.at[i, 'total']!r}" for i in bad[:_LISTED])
        raise ScoringError(
            f"Cột total phải là số dương — {shown}.",
            f"Column total must hold positive numbers — {shown_en}.",
            row=int(bad[0]) + 2,
            column="total",
        )
    frame["total"] = totals.astype(float)
    return frame[["unit", "variable", "category", "total"]]


def _code(value) -> str:
    """A category as text: 3.0 → '3', so codes read from spreadsheets match the answers."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def rake_weights(responses: pd.DataFrame, totals: pd.DataFrame) -> np.ndarray:
    """The raked weights of ``responses`` (prepared responses; walk-ins unchanged)."""
    totals = check_totals(totals)
    weights = responses["weight"].to_numpy(dtype=float).copy()
    probability = responses["is_probability"].to_numpy(dtype=bool)
    units = responses["unit"].astype(str).to_numpy()
    problems: list[tuple[str, str]] = []
    for unit, margins in totals.groupby("unit", sort=True):
        rows = probability & (units == unit) if unit else probability.copy()
        if not rows.any():
            problems.append(
                (
                    f"đơn vị {unit}: không có người trả lời nào để điều chỉnh",
                    f"unit {unit}: no respondent to rake",
                )
            )
            continue
        cells = _cells(responses, rows, margins, unit, problems)
        if cells:
            weights[rows] = _fit(weights[rows], cells, unit or "*", problems)
    if problems:
        more = f" (+{len(problems) - _LISTED})" if len(problems) > _LISTED else ""
        raise ScoringError(
            "Không điều chỉnh được trọng số theo tổng số đã biết: "
            + "; ".join(vi for vi, _ in problems[:_LISTED])
            + more
            + ".",
            "The weights cannot be raked to the known totals: "
            + "; ".join(en for _, en in problems[:_LISTED])
            + more
            + ".",
            key="raking",
        )
    return weights


def _cells(responses, rows, margins, unit, problems):
    """Per variable: (category index per raked row, totals per category)."""
    where = f"đơn vị {unit}" if unit else "toàn mẫu"
    where_en = f"unit {unit}" if unit else "the whole sample"
    cells = []
    for variable, margin in margins.groupby("variable", sort=True):
        if variable not in responses:
            problems.append(
                (
                    f"{where}: biến '{variable}' không có trong phiếu trả lời",
                    f"{where_en}: variable '{variable}' is not in the responses",
                )
            )
            continue
        values = responses.loc[rows, variable]
        answered = values.notna() & (values.astype(str).str.strip() != "")
        if not answered.all():
            problems.append(
                (
                    f"{where}: {int((~answered).sum())} người không trả lời biến '{variable}'",
                    f"{where_en}: {int((~answered).sum())} respondents lack '{variable}'",
                )
            )
            continue
        codes = values.map(_code).to_numpy()
        known = dict(zip(margin["category"], margin["total"], strict=True))
        unknown = sorted(set(codes) - set(known))
        empty = sorted(set(known) - set(codes))
        if unknown:
            problems.append(
                (
                    f"{where}, biến '{variable}': thiếu tổng số cho mã {', '.join(unknown)}",
                    f"{where_en}, variable '{variable}': no total for code(s) {', '.join(unknown)}",
                )
            )
        if empty:
            problems.append(
                (
                    f"{where}, biến '{variable}': không ai trả lời mã {', '.join(empty)}",
                    f"{where_en}, variable '{variable}': nobody answered code(s) "
                    f"{', '.join(empty)}",
                )
            )
        if unknown or empty:
            continue
        categories = sorted(known)
        index = pd.Index(categories).get_indexer(codes)
        cells.append((variable, index, np.array([known[c] for c in categories])))
    sums = {round(float(t.sum()), 6) for _, _, t in cells}
    if len(sums) > 1:
        problems.append(
            (
                f"{where}: tổng các biến khác nhau ({', '.join(f'{s:g}' for s in sorted(sums))})",
                f"{where_en}: the variables' totals differ "
                f"({', '.join(f'{s:g}' for s in sorted(sums))})",
            )
        )
        return []
    return cells


def _fit(weights, cells, unit, problems):
    for _ in range(MAX_ROUNDS):
        for _variable, index, target in cells:
            current = np.bincount(index, weights, len(target))
            weights = weights * (target / current)[index]
        worst = max(
            float(np.max(np.abs(np.bincount(index, weights, len(target)) / target - 1)))
            for _variable, index, target in cells
        )
        if worst < TOLERANCE:
            return weights
    problems.append(
        (
            f"đơn vị {unit}: các tổng số không đạt được đồng thời sau {MAX_ROUNDS} vòng",
            f"unit {unit}: the margins cannot all be met after {MAX_ROUNDS} rounds",
        )
    )
    return weights
