"""Selection of units within strata, all strata at once.

Every method draws ``m_h = n_h + r_h`` units per stratum (primary plus reserve) and puts
them in a random order: the first ``n_h`` are the primary sample and the rest the ordered
reserve list (rank 1, 2, ...). Because a random subset of ``n_h`` of a sample of ``m_h``
drawn by the method is what the primary sample is, primary + reserve is itself a sample
of the stratum drawn by the method, and replacing in rank order keeps every released set
(primary + first ``k`` reserves) a random sample (for SRS an SRS of size ``n_h + k``).

* SRSWOR: an independent uniform key per row; the ``m_h`` smallest keys of each stratum,
  in key order (sorting by random numbers, Sunter 1977; Tillé 2006, 4.4), found by
  sorting only the rows whose key falls below a generous per-stratum bound.
* Systematic: rows sorted within stratum by the sort keys (implicit stratification),
  fractional interval ``k = N_h / m_h`` and random start ``u`` in ``(0, k]``; the units at
  1-based positions ``ceil(u + j k)``, ``j = 0..m_h-1``, are selected, so every unit has
  probability exactly ``m_h / N_h`` (SAS/STAT SURVEYSELECT, METHOD=SYS; Madow & Madow
  1944). An integer interval ``int(N/n)`` (samplics 0.6.1) does not.
* PPS systematic without replacement: units with size ``x_i`` at least the interval
  ``X / m`` are taken with certainty and removed, and the interval is recomputed on the
  rest until none is left; then a systematic pass with interval ``X' / m'`` over the
  cumulated sizes in sort-key order (random order without keys) gives
  ``pi_i = m' x_i / X'`` (Madow 1949; Cochran 1977, 9A.7; SAS METHOD=PPS_SYS).

Randomness only comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from sampling.errors import SamplingError


class SelectionMethod(StrEnum):
    """How units are selected within a stratum."""

    SRSWOR = "srswor"
    SYSTEMATIC = "systematic"
    PPS_SYSTEMATIC = "pps_systematic"


class SelectionError(SamplingError):
    """Units cannot be selected as asked (method, size measure, sizes)."""


def parse_method(method: SelectionMethod | str) -> SelectionMethod:
    """Accept a :class:`SelectionMethod` or its name (case-insensitive, ``sys``/``pps``)."""
    aliases = {"srs": "srswor", "sys": "systematic", "pps": "pps_systematic"}
    text = str(method).strip().lower()
    try:
        return SelectionMethod(aliases.get(text, text))
    except ValueError:
        names = ", ".join(m.value for m in SelectionMethod)
        raise SelectionError(
            f"Phương pháp chọn không hợp lệ: {method!r}. Chọn một trong: {names}.",
            f"Unknown selection method {method!r}. Choose one of: {names}.",
        ) from None


@dataclass(frozen=True)
class Selected:
    """Units drawn, grouped by stratum in stratum order, primary first then reserves.

    ``rows``: frame positions; ``stratum``: stratum code; ``rank``: 0-based order within
    the stratum (``rank < n_h`` is primary, reserve rank is ``rank - n_h + 1``);
    ``inclusion_prob``: probability of being in the primary sample.
    """

    rows: np.ndarray
    stratum: np.ndarray
    rank: np.ndarray
    inclusion_prob: np.ndarray


def stratum_starts(sizes: np.ndarray) -> np.ndarray:
    """Offset of each stratum's first row once rows are grouped by stratum."""
    starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    return starts


