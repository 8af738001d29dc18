"""Benchmark: writing big XLSX files with ``DataFrame.to_excel`` against ``scoring_bridge.xlsx``.

Two generated tables, both written by both writers in the same run:

* microdata: 50,000 responses x 45 columns as ``scoring_bridge.microdata`` exports them
  (respondent number, unit, group, stratum, weight, mode, is_probability, 36 scale items
  with ~8% empty cells, 2 free-text columns);
* a sample file as ``surveyapp sample draw --out sample.xlsx`` writes it: 50,000 rows x 12
  columns, one sheet per unit (150 units).

Each result is read back with calamine and compared cell by cell with the other writer's
file, so a faster writer that changes the content fails the run.

Run: ``python bench/bench_xlsx.py [--rows N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scoring_bridge.xlsx import write_xlsx

SEED = 20261125


def microdata(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    units = np.sort(rng.integers(0, 150, rows))
    frame = pd.DataFrame(
        {
            "respondent": np.arange(1, rows + 1),
            "unit": [f"U{u:03d}" for u in units],
            "group": rng.choice(["citizen", "organisation"], rows),
            "stratum": [f"U{u:03d} | citizen" for u in units],
            "weight": rng.uniform(5, 60, rows),
            "mode": rng.choice(["web", "paper", "phone"], rows),
            "is_probability": rng.integers(0, 2, rows),
        }
    )
    for k in range(36):
        codes = rng.integers(1, 6, rows).astype(float)
        codes[rng.random(rows) < 0.08] = np.nan
        frame[f"q{k + 1:02d}"] = codes
    words = np.array(["tốt", "chậm", "thủ tục rườm rà", "nhân viên nhiệt tình", ""])
    for name in ("comment", "suggestion"):
        frame[name] = rng.choice(words, rows)
    return frame


def sample_sheets(rows: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    units = np.sort(rng.integers(0, 150, rows))
    table = pd.DataFrame(
        {
            "unit": [f"U{u:03d}" for u in units],
            "group": rng.choice(["citizen", "organisation"], rows),
            "stratum": [f"U{u:03d} | citizen" for u in units],
            "selection": rng.choice(["primary", "reserve"], rows),
            "reserve_rank": np.where(rng.random(rows) < 0.2, rng.integers(1, 9, rows), np.nan),
            "source_row": rng.integers(2, 1_000_000, rows),
            "full_name": rng.choice(["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng"], rows),
            "phone": [f"09{n:08d}" for n in rng.integers(0, 10**8, rows)],
            "address": rng.choice(["12 Lý Thường Kiệt", "Ấp 3, xã Tân Hòa"], rows),
            "dossier_code": [f"H{n:09d}" for n in rng.integers(0, 10**9, rows)],
            "inclusion_probability": rng.uniform(0.01, 1, rows),
            "design_weight": rng.uniform(1, 100, rows),
        }
    )
    return dict(list(table.groupby("unit", sort=False)))


def with_pandas(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)


def read_back(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, engine="calamine")


def timed(function, path: Path, sheets, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(path, sheets)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def compare(label: str, sheets: dict[str, pd.DataFrame], repeat: int, workdir: Path) -> None:
    baseline, ours = workdir / f"{label}-pandas.xlsx", workdir / f"{label}-ours.xlsx"
    pandas_s = timed(with_pandas, baseline, sheets, repeat)
    ours_s = timed(write_xlsx, ours, sheets, repeat)
    expected, got = read_back(baseline), read_back(ours)
    assert list(expected) == list(got), "sheet names differ"
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name])
    cells = sum(f.size for f in sheets.values())
    print(
        f"| {label} ({len(sheets)} sheets, {cells:,} cells) | {pandas_s:.2f} | {ours_s:.2f} "
        f"| {pandas_s / ours_s:.1f}x | {baseline.stat().st_size / 1e6:.1f} / "
        f"{ours.stat().st_size / 1e6:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    print("| table | pandas to_excel s | write_xlsx s | speed-up | MB pandas / ours |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        compare("microdata", {"microdata": microdata(args.rows, rng)}, args.repeat, workdir)
        compare("sample", sample_sheets(args.rows, rng), args.repeat, workdir)


if __name__ == "__main__":
    main()
