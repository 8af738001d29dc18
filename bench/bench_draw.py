"""Benchmark: a complete stratified draw against samplics, svy, pandas and a numpy bound.

Frame: N rows in about H strata of lognormal size (unit x group, rows in random order),
columns ``source_row`` (int64), ``unit`` and ``group``. Design: 5% of N (50,000 of
1,000,000) with proportional allocation plus a 20% reserve, SRSWOR. Every method draws the
same per-stratum sizes ``n_h + r_h`` from the same frame, in one run, median of several
repetitions:

* samplics 0.6.1 ``SampleSelection(srs_wor, strat=True).select`` (if installed);
* svy ``Sample.sampling.srs(n={stratum: m_h})`` (if installed);
* pandas ``groupby().apply(lambda g: g.sample(m_h))``;
* numpy lower bound: ``permutation(N)``, stable argsort of the int16 stratum codes
  (radix sort), first ``m_h`` rows per stratum; strata already coded, nothing else;
* ours: ``sampling.draw_sample`` complete (factorize strata, allocate, select, ordered
  reserve, inclusion probabilities, weights, sample table, frame hash, manifest).

Then growth with rows (100k, 1M, 5M at 1,000 strata) and strata (100, 1,000, 5,000 at
1M rows), the effect of the strata columns' dtype (category, as ``read_frame`` returns
them, or str, as it did before), of PII columns (name, phone) and of a whole validated
list (``bench_frames.py``'s 9 columns through ``read_frame`` + ``validate_frame``) on the
frame hash, and peak memory (tracemalloc) against the frame's size. Wall and CPU times.

    python bench/bench_draw.py            # full run (about 2 minutes)
    python bench/bench_draw.py --quick    # fewer repetitions, no 5M rows
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings
from functools import partial

import numpy as np
import pandas as pd

import sampling
from sampling.allocation import allocate_array, reserve_sizes

SEED = 20261125


def make_frame(rows: int, strata: int, *, dtype: str = "category", pii: bool = False):
    """A shuffled frame with ``strata`` lognormal strata (unit x 2 groups)."""
    rng = np.random.default_rng(SEED)
    weights = rng.lognormal(0.0, 1.0, strata)
    codes = rng.choice(strata, size=rows, p=weights / weights.sum())
    units = np.array([f"Đơn vị {i:05d}" for i in range((strata + 1) // 2)], dtype=object)
    frame = pd.DataFrame(
        {
            "source_row": np.arange(2, rows + 2, dtype=np.int64),
            "unit": pd.array(units[codes // 2], dtype="str"),
            "group": pd.array(np.where(codes % 2 == 0, "Cá nhân", "Tổ chức"), dtype="str"),
        }
    )
    if pii:
        frame["full_name"] = pd.array([f"Nguyễn Văn An {i}" for i in range(rows)], dtype="str")
        frame["phone"] = pd.array([f"09{i:08d}" for i in range(rows)], dtype="str")
    if dtype == "category":
        frame = frame.astype({"unit": "category", "group": "category"})
    return frame


def design_for(rows: int) -> sampling.SampleDesign:
    return sampling.SampleDesign(strata=("unit", "group"), n=rows // 20, reserve=0.2)


def stratum_codes(frame):
    """int16 stratum codes and per-stratum draw sizes m_h = n_h + r_h (set-up, not timed)."""
    strata = sampling.draw.stratify(frame, ("unit", "group"))
    n_h = allocate_array(strata.sizes, len(frame) // 20)
    take = n_h + reserve_sizes(0.2, n_h, strata.sizes)
    return strata, take


def median_ms(function, repeats: int) -> float:
    return paired_medians({"only": function}, repeats)["only"]


def paired_medians(functions: dict, repeats: int) -> dict:
    """Median wall milliseconds of each function (and CPU milliseconds under
    ``name + "_cpu"``), run round-robin so that the machine's load (shared, 2 cores)
    drifts over all of them alike."""
    times = {name: [] for name in functions} | {f"{name}_cpu": [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            function()
            times[name].append(time.perf_counter() - start)
            times[f"{name}_cpu"].append(time.process_time() - start_cpu)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def numpy_lower_bound(codes: np.ndarray, sizes: np.ndarray, take: np.ndarray, seed: int):
    rng = np.random.default_rng(seed)
    permutation = rng.permutation(len(codes))
    grouped = np.argsort(codes[permutation], kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    offsets = np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take)
    return permutation[grouped[np.repeat(starts, take) + offsets]]


def pandas_groupby(frame, codes, take, seed):
    rng = np.random.default_rng(seed)
    keyed = frame.assign(_stratum=codes)
    return keyed.groupby("_stratum", group_keys=False)[list(frame.columns)].apply(
        lambda g: g.sample(n=int(take[g.name]), random_state=rng)
    )


def samplics_runner(frame, strata, take):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from samplics.sampling import SampleSelection
            from samplics.utils.types import SelectMethod
    except ImportError:
        return None
    # Integer stratum codes: samplics compares the whole stratum array once per stratum,
    # which costs far more with text labels.
    codes = strata.codes.astype(np.int64)
    sizes = dict(enumerate(take.tolist()))
    ids = frame["source_row"].to_numpy()

    def run():
        np.random.seed(SEED)  # samplics only knows numpy's global state
        selection = SampleSelection(method=SelectMethod.srs_wor, strat=True, wr=False)
        return selection.select(samp_unit=ids, samp_size=sizes, stratum=codes)

    return run


def svy_runner(frame, strata, take):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import polars as pl
            import svy
    except ImportError:
        return None
    data = pl.DataFrame(
        {"source_row": frame["source_row"].to_numpy(), "stratum": strata.codes.astype(np.int32)}
    )
    sizes = dict(enumerate(take.tolist()))

    def run():
        sample = svy.Sample(data, svy.Design(stratum="stratum"))
        return sample.sampling.srs(n=sizes, rstate=SEED)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
    except Exception as error:  # svy is optional: report and skip
        print(f"svy skipped: {type(error).__name__}: {error}")
        return None
    return run


def head_to_head(repeats: int) -> None:
    frame = make_frame(1_000_000, 1_000)
    strata, take = stratum_codes(frame)
    design = design_for(len(frame))
    rows = []
    runner = samplics_runner(frame, strata, take)
    if runner is not None:
        rows.append(("samplics 0.6.1 SampleSelection srs_wor", median_ms(runner, 3)))
    runner = svy_runner(frame, strata, take)
    if runner is not None:
        rows.append(("svy Sample.sampling.srs (incl. set-up)", median_ms(runner, repeats)))
    rows.append(
        (
            "pandas groupby().apply(sample)",
            median_ms(lambda: pandas_groupby(frame, strata.codes, take, SEED), repeats),
        )
    )
    timed = paired_medians(
        {
            "bound": partial(numpy_lower_bound, strata.codes, strata.sizes, take, SEED),
            "ours": partial(sampling.draw_sample, frame, design, seed=SEED),
        },
        repeats * 3,
    )
    bound = timed["bound"]
    rows.append(("numpy lower bound (permutation + radix argsort)", bound))
    rows.append(("ours: sampling.draw_sample, complete", timed["ours"]))
    print(
        f"\n1,000,000 rows, {len(strata.sizes):,} strata, n = {design.n:,} + "
        f"{int(take.sum()) - design.n:,} reserve\n"
    )
    print("| method | median ms | x numpy bound |\n|---|---:|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:,.1f} | {ms / bound:.2f} |")
    print(
        f"\nCPU ms (same runs): bound {timed['bound_cpu']:,.1f}, ours {timed['ours_cpu']:,.1f}, "
        f"ratio {timed['ours_cpu'] / timed['bound_cpu']:.2f}"
    )


def growth(cases, repeats: int, **frame_options) -> None:
    print(
        "\n| rows | strata | numpy bound ms | ours ms | ratio | CPU ms bound / ours | CPU ratio |"
        "\n|---:|---:|---:|---:|---:|---:|---:|"
    )
    for rows, strata_count in cases:
        frame = make_frame(rows, strata_count, **frame_options)
        strata, take = stratum_codes(frame)
        design = design_for(rows)
        timed = paired_medians(
            {
                "bound": partial(numpy_lower_bound, strata.codes, strata.sizes, take, 1),
                "ours": partial(sampling.draw_sample, frame, design, seed=1),
            },
            repeats,
        )
        bound, ours = timed["bound"], timed["ours"]
        cpu_bound, cpu_ours = timed["bound_cpu"], timed["ours_cpu"]
        print(
            f"| {rows:,} | {len(strata.sizes):,} | {bound:,.1f} | {ours:,.1f} | "
            f"{ours / bound:.2f} | {cpu_bound:,.1f} / {cpu_ours:,.1f} | "
            f"{cpu_ours / cpu_bound:.2f} |"
        )


def validated_list(rows: int) -> pd.DataFrame:
    """The generated unit list of bench_frames.py (9 columns), as read_frame and
    validate_frame return it: what a real draw starts from."""
    import tempfile
    from pathlib import Path

    from bench_frames import PERIOD, generate

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "list.csv"
        generate(path, rows)
        frame = sampling.read_frame(path, max_rows=10**8, max_bytes=1 << 40)
    return sampling.validate_frame(frame, period=PERIOD).valid


def variants(repeats: int) -> None:
    print("\n| frame (1M rows) | numpy bound ms | ours ms | ratio | CPU ratio | hash ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, options in (
        ("unit, group as category", {"dtype": "category"}),
        ("unit, group as str", {"dtype": "str"}),
        ("as category, plus name and phone (str)", {"dtype": "category", "pii": True}),
        ("read_frame + validate_frame output of bench_frames' list", None),
    ):
        frame = make_frame(1_000_000, 1_000, **options) if options else validated_list(1_000_000)
        strata, take = stratum_codes(frame)
        design = design_for(len(frame))
        timed = paired_medians(
            {
                "bound": partial(numpy_lower_bound, strata.codes, strata.sizes, take, 1),
                "ours": partial(sampling.draw_sample, frame, design, seed=1),
                "hash": partial(sampling.frame_content_hash, frame),
            },
            repeats,
        )
        bound, ours, hashing = timed["bound"], timed["ours"], timed["hash"]
        cpu_ratio = timed["ours_cpu"] / timed["bound_cpu"]
        print(
            f"| {label} ({len(frame):,} rows, {len(frame.columns)} columns, "
            f"{len(strata.sizes):,} strata) | {bound:,.1f} | {ours:,.1f} | {ours / bound:.2f} | "
            f"{cpu_ratio:.2f} | {hashing:,.1f} |"
        )


def peak_memory() -> None:
    print("\n| frame | frame MB | peak extra MB during draw | ratio |\n|---|---:|---:|---:|")
    for label, options in (("category", {"dtype": "category"}), ("str", {"dtype": "str"})):
        frame = make_frame(1_000_000, 1_000, **options)
        size = frame.memory_usage(deep=True).sum() / 1e6
        tracemalloc.start()
        sampling.draw_sample(frame, design_for(len(frame)), seed=1)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"| 1M rows, strata as {label} | {size:,.1f} | {peak:,.1f} | {peak / size:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    repeats = 3 if quick else 7
    head_to_head(repeats)
    rows = [(100_000, 1_000), (1_000_000, 1_000)] + ([] if quick else [(5_000_000, 1_000)])
    growth(rows, repeats)
    growth([(1_000_000, 100), (1_000_000, 1_000), (1_000_000, 5_000)], repeats)
    variants(repeats)
    peak_memory()


if __name__ == "__main__":
    main()
