"""Benchmark: writing big XLSX files with ``DataFrame.to_excel`` against ``scoring_bridge.xlsx``.

Two generated tables, both written by both writers in the same run:

* microdata: 50,000 responses x 45 columns as ``scoring_bridge.microdata`` exports them
  (respondent number, unit, group, stratum, weight, mode, is_probability, 36 scale items
  with ~8% empty cells, 2 free-text columns);
* a sample file as ``surveyapp sample draw --out sample.xlsx`` writes it: 50,000 rows x 12
  columns, one sheet per unit (150 units).

Each result is read back with calamine and compared cell by cell with the other writer's
file, so a faster writer that changes the content fails the run.

``--scoring-run`` also times a whole ``score`` + ``write_outputs`` of N generated answers to
the built-in SIPAS citizen questionnaire (150 units, mapping brvt-2024), once as committed
and once with ``DataFrame.to_excel`` put back in place of ``write_xlsx``.

Run: ``python bench/bench_xlsx.py [--rows N] [--repeat R] [--scoring-run]``
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


def sipas_responses(rows: int, rng: np.random.Generator, spec) -> pd.DataFrame:
    unit = rng.choice([f"U{k:03d}" for k in range(150)], rows)
    group = rng.choice(["individual", "organisation"], rows, p=[0.8, 0.2])
    frame = pd.DataFrame(
        {
            "response_id": [f"R{i}" for i in range(rows)],
            "unit": unit,
            "group": group,
            "stratum": [f"{u}-{g}" for u, g in zip(unit, group, strict=True)],
            "weight": rng.uniform(2, 6, rows),
            "mode": rng.choice(["phone", "web"], rows),
            "is_probability": rng.random(rows) > 0.03,
        }
    )
    for item in spec.items:
        answers = rng.choice([1, 2, 3, 4, 5, 9], rows, p=[0.05, 0.1, 0.2, 0.35, 0.25, 0.05])
        answers = answers.astype(float)
        answers[rng.random(rows) < 0.03] = np.nan
        frame[item.code] = answers
    for variable in spec.others:
        if variable.kind == "text":
            frame[variable.code] = rng.choice(["tốt", "", "chậm quá"], rows)
        elif variable.kind == "choice" and variable.value_labels:
            frame[variable.code] = rng.choice(list(variable.value_labels), rows)
    return frame


def to_excel_writer(path, sheets: dict[str, pd.DataFrame]) -> None:
    """The former writers: ``to_excel``, the report's unit pivots with their index."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            pivot = name in ("Yếu tố", "Điểm tiêu chí")
            table = frame.set_index("unit") if pivot else frame
            table.to_excel(writer, sheet_name=name, index=pivot)


def scoring_run(rows: int, rng: np.random.Generator, workdir: Path) -> None:
    import scoring_bridge.microdata
    import scoring_bridge.outputs
    import scoring_bridge.report
    from scoring_bridge import load_spec, score, write_outputs

    spec = load_spec("sipas-citizen")
    responses = sipas_responses(rows, rng, spec)
    modules = (scoring_bridge.microdata, scoring_bridge.outputs, scoring_bridge.report)
    seconds = {}
    for label, writer in (("to_excel", to_excel_writer), ("write_xlsx", write_xlsx)):
        for module in modules:
            module.write_xlsx = writer
        start = time.perf_counter()
        write_outputs(score(responses, spec, "brvt-2024"), workdir / label)
        seconds[label] = time.perf_counter() - start
    for module in modules:
        module.write_xlsx = write_xlsx
    print(
        f"| scoring run, {rows:,} responses x {responses.shape[1]} columns "
        f"| {seconds['to_excel']:.1f} | {seconds['write_xlsx']:.1f} "
        f"| {seconds['to_excel'] / seconds['write_xlsx']:.1f}x | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scoring-run", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    print("| table | pandas to_excel s | write_xlsx s | speed-up | MB pandas / ours |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        compare("microdata", {"microdata": microdata(args.rows, rng)}, args.repeat, workdir)
        compare("sample", sample_sheets(args.rows, rng), args.repeat, workdir)
        if args.scoring_run:
            scoring_run(args.rows, rng, workdir)


if __name__ == "__main__":
    main()
