"""Variance strata: how the sample design recorded for a draw enters the standard errors.

The estimators (:mod:`scoring_bridge.estimators`) compute, per domain,

    v(R̂) = Σ_g a_g · (Σ_{i∈g} u_i² − c_g · (Σ_{i∈g} u_i)² / n_g)

over *variance strata* g with n_g respondents. This module turns the sampling strata of
the responses into variance strata and their factors ``a_g`` and centring ``c_g``:

* **SRSWOR and systematic draws** (``selection`` ``srswor`` or ``systematic``): one
  variance stratum per sampling stratum, ``a_g = (1 − f_g) n_g/(n_g − 1)``, ``c_g = 1``,
  with ``f_g = n_g/N_g`` when the stratum sizes are known (finite population
  correction) and 0 otherwise. A systematic draw is treated as simple random sampling
  within its stratum (the usual approximation; it overstates the variance when the
  sort order is related to the answers, never understates it for a random order).
* **PPS draws** (``pps``): units drawn with certainty (inclusion probability 1) form a
  variance stratum of their own with ``a_g = 0`` (they were not sampled, so they carry no
  sampling variance); the other units of each stratum are treated as drawn with
  replacement (Hansen–Hurwitz approximation: no finite population correction,
  ``a_g = n_g/(n_g − 1)``), which slightly overstates the variance of a without-
  replacement PPS draw.
* **Strata with a single respondent** (n_g = 1 and a positive sampling fraction left
  to estimate), by the chosen ``single`` method:

  ``collapse`` (default)
      merged with the most similar stratum of the same rated unit: one of the same
      respondent group when there is one, else any other stratum of the unit; among
      those the one whose mean weight is closest (similar sampling rate). Strata merged
      this way form one variance stratum (n and N added up). A unit with no other
      stratum falls back to ``adjust``.
  ``adjust``
      R's ``options(survey.lonely.psu = "adjust")``: the respondent's linearised value is
      centred at the domain's estimate instead of its stratum mean: ``a_g = 1 − f_g``,
      ``c_g = 0``.
  ``certainty``
      R's ``"certainty"``: the stratum contributes no variance (``a_g = 0``). This was the
      earlier behaviour; it understates the standard error.
  ``refuse``
      scoring stops with the list of such strata, for the Department to merge strata
      or add respondents.

Every variance stratum that holds a single-respondent stratum (after a collapse, the
merged one too) is marked, and every index cell with respondents in it is flagged
``single_respondent_stratum``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring_bridge.errors import ResponsesError, ScoringError

SELECTION_METHODS = ("srswor", "systematic", "pps")
SINGLE_RESPONDENT_METHODS = ("collapse", "adjust", "certainty", "refuse")
DEFAULT_SINGLE = "collapse"
CERTAINTY = 1.0 - 1e-9  # inclusion probabilities at or above this are certainty units
CERTAINTY_SUFFIX = " [certainty]"


def check_method(value: str, allowed: tuple[str, ...], key: str) -> str:
    value = str(value).strip().lower()
    if value not in allowed:
        raise ScoringError(
            f"'{key}' = '{value}' không hợp lệ; dùng một trong: {', '.join(allowed)}.",
            f"'{key}' = '{value}' is not valid; use one of: {', '.join(allowed)}.",
            key=key,
            value=value,
        )
    return value


def selection_of_manifest(manifest: Mapping | None) -> str:
    """The variance ``selection`` for a draw's manifest (``design.method``)."""
    method = str(((manifest or {}).get("design") or {}).get("method") or "srswor").lower()
    if method.startswith("pps"):
        return "pps"
    return "systematic" if method == "systematic" else "srswor"


@dataclass(frozen=True)
class VarianceStrata:
    """Per row the variance stratum; per variance stratum its factors and marks."""

    codes: np.ndarray  # per row: variance-stratum id
    labels: np.ndarray  # per variance stratum: label (merged labels '+'-joined)
    factor: np.ndarray  # a_g
    centre: np.ndarray  # c_g (1, or 0 for 'adjust')
    n: np.ndarray  # respondents
    single: np.ndarray  # holds a single-respondent sampling stratum
    collapsed: dict[str, str]  # sampling stratum → the variance stratum it was merged into
    adjusted: tuple[str, ...]  # single-respondent strata treated by 'adjust'
    single_strata: tuple[str, ...]  # sampling strata with a single respondent
    certainty_rows: int


