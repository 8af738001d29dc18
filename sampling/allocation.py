"""Allocation of a total sample size ``n`` across strata.

Methods (Cochran 1977, *Sampling Techniques*, sections 5.5 and 5.9; Lohr 2022, *Sampling:
Design and Analysis*, 3rd ed., section 3.4):

* proportional: ``n_h ∝ N_h``;
* equal: ``n_h = n / H``;
* Neyman (optimum for a fixed total cost per unit): ``n_h = n N_h S_h / Σ_k N_k S_k``.

Bounds. Each stratum gets ``lower_h = min(min_per_stratum, N_h)`` (so a stratum with
``N_h`` at or below the minimum is taken whole) and ``upper_h = min(max_per_stratum, N_h)``.
The real-valued allocation honouring the bounds is ``x_h = clip(λ w_h, lower_h, upper_h)``
with ``w_h`` the method's weight and ``λ`` chosen so that ``Σ x_h = n``. This is the fixed
point of the textbook recursion "give the strata that exceed their cap exactly the cap and
reallocate the excess to the others in proportion to their weights" (Cochran 1977, 5.9),
computed in closed form, so that it also handles minimums and never needs more rounds
than there are strata.

Rounding keeps the total exact with the largest-remainder method (Hamilton's method):
every stratum gets ``floor(x_h)`` and the ``n - Σ floor(x_h)`` units left go to the strata
with the largest fractional parts, ties broken by stratum order. (samplics 0.6.1 rounds
every stratum up, which overshoots the total; Neyman there divides by ``Σ N_h``.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from sampling.errors import SamplingError

# x_h computed in floating point may read 4.9999999999 for an exact 5.
_ROUND_DECIMALS = 9


class Allocation(StrEnum):
    """How the total sample is split across strata."""

    PROPORTIONAL = "proportional"
    EQUAL = "equal"
    NEYMAN = "neyman"


class AllocationError(SamplingError):
    """The allocation cannot be computed from the given sizes and options."""


def parse_allocation(method: Allocation | str) -> Allocation:
    """Accept an :class:`Allocation` or its name (case-insensitive)."""
    try:
        return Allocation(str(method).strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in Allocation)
        raise AllocationError(
            f"Phương pháp phân bổ không hợp lệ: {method!r}. Chọn một trong: {names}.",
            f"Unknown allocation method {method!r}. Choose one of: {names}.",
        ) from None


def _as_count(value: Any, what_vi: str, what_en: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise AllocationError(
            f"{what_vi} phải là số nguyên không âm, nhận được {value!r}.",
            f"{what_en} must be a non-negative integer, got {value!r}.",
        )
    return int(value)


def _weights(method: Allocation, sizes: np.ndarray, sd_values: np.ndarray | None) -> np.ndarray:
    if method is Allocation.PROPORTIONAL:
        return sizes.astype(float)
    if method is Allocation.EQUAL:
        # Empty strata get nothing whatever the method.
        return (sizes > 0).astype(float)
    if sd_values is None:
        raise AllocationError(
            "Phân bổ Neyman cần độ lệch chuẩn S_h của từng tầng.",
            "Neyman allocation needs the standard deviation S_h of every stratum.",
        )
    s_h = np.asarray(sd_values, dtype=float)
    if s_h.shape != sizes.shape or not np.all(np.isfinite(s_h)) or np.any(s_h < 0):
        raise AllocationError(
            "Độ lệch chuẩn phải là số không âm, một giá trị cho mỗi tầng.",
            "Standard deviations must be non-negative numbers, one per stratum.",
        )
    return sizes * s_h


def _bounded_total(lam: float, weights, lower, upper) -> float:
    return float(np.clip(lam * weights, lower, upper).sum())


def continuous_allocation(
    weights: np.ndarray, n: int, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Real ``x_h = clip(λ w_h, lower_h, upper_h)`` with ``Σ x_h = n``.

    ``Σ_h clip(λ w_h, l_h, u_h)`` is continuous, non-decreasing and piecewise linear in
    ``λ`` with breakpoints ``l_h / w_h`` and ``u_h / w_h``; a binary search over the sorted
    breakpoints finds the linear piece holding ``n`` and ``λ`` is solved exactly there.
    Assumes ``Σ lower <= n <= Σ upper`` and that ``n > Σ lower`` only when some weight is
    positive.
    """
    positive = weights > 0
    if n <= lower.sum() or not positive.any():
        return lower.astype(float)
    breakpoints = np.unique(
        np.concatenate([lower[positive] / weights[positive], upper[positive] / weights[positive]])
    )
    totals_lo, totals_hi = 0, len(breakpoints) - 1
    # Invariant: total(breakpoints[lo]) <= n <= total(breakpoints[hi]); total at the last
    # breakpoint is Σ upper over positive weights plus Σ lower elsewhere >= n.
    if _bounded_total(breakpoints[0], weights, lower, upper) >= n:
        totals_hi = 0
    while totals_hi - totals_lo > 1:
        middle = (totals_lo + totals_hi) // 2
        if _bounded_total(breakpoints[middle], weights, lower, upper) <= n:
            totals_lo = middle
        else:
            totals_hi = middle
    lam_lo = breakpoints[totals_lo] if totals_hi > 0 else 0.0
    lam_hi = breakpoints[totals_hi]
    # On (lam_lo, lam_hi) a stratum is either fixed at a bound or equal to λ w_h.
    probe = np.clip(0.5 * (lam_lo + lam_hi) * weights, lower, upper)
    free = positive & (probe > lower) & (probe < upper)
    fixed_total = probe[~free].sum()
    free_weight = weights[free].sum()
    lam = (n - fixed_total) / free_weight if free_weight > 0 else lam_hi
    return np.clip(lam * weights, lower, upper)


