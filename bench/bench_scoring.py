"""Benchmark: all indices with standard errors vs a plain pandas ``groupby().mean()``.

Generated data: 1,000,000 responses × 25 five-point items (5 elements of 5 items) in 150
units × 2 respondent groups (300 strata), about 5% "don't know" (code 9) and 3% no answer,
weights constant within strata (design weight × nonresponse adjustment, as
``sampling.adjust_for_nonresponse`` produces). Both timings use the same frame in the same
run: pandas averages the items per unit; ``compute_indices`` computes satisfaction rates
and mean scores per item, element and overall indices, each with linearised standard
errors and 95% CIs, per unit × group and per unit (groups pooled), weighted and unweighted.

Weights are generated twice: constant within strata (the usual case; counts then give
the weighted sums) and varying per respondent (the general path: sums of w and w²).

Run: ``python bench/bench_scoring.py [--rows N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from scoring_bridge.estimators import compute_indices
from scoring_bridge.spec import ElementSpec, ScaleItem, SurveySpec

SEED = 20261125


def make_spec(items: int = 25, per_element: int = 5) -> SurveySpec:
    codes = [f"q{k + 1:02d}" for k in range(items)]
    elements = [
        ElementSpec(
            f"E{e + 1}",
            f"Yếu tố {e + 1}",
            f"Element {e + 1}",
            tuple(codes[e * per_element : (e + 1) * per_element]),
        )
        for e in range(items // per_element)
    ]
    scale_items = tuple(
        ScaleItem(code, f"E{k // per_element + 1}", code, code) for k, code in enumerate(codes)
    )
    return SurveySpec("bench", "Bench", "Bench", scale_items, tuple(elements))


def make_responses(
    rows: int, spec: SurveySpec, rng: np.random.Generator, varying: bool
) -> pd.DataFrame:
    units = rng.integers(0, 150, rows)
    groups = rng.integers(0, 2, rows)
    stratum = units * 2 + groups
    stratum_weight = rng.uniform(5, 60, 300)
    weight = stratum_weight[stratum]
    if varying:
        weight = weight * rng.uniform(0.8, 1.25, rows)
    unit_quality = rng.normal(0, 0.6, 150)[units]
    frame = {
        "response_id": np.arange(rows),
        "unit": pd.Categorical.from_codes(units, [f"U{u:03d}" for u in range(150)]),
        "group": pd.Categorical.from_codes(groups, ["individual", "organisation"]),
        "stratum": pd.Categorical.from_codes(stratum, [f"S{s:03d}" for s in range(300)]),
        "weight": weight,
        "is_probability": np.ones(rows, dtype=bool),
    }
    for item in spec.items:
        latent = 3.6 + unit_quality + rng.normal(0, 1.0, rows)
        answers = np.clip(np.rint(latent), 1, 5).astype(np.int8)
        answers[rng.random(rows) < 0.05] = 9
        answers[rng.random(rows) < 0.03] = 0
        frame[item.code] = answers
    return pd.DataFrame(frame)


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def compare(rows: int, repeat: int, varying: bool, spec: SurveySpec) -> None:
    rng = np.random.default_rng(SEED)
    responses = make_responses(rows, spec, rng, varying)
    items = list(spec.item_codes)
    # The baseline sees the answers as pandas would read them: NaN for no answer / 9.
    baseline_frame = responses[["unit", *items]].copy()
    for code in items:
        column = baseline_frame[code].to_numpy().astype(np.float64)
        column[(column == 0) | (column == 9)] = np.nan
        baseline_frame[code] = column

    def baseline():
        return baseline_frame.groupby("unit", observed=True)[items].mean()

    def ours():
        return compute_indices(responses, spec, min_n=30)

    # Interleave so that both see the same machine load.
    base_times, our_times, table = [], [], None
    for _ in range(repeat):
        base_times.append(timed(baseline, 1)[0])
        elapsed, table = timed(ours, 1)
        our_times.append(elapsed)
    base, our = statistics.median(base_times), statistics.median(our_times)
    kind = "varying per respondent" if varying else "constant within strata"
    print(f"weights {kind}: rows={rows:,} items={len(items)} units=150 strata=300")
    print(f"  pandas groupby('unit')[items].mean(): {base:8.1f} ms (median of {repeat})")
    print(f"  compute_indices (all indices + SEs):  {our:8.1f} ms  ratio {our / base:.2f}x")
    print(f"  index rows produced: {len(table):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    spec = make_spec()
    for varying in (False, True):
        compare(args.rows, args.repeat, varying, spec)


if __name__ == "__main__":
    main()