def _ranks(take: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stratum code and 0-based rank of every drawn unit, ``take[h]`` per stratum."""
    total = int(take.sum())
    stratum = np.repeat(np.arange(len(take), dtype=np.int32), take)
    first = np.repeat(stratum_starts(take), take)
    return stratum, np.arange(total, dtype=np.int64) - first


def _equal_probabilities(n_h: np.ndarray, sizes: np.ndarray, stratum: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        per_stratum = np.where(sizes > 0, n_h / np.maximum(sizes, 1), 0.0)
    return per_stratum[stratum]


KEY_BITS = 48  # random keys are uniform integers below 2**48
_CODE_SHIFT = np.uint64(KEY_BITS)


def uniform_keys(size: int, rng: np.random.Generator) -> np.ndarray:
    """Independent uniform keys, integers in [0, 2**48), one per row."""
    return rng.integers(0, 1 << KEY_BITS, size=size, dtype=np.uint64)


def _key_bounds(sizes: np.ndarray, take: np.ndarray) -> np.ndarray:
    """Per-stratum key bound holding at least ``take[h]`` of ``sizes[h]`` uniform keys
    with probability about 1 - 3e-5: expected count plus four binomial standard
    deviations plus two (as a fraction of 2**48; 1 means the whole stratum)."""
    population = np.maximum(sizes, 1)
    fraction = take / population
    spare = 4.0 * np.sqrt(take * (1.0 - fraction)) + 2.0
    threshold = np.minimum(1.0, (take + spare) / population)
    threshold[take == 0] = 0.0
    threshold[take >= sizes] = 1.0
    return threshold


def _order_by_stratum_then_key(codes: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Stable order by (stratum, key): one sort of a packed 64-bit (code, key) value."""
    if len(codes) and int(codes.max()) < (1 << (64 - KEY_BITS)):
        packed = (codes.astype(np.uint64) << _CODE_SHIFT) | keys
        return np.argsort(packed, kind="stable")
    return np.lexsort((keys, codes))


def select_srswor(
    codes: np.ndarray,
    sizes: np.ndarray,
    n_h: np.ndarray,
    take: np.ndarray,
    rng: np.random.Generator,
) -> Selected:
    """SRSWOR of ``take[h]`` units per stratum, in random order; ``codes`` small ints.

    Every row gets an independent uniform key; the ``take[h]`` rows with the smallest
    keys in each stratum, in key order, are a simple random sample in random order
    (sorting by random numbers: Sunter 1977, Appl. Statist. 26(3); Tillé 2006, *Sampling
    Algorithms*, section 4.4). Keys are 48-bit integers; equal keys (probability about
    N^2 / 2^49) are ordered by row, so the draw stays reproducible. Only rows whose key is
    below a per-stratum bound comfortably above ``take[h] / N_h`` are sorted; a stratum
    left short of ``take[h]`` such rows (rare) is screened again with no bound, so the
    result is exactly the smallest keys. This sorts about 1.5 x sum(take) keys instead of
    permuting the whole frame.

    A stratum with ``take[h] = 0`` simply contributes nothing (samplics 0.6.1 crashes).
    """
    keys = uniform_keys(len(codes), rng)
    fraction = _key_bounds(sizes, take)
    while True:
        bound = np.where(
            fraction >= 1.0,
            np.uint64(1 << KEY_BITS),
            (fraction * (1 << KEY_BITS)).astype(np.uint64),
        )
        candidates = np.flatnonzero(keys < bound[codes])
        candidate_codes = codes[candidates]
        counts = np.bincount(candidate_codes, minlength=len(sizes))
        short = counts < take
        if not short.any():
            break
        fraction[short] = 1.0
    grouped = _order_by_stratum_then_key(candidate_codes, keys[candidates])
    stratum, rank = _ranks(take)
    rows = candidates[grouped[stratum_starts(counts)[stratum] + rank]]
    return Selected(rows, stratum, rank, _equal_probabilities(n_h, sizes, stratum))


def _shuffle_within(stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Permutation putting units in random order within each stratum, strata kept in order."""
    keys = rng.random(len(stratum))
    return np.lexsort((keys, stratum))


def select_systematic(
    order: np.ndarray,
    sizes: np.ndarray,
    n_h: np.ndarray,
    take: np.ndarray,
    rng: np.random.Generator,
) -> Selected:
    """Systematic selection with fractional interval ``N_h / take_h`` in every stratum.

    ``order`` lists frame positions grouped by stratum (stratum order) and sorted by the
    sort keys within each stratum.
    """
    starts_unit = 1.0 - rng.random(len(sizes))  # u / k in (0, 1]
    stratum, step = _ranks(take)
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = np.where(take > 0, sizes / np.maximum(take, 1), 0.0)
    position = np.ceil((starts_unit[stratum] + step) * interval[stratum]).astype(np.int64)
    position = np.clip(position, 1, sizes[stratum])  # guards floating-point rounding
    rows = order[stratum_starts(sizes)[stratum] + position - 1]
    shuffled = _shuffle_within(stratum, rng)
    rows = rows[shuffled]
    return Selected(rows, stratum, step, _equal_probabilities(n_h, sizes, stratum))


def pps_certainties(x: np.ndarray, m: int) -> np.ndarray:
    """Mask of certainty units: ``x_i >= X / m`` on the rest, repeated until stable."""
    certain = np.zeros(len(x), dtype=bool)
    left = m
    while left > 0:
        rest = ~certain
        interval = x[rest].sum() / left
        new = rest & (x >= interval)
        if not new.any():
            break
        certain |= new
        left = m - int(certain.sum())
    return certain


def pps_systematic_one(
    x: np.ndarray, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Systematic PPS of ``m`` units from sizes ``x`` (already in selection order).

    Returns local indices of the selected units and the inclusion probability of every
    unit. Caller guarantees ``m <= (x > 0).sum()``.
    """
    probabilities = np.zeros(len(x))
    if m == 0:
        return np.empty(0, dtype=np.int64), probabilities
    certain = pps_certainties(x, m)
    probabilities[certain] = 1.0
    left = m - int(certain.sum())
    chosen = [np.flatnonzero(certain)]
    if left > 0:
        rest = np.flatnonzero(~certain)
        sizes = x[rest]
        total = sizes.sum()
        interval = total / left
        probabilities[rest] = left * sizes / total
        points = rng.random() * interval + interval * np.arange(left)
        # Unit i covers [C_{i-1}, C_i); zero-size units cover nothing and are skipped.
        hit = np.searchsorted(np.cumsum(sizes), points, side="right")
        chosen.append(rest[np.minimum(hit, len(rest) - 1)])
    return np.concatenate(chosen), probabilities


def select_pps_systematic(
    order: np.ndarray,
    sizes: np.ndarray,
    size_measure: np.ndarray,
    n_h: np.ndarray,
    take: np.ndarray,
    rng: np.random.Generator,
    labels: list[str],
) -> Selected:
    """PPS systematic of ``take[h]`` units per stratum, then a random primary/reserve split.

    ``order`` lists frame positions grouped by stratum and in selection order within it;
    ``size_measure`` is indexed by frame position.
    """
    starts = stratum_starts(sizes)
    rows, probabilities = [], []
    for h in np.flatnonzero(take):
        members = order[starts[h] : starts[h] + sizes[h]]
        x = size_measure[members]
        if take[h] > np.count_nonzero(x > 0):
            raise SelectionError(
                f"Tầng {labels[h]}: chỉ có {np.count_nonzero(x > 0)} đơn vị có quy mô > 0, "
                f"không đủ để chọn {take[h]}.",
                f"Stratum {labels[h]}: only {np.count_nonzero(x > 0)} units have a positive "
                f"size measure, fewer than the {take[h]} to draw.",
            )
        local, pi = pps_systematic_one(x, int(take[h]), rng)
        local = local[rng.permutation(len(local))]
        rows.append(members[local])
        # Primary = random n_h of the m_h drawn: pi_primary = pi * n_h / m_h.
        probabilities.append(pi[local] * (n_h[h] / take[h]))
    stratum, rank = _ranks(take)
    if not rows:
        return Selected(np.empty(0, np.int64), stratum, rank, np.empty(0))
    return Selected(np.concatenate(rows), stratum, rank, np.concatenate(probabilities))
