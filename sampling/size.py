"""Sample sizes for estimating a proportion.

Two rules are offered:

* Cochran's rule (Cochran 1977, *Sampling Techniques*, 3rd ed., eq. 4.2 and 4.3):
  ``n0 = z^2 p (1 - p) / e^2`` for a margin of error ``e`` at confidence level ``1 - alpha``
  (``z`` the ``1 - alpha/2`` normal quantile), then the finite population correction
  ``n = n0 / (1 + (n0 - 1) / N)``.
* Yamane's rule (Yamane 1967, *Statistics: An Introductory Analysis*, 2nd ed., p. 886),
  ``n = N / (1 + N e^2)``, the one used in Vietnamese guidance with ``e = 5%``. It is
  Cochran's rule with ``p = 0.5`` and ``z = 2`` (about 95%) and a slightly different
  correction.

Both can be inflated for an expected response rate ``rr``: ``n / rr`` persons must be
contacted to obtain about ``n`` answers. Results are rounded up and never exceed ``N``.

Per-stratum use: call the function once per stratum with ``population=N_h`` to get a
sample size that gives the margin of error within each stratum (e.g. each unit's own
index), or once with ``population=sum(N_h)`` and split the result with
:func:`sampling.allocate` for a margin on the province-wide estimate only.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from sampling.errors import SamplingError

# Rounding guard: 384.00000000001 produced by floating point must round up to 384, not 385.
_CEIL_TOLERANCE = 1e-9


class SampleSizeError(SamplingError):
    """A sample-size parameter is out of range."""


def _check_open_unit_interval(value: float, name_vi: str, name_en: str) -> None:
    if not (isinstance(value, int | float) and 0 < value < 1):
        raise SampleSizeError(
            f"{name_vi} phải nằm trong khoảng (0; 1), nhận được {value!r}.",
            f"{name_en} must be between 0 and 1 (exclusive), got {value!r}.",
        )


def _check_population(population: int | None) -> None:
    if population is None:
        return
    if isinstance(population, bool) or not isinstance(population, int) or population < 1:
        raise SampleSizeError(
            f"Quy mô tổng thể phải là số nguyên dương, nhận được {population!r}.",
            f"The population size must be a positive integer, got {population!r}.",
        )


def _check_response_rate(response_rate: float | None) -> None:
    if response_rate is None:
        return
    if not (isinstance(response_rate, int | float) and 0 < response_rate <= 1):
        raise SampleSizeError(
            f"Tỷ lệ trả lời dự kiến phải nằm trong (0; 1], nhận được {response_rate!r}.",
            f"The expected response rate must be in (0, 1], got {response_rate!r}.",
        )


def _ceil(value: float) -> int:
    return math.ceil(value - _CEIL_TOLERANCE)


def _finish(n: float, population: int | None, response_rate: float | None) -> int:
    if response_rate is not None:
        n = n / response_rate
    size = max(_ceil(n), 1)
    return min(size, population) if population is not None else size


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile ``z_{1 - alpha/2}`` for ``confidence = 1 - alpha``."""
    _check_open_unit_interval(confidence, "Độ tin cậy", "The confidence level")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def cochran_sample_size(
    margin: float,
    confidence: float = 0.95,
    p: float = 0.5,
    population: int | None = None,
    response_rate: float | None = None,
) -> int:
    """Cochran's sample size for a proportion, with optional FPC and response-rate inflation.

    ``n0 = z^2 p (1 - p) / e^2``; with ``population = N``, ``n = n0 / (1 + (n0 - 1) / N)``
    (Cochran 1977, eq. 4.2-4.3); with ``response_rate = rr``, ``n / rr``. Rounded up, at
    least 1 and at most ``N``.

    Example: ``e = 0.05``, 95%, ``p = 0.5``: ``n0 = 1.95996^2 x 0.25 / 0.0025 = 384.15`` so
    385; with ``N = 1000``: ``384.15 / (1 + 383.15/1000) = 277.7`` so 278.
    """
    _check_open_unit_interval(margin, "Sai số cho phép", "The margin of error")
    _check_open_unit_interval(p, "Tỷ lệ dự kiến p", "The anticipated proportion p")
    _check_population(population)
    _check_response_rate(response_rate)
    z = z_value(confidence)
    n = z * z * p * (1 - p) / (margin * margin)
    if population is not None:
        n = n / (1 + (n - 1) / population)
    return _finish(n, population, response_rate)


def yamane_sample_size(
    population: int, margin: float = 0.05, response_rate: float | None = None
) -> int:
    """Yamane's sample size ``n = N / (1 + N e^2)`` (Yamane 1967, p. 886).

    Example: ``N = 1000``, ``e = 0.05``: ``1000 / (1 + 2.5) = 285.7`` so 286. With
    ``response_rate = rr`` the result is ``n / rr`` rounded up, at most ``N``.
    """
    _check_population(population)
    if population is None:
        raise SampleSizeError(
            "Công thức Yamane cần quy mô tổng thể N.",
            "Yamane's rule needs the population size N.",
        )
    _check_open_unit_interval(margin, "Sai số cho phép", "The margin of error")
    _check_response_rate(response_rate)
    n = population / (1 + population * margin * margin)
    return _finish(n, population, response_rate)