def largest_remainder(values: np.ndarray, n: int, upper: np.ndarray) -> np.ndarray:
    """Integers ``floor(x_h)`` plus one for the largest fractional parts, summing to ``n``.

    Ties go to the earlier stratum (stable sort); a stratum already at its cap never gets
    the extra unit.
    """
    values = np.round(values, _ROUND_DECIMALS)
    base = np.minimum(np.floor(values), upper).astype(np.int64)
    left = n - int(base.sum())
    if left > 0:
        fraction = values - base
        fraction[base >= upper] = -1.0
        order = np.argsort(-fraction, kind="stable")
        base[order[:left]] += 1
    return base


def allocate_array(
    sizes: np.ndarray,
    n: int,
    method: Allocation | str = Allocation.PROPORTIONAL,
    *,
    sd_values: np.ndarray | None = None,
    min_per_stratum: int = 0,
    max_per_stratum: int | None = None,
    floors: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Array form of :func:`allocate`: ``sizes`` (and ``sd_values``) in stratum order.

    ``floors`` are further per-stratum minimums (the reporting-domain guard of
    :func:`sampling.draw.domain_floors`), capped by ``N_h`` and the maximum; ``labels``
    name the strata in messages.
    """
    allocation = parse_allocation(method)
    counts = np.asarray(sizes)
    if counts.dtype.kind not in "iu" or (counts < 0).any():
        raise AllocationError(
            "Quy mô tầng phải là số nguyên không âm.",
            "Stratum sizes must be non-negative integers.",
        )
    counts = counts.astype(np.int64)
    n = _as_count(n, "Cỡ mẫu n", "The sample size n")
    min_per_stratum = _as_count(min_per_stratum, "Số tối thiểu mỗi tầng", "The minimum")
    if max_per_stratum is not None:
        max_per_stratum = _as_count(max_per_stratum, "Số tối đa mỗi tầng", "The maximum")
        if max_per_stratum < min_per_stratum:
            raise AllocationError(
                f"Số tối đa mỗi tầng ({max_per_stratum}) nhỏ hơn số tối thiểu ({min_per_stratum}).",
                f"The maximum per stratum ({max_per_stratum}) is below the minimum "
                f"({min_per_stratum}).",
            )
    total = int(counts.sum())
    if n > total:
        raise AllocationError(
            f"Cỡ mẫu n = {n} lớn hơn tổng số đơn vị trong khung mẫu ({total}).",
            f"The sample size n = {n} exceeds the number of units in the frame ({total}).",
        )
    if not len(counts):
        return counts
    weights = _weights(allocation, counts, sd_values)
    upper = counts if max_per_stratum is None else np.minimum(counts, max_per_stratum)
    lower = np.minimum(counts, min_per_stratum)
    if floors is not None:
        lower = np.minimum(np.maximum(lower, floors), upper)
    highest = int(upper[weights > 0].sum() + lower[weights == 0].sum())
    if allocation is Allocation.NEYMAN and n > highest:
        raise _zero_sd_error(n, counts, lower, weights, highest, labels)
    _check_feasible(n, int(lower.sum()), highest, min_per_stratum, floors is not None)
    values = continuous_allocation(weights, n, lower, upper)
    return largest_remainder(values, n, upper)


def _named(positions: np.ndarray, labels: Sequence[str] | None) -> str:
    names = [labels[k] if labels is not None else str(k + 1) for k in positions[:5]]
    return ", ".join(names) + (f" … (+{len(positions) - 5})" if len(positions) > 5 else "")


def _zero_sd_error(n, counts, lower, weights, highest, labels) -> AllocationError:
    """Neyman gives a stratum with S_h = 0 nothing beyond its minimum: when those strata
    hold the units n needs, the cause is their standard deviation, not a maximum."""
    zero = np.flatnonzero((weights == 0) & (counts > lower))
    if not len(zero):  # the maximum per stratum is what leaves too few units
        return AllocationError(*_max_messages(n, highest))
    strata = _named(zero, labels)
    return AllocationError(
        f"Phân bổ Neyman: {len(zero)} tầng có độ lệch chuẩn S_h = 0 ({strata}) nên không "
        f"được chọn thêm ngoài mức tối thiểu; các tầng còn lại chỉ có {highest} đơn vị, ít "
        f"hơn n = {n}. Hãy nhập độ lệch chuẩn thực (S_h > 0) cho các tầng đó, chọn cách "
        "phân bổ khác, hoặc giảm n.",
        f"Neyman allocation: {len(zero)} strata have standard deviation S_h = 0 "
        f"({strata}), so they get nothing beyond their minimum; the other strata hold only "
        f"{highest} units, fewer than n = {n}. Give those strata their real standard "
        "deviation (S_h > 0), choose another allocation, or lower n.",
    )


def allocate(
    sizes: Mapping[Any, int],
    n: int,
    method: Allocation | str = "proportional",
    *,
    sd: Mapping[Any, float] | None = None,
    min_per_stratum: int = 0,
    max_per_stratum: int | None = None,
) -> dict:
    """Split ``n`` across strata; returns ``{stratum: n_h}`` in the order of ``sizes``.

    ``sizes`` maps each stratum to its population size ``N_h``; ``sd`` maps each stratum
    to ``S_h`` (Neyman only). Guarantees: ``Σ n_h = n``; ``n_h <= min(N_h, max)``;
    ``n_h >= min(N_h, min)`` (take-all below the minimum). Raises
    :class:`AllocationError` when ``n > Σ N_h``, when the minimums need more than ``n``,
    when the caps leave fewer than ``n`` units, or on invalid inputs.

    Worked example (proportional, ``n = 100``, ``min_per_stratum = 10``)::

        N_h = A 500, B 300, C 150, D 50   (Σ 1000)
        plain: 50, 30, 15, 5      -> D below 10, fixed at 10
        rest:  90 over A, B, C in ratio 500:300:150 -> 47.37, 28.42, 14.21
        floors 47, 28, 14 (+10) = 99; the 1 left goes to B (.42 > .37 > .21)
        result A 47, B 29, C 14, D 10
    """
    strata = list(sizes)
    counts = np.array(
        [_as_count(sizes[s], "Quy mô tầng", "A stratum size") for s in strata], dtype=np.int64
    )
    sd_values = None
    if sd is not None and parse_allocation(method) is Allocation.NEYMAN:
        missing = [s for s in strata if s not in sd]
        if missing:
            raise AllocationError(
                f"Thiếu độ lệch chuẩn cho tầng: {missing[:5]}.",
                f"Standard deviation missing for strata: {missing[:5]}.",
            )
        sd_values = np.array([sd[s] for s in strata], dtype=float)
    result = allocate_array(
        counts,
        n,
        method,
        sd_values=sd_values,
        min_per_stratum=min_per_stratum,
        max_per_stratum=max_per_stratum,
    )
    return {stratum: int(n_h) for stratum, n_h in zip(strata, result, strict=True)}


def _max_messages(n: int, highest: int) -> tuple[str, str]:
    return (
        f"Với số tối đa mỗi tầng, chỉ chọn được {highest} đơn vị, ít hơn n = {n}. "
        "Hãy tăng số tối đa hoặc giảm n.",
        f"With the maximum per stratum only {highest} units can be drawn, fewer than "
        f"n = {n}. Raise the maximum or lower n.",
    )


def _check_feasible(n: int, lowest: int, highest: int, minimum: int, floors: bool) -> None:
    if n < lowest:
        if floors:
            vi = f"Số tối thiểu mỗi tầng ({minimum}) và mức tối thiểu mỗi miền báo cáo"
            en = f"The minimum per stratum ({minimum}) and the minimum per reporting domain need"
        else:
            vi, en = "Số tối thiểu mỗi tầng", "The minimum per stratum needs"
        raise AllocationError(
            f"{vi} cần {lowest} đơn vị, nhiều hơn cỡ mẫu n = {n}. "
            "Hãy tăng n hoặc giảm số tối thiểu.",
            f"{en} {lowest} units, more than n = {n}. Increase n or lower the minimum.",
        )
    if n > highest:
        raise AllocationError(*_max_messages(n, highest))


def reserve_sizes(reserve: int | float, n_h: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Spares per stratum: a count (int) or a ratio of ``n_h`` (float, rounded up).

    Capped by ``N_h - n_h``. A stratum with ``n_h = 0`` gets no spares.
    """
    if isinstance(reserve, bool) or not isinstance(reserve, int | float) or reserve < 0:
        raise AllocationError(
            f"Số dự phòng phải là số nguyên hoặc tỷ lệ không âm, nhận được {reserve!r}.",
            f"The reserve must be a non-negative count or ratio, got {reserve!r}.",
        )
    if isinstance(reserve, int):
        wanted = np.where(n_h > 0, reserve, 0)
    else:
        if not math.isfinite(reserve):
            raise AllocationError("Tỷ lệ dự phòng không hợp lệ.", "Invalid reserve ratio.")
        wanted = np.ceil(np.round(n_h * float(reserve), _ROUND_DECIMALS)).astype(np.int64)
    return np.minimum(wanted, sizes - n_h).astype(np.int64)