def variance_strata(
    frame: pd.DataFrame,
    *,
    selection: str = "srswor",
    single: str = DEFAULT_SINGLE,
    population: Mapping[str, float] | None = None,
) -> VarianceStrata:
    """Variance strata of the rows of ``frame`` (columns unit, group, stratum, weight and,
    for PPS, inclusion_prob); see the module docstring."""
    selection = check_method(selection, SELECTION_METHODS, "selection")
    single = check_method(single, SINGLE_RESPONDENT_METHODS, "single_respondent_strata")
    stratum = frame["stratum"].astype(str).to_numpy(dtype=object)
    certain = np.zeros(len(frame), dtype=bool)
    if selection == "pps":
        certain = _certainty_rows(frame)
        stratum = np.where(certain, stratum + CERTAINTY_SUFFIX, stratum)
    codes, labels = pd.factorize(stratum, sort=True)
    labels = np.asarray(labels, dtype=object)
    n = np.bincount(codes, minlength=len(labels)).astype(np.float64)
    is_certain = np.array([str(s).endswith(CERTAINTY_SUFFIX) for s in labels], dtype=bool)
    sizes = _population_sizes(labels, n, population if selection != "pps" else None)
    sizes[is_certain] = n[is_certain]  # taken with certainty: a census of themselves
    fraction = np.where(np.isfinite(sizes), n / sizes, 0.0)
    single_mask = (n == 1) & (fraction < 1.0)
    if single_mask.any() and single == "refuse":
        _refuse(labels[single_mask], frame, stratum)
    merged_into = np.arange(len(labels))
    adjusted_mask = single_mask.copy() if single == "adjust" else np.zeros_like(single_mask)
    if single == "collapse" and single_mask.any():
        merged_into, fallback = _collapse(frame, codes, labels, n, single_mask, is_certain)
        adjusted_mask = fallback
    # Variance strata: the roots of the merges, renumbered.
    roots, variance_of = np.unique(merged_into, return_inverse=True)
    row_codes = variance_of[codes]
    count = len(roots)
    group_n = np.bincount(variance_of, weights=n, minlength=count)
    group_size = np.bincount(
        variance_of, weights=np.where(np.isfinite(sizes), sizes, 0.0), minlength=count
    )
    infinite = np.bincount(variance_of, weights=~np.isfinite(sizes), minlength=count) > 0
    group_size = np.where(infinite, np.inf, group_size)
    group_single = np.bincount(variance_of, weights=single_mask, minlength=count) > 0
    group_adjust = np.bincount(variance_of, weights=adjusted_mask, minlength=count) > 0
    group_certain = np.bincount(variance_of, weights=is_certain, minlength=count) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc = np.where(np.isfinite(group_size), 1.0 - group_n / group_size, 1.0)
        fpc = np.clip(fpc, 0.0, 1.0)
        factor = np.where(group_n > 1, fpc * group_n / (group_n - 1), 0.0)
    centre = np.ones(count)
    lone = group_n == 1
    factor = np.where(lone & group_adjust, fpc, factor)  # R's "adjust"
    centre = np.where(lone & group_adjust, 0.0, centre)
    factor = np.where(group_certain, 0.0, factor)
    group_labels = np.empty(count, dtype=object)
    for g in range(count):
        group_labels[g] = "+".join(str(s) for s in labels[variance_of == g])
    collapsed = {
        str(labels[s]): str(group_labels[variance_of[s]])
        for s in range(len(labels))
        if (variance_of == variance_of[s]).sum() > 1
    }
    return VarianceStrata(
        codes=row_codes.astype(np.intp),
        labels=group_labels,
        factor=factor,
        centre=centre,
        n=group_n,
        single=group_single,
        collapsed=collapsed,
        adjusted=tuple(str(s) for s in labels[adjusted_mask]),
        single_strata=tuple(str(s) for s in labels[single_mask]),
        certainty_rows=int(certain.sum()),
    )


def _certainty_rows(frame: pd.DataFrame) -> np.ndarray:
    if "inclusion_prob" not in frame:
        raise ResponsesError(
            "Mẫu chọn theo PPS: cần cột 'inclusion_prob' (xác suất chọn của từng người được "
            "chọn) để tính sai số.",
            "A PPS draw needs the column 'inclusion_prob' (each respondent's inclusion "
            "probability) for the standard errors.",
            column="inclusion_prob",
        )
    probability = pd.to_numeric(frame["inclusion_prob"], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(probability, nan=0.0) >= CERTAINTY


def _population_sizes(labels, n, population) -> np.ndarray:
    if not population:
        return np.full(len(labels), np.inf)
    sizes = np.empty(len(labels))
    for position, label in enumerate(labels):
        size = population.get(str(label))
        if size is None:
            raise ScoringError(
                f"Thiếu cỡ tổng thể N_h của tầng '{label}'.",
                f"Population size N_h of stratum '{label}' is missing.",
                key="stratum_population",
                value=str(label),
            )
        if size < n[position]:
            raise ScoringError(
                f"Tầng '{label}': {int(n[position])} phiếu nhưng N_h = {size}.",
                f"Stratum '{label}': {int(n[position])} responses but N_h = {size}.",
                key="stratum_population",
                value=str(label),
            )
        sizes[position] = float(size)
    return sizes


def _refuse(single_labels, frame, stratum) -> None:
    shown = ", ".join(str(s) for s in single_labels[:20])
    more = f" (+{len(single_labels) - 20})" if len(single_labels) > 20 else ""
    raise ScoringError(
        f"{len(single_labels)} tầng chỉ có một người trả lời, không ước lượng được sai số: "
        f"{shown}{more}. Gộp các tầng này với tầng tương tự (single_respondent_strata: "
        "collapse) hoặc chọn cách khác (adjust, certainty).",
        f"{len(single_labels)} strata have a single respondent, so their variance cannot be "
        f"estimated: {shown}{more}. Collapse them with similar strata (single_respondent_"
        "strata: collapse) or choose another method (adjust, certainty).",
        key="single_respondent_strata",
        value=[str(s) for s in single_labels],
    )


def _collapse(frame, codes, labels, n, single_mask, is_certain):
    """Union of each single-respondent stratum with its most similar stratum of the unit.

    Returns the root stratum of every stratum and the mask of single-respondent strata
    that found no partner (they fall back to 'adjust').
    """
    table = pd.DataFrame(
        {
            "code": codes,
            "unit": frame["unit"].astype(str).to_numpy(),
            "group": frame["group"].astype(str).to_numpy(),
            "weight": frame["weight"].to_numpy(dtype=float),
        }
    )
    by_stratum = table.groupby("code").agg(
        unit=("unit", "first"),
        units=("unit", "nunique"),
        group=("group", "first"),
        weight=("weight", "mean"),
    )
    parent = np.arange(len(labels))

    def root(s: int) -> int:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    fallback = np.zeros(len(labels), dtype=bool)
    eligible = ~is_certain
    for s in np.flatnonzero(single_mask):
        if by_stratum.at[s, "units"] != 1:
            fallback[s] = True  # a stratum spanning several units has no "same unit"
            continue
        unit, group, weight = by_stratum.loc[s, ["unit", "group", "weight"]]
        same_unit = by_stratum.index[
            (by_stratum.unit == unit) & (by_stratum.units == 1) & (by_stratum.index != s)
        ]
        same_unit = [c for c in same_unit if eligible[c] and root(c) != root(s)]
        if not same_unit:
            if root(s) == s:
                fallback[s] = True
            continue
        candidates = [c for c in same_unit if by_stratum.at[c, "group"] == group] or same_unit
        distance = [abs(by_stratum.at[c, "weight"] - weight) for c in candidates]
        # ties: the smaller stratum label, so the choice does not depend on row order
        order = sorted(
            range(len(candidates)), key=lambda i: (distance[i], str(labels[candidates[i]]))
        )
        partner = candidates[order[0]]
        a, b = root(s), root(partner)
        parent[max(a, b)] = min(a, b)
    roots = np.array([root(s) for s in range(len(labels))])
    # a single stratum that only absorbed other single strata may still be alone: n = 1
    merged_n = np.bincount(roots, weights=n, minlength=len(labels))
    fallback |= single_mask & (merged_n[roots] == 1)
    return roots, fallback
