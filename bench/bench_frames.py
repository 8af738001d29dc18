"""Reading + validating a unit's list against a plain ``pandas.read_csv`` of the same file.

Generates a realistic unit list (Vietnamese names, some in NFD; phones written a dozen
ways, old 11-digit prefixes, invalid ones; dd/mm/yyyy and ISO dates; addresses; dossier
codes; duplicates; rows without contact), saved as Excel does (UTF-8 with BOM, quotes only
where needed). Then, in one process per size, medians of interleaved runs of:

* baseline: ``pandas.read_csv(path)`` (pandas' default C engine);
* ours: ``sampling.read_frame(path)`` (pyarrow's multi-threaded CSV reader, pyarrow
  compute and numpy) then ``sampling.validate_frame(frame, period=...)``;
* polars: the same rules written as polars expressions (``pl.read_csv``, trim of every
  column, first phone number of a cell made canonical with the 2018 renumbering, dates in
  five formats, the two duplicate searches within a unit, kept rows filtered), without
  the row-level report and without NFC: polars' ``str.normalize`` costs about 1 µs per
  cell even on ASCII text (9 s for this 9-column list at 1M rows), so this is a lower
  bound of a polars implementation. It is the other library the issue asked to measure.

Peak memory is measured in fresh subprocesses, each warmed up on the list's first 100
rows: the peak resident size (VmHWM) during the step minus the resident size before it,
against ``memory_usage(deep=True)`` of the frame read by ``read_frame`` (pandas' own frame
is larger: its text columns are not categoricals).

Usage: python bench/bench_frames.py [--rows 200000,1000000] [--repeats 5] [--dir DIR]
"""

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]  # fmt: skip
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh", "Hữu", "Quang", "Thị Thu", "Xuân"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Lan",
         "Linh", "Long", "Mai", "Nam", "Phúc", "Quân", "Thảo", "Trang", "Tuấn", "Yến", "Đạt",
         "Huệ", "Khánh", "Ánh", "Ngọc Ánh", "Thủy", "Nguyệt"]  # fmt: skip
FIELDS = ["Tư pháp - Hộ tịch", "Đất đai", "Xây dựng", "Chứng thực", "Lao động", "Kinh doanh"]
NETWORK_CODES = ["91", "98", "97", "86", "32", "33", "70", "79", "88", "94", "90", "35", "56"]


def _pick(rng, choices, n) -> pa.Array:
    return pa.array(choices, pa.string()).take(pa.array(rng.integers(0, len(choices), n)))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _phones(rng, n) -> pa.Array:
    code = _pick(rng, NETWORK_CODES, n)
    body = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10**7, n)), pa.string()), 7, "0")
    a, b, c = (pc.utf8_slice_codeunits(body, i, j) for i, j in ((0, 3), (3, 5), (5, 7)))
    forms = [
        _join("0", code, body),
        _join("0", code, body),
        _join("0", code, " ", a, " ", b, c),
        _join("+84 ", code, " ", a, " ", b, " ", c),
        _join("84", code, body),
        _join("0", code, ".", a, ".", b, c),
        _join("0", code, "-", a, "-", b, c),
        _join(code, body),  # Excel dropped the leading zero
        _join("0166", body),  # old 11-digit Viettel number
        _join("0", code, body, ", 0", code, body),
    ]
    which = rng.choice(len(forms), n, p=[0.45, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.07, 0.03])
    phones = forms[0]
    for index in range(1, len(forms)):
        phones = pc.if_else(pa.array(which == index), forms[index], phones)
    phones = pc.if_else(pa.array(rng.random(n) < 0.01), pa.scalar("12345"), phones)
    return pc.if_else(pa.array(rng.random(n) < 0.02), pa.scalar(None, pa.string()), phones)


def generate(path: Path, n: int, seed: int = 2024) -> None:
    rng = np.random.default_rng(seed)
    names = _join(_pick(rng, FAMILY, n), " ", _pick(rng, MIDDLE, n), " ", _pick(rng, GIVEN, n))
    names = pc.if_else(pa.array(rng.random(n) < 0.05), pc.utf8_normalize(names, "NFD"), names)
    units = [f"UBND xã {GIVEN[i % len(GIVEN)]} {i}" for i in range(1000)]
    unit_index = np.minimum(rng.lognormal(5, 1.2, n).astype(np.int64), 999)
    days = np.datetime64("2024-01-01") + rng.integers(0, 280, n).astype("timedelta64[D]")
    day_first = pc.strftime(pa.array(days.astype("datetime64[s]")), "%d/%m/%Y")
    iso = pc.strftime(pa.array(days.astype("datetime64[s]")), "%Y-%m-%d")
    address = _join("Số ", pc.cast(pa.array(rng.integers(1, 500, n)), pa.string()),
                    " đường ", _pick(rng, GIVEN, n), ", phường ", _pick(rng, GIVEN, n))  # fmt: skip
    address = pc.if_else(pa.array(rng.random(n) < 0.3), pa.scalar(None, pa.string()), address)
    dossier = _join("000.00.", pc.cast(pa.array(rng.integers(10, 99, n)), pa.string()), ".H23-",
                    pc.cast(pa.array(rng.integers(10**8, 10**9, n)), pa.string()))  # fmt: skip
    table = pa.table(
        {
            "STT": pa.array(np.arange(1, n + 1)),
            "Họ và tên": names,
            "Số điện thoại": _phones(rng, n),
            "Địa chỉ": address,
            "Mã hồ sơ": dossier,
            "Đơn vị": pa.array(units).take(pa.array(unit_index)),
            "Đối tượng": _pick(rng, ["Cá nhân", "Cá nhân", "Cá nhân", "Tổ chức"], n),
            "Lĩnh vực": _pick(rng, FIELDS, n),
            "Ngày trả kết quả": pc.if_else(pa.array(rng.random(n) < 0.85), day_first, iso),
        }
    )
    # 0.5% of rows repeated further down (the same dossier sent twice).
    repeats = rng.choice(n, n // 200, replace=False)
    table = pa.concat_tables([table, table.take(pa.array(repeats))])
    table = table.take(pa.array(rng.permutation(table.num_rows)))
    with open(path, "wb") as handle:
        handle.write(b"\xef\xbb\xbf")
        pa_csv.write_csv(table, handle, pa_csv.WriteOptions(quoting_style="needed"))


PERIOD = ("01/01/2024", "30/09/2024")


def _ours(path: str):
    import sampling

    frame = sampling.read_frame(path, max_rows=10**8, max_bytes=1 << 40)
    return frame, sampling.validate_frame(frame, period=PERIOD)


# The phone rule as polars expressions (see sampling.phones for the rule itself).
_SEVERAL = r"\s*(?:[;,/|]|\s(?:hoặc|or)\s).*$"
_OLD_PREFIXES = {
    "162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37",
    "168": "38", "169": "39", "120": "70", "121": "79", "122": "77", "126": "76",
    "128": "78", "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",
    "186": "56", "188": "58", "199": "59",
}  # fmt: skip
_MOBILE = [str(c) for c in [*range(32, 40), 52, 55, 56, 58, 59, 70, *range(76, 80),
                            *range(81, 90), *range(90, 100)]]  # fmt: skip
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")


def _polars(path: str):
    import polars as pl

    from sampling.columns import map_headers

    frame = pl.read_csv(path, infer_schema=False)
    frame.columns = map_headers(frame.columns)[0]
    frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
    # Each step materialised: an expression used twice would be evaluated twice.
    first = pl.col("phone").str.replace(_SEVERAL, "").str.replace(r"^([0-9]+)\.0$", "${1}")
    frame = frame.with_columns(_digits=first.str.replace_all(r"[ .\-()_\t\u00a0]", ""))
    digits = pl.col("_digits")
    frame = frame.with_columns(
        _national=pl.when(~digits.str.contains(r"^\+?[0-9]+$"))
        .then(None)
        .when(digits.str.starts_with("+84") | digits.str.starts_with("0084"))
        .then(digits.str.replace(r"^(\+|00)84", ""))
        .when(digits.str.starts_with("84") & (digits.str.len_bytes() >= 11))
        .then(digits.str.slice(2))
        .when(digits.str.starts_with("0") & ~digits.str.starts_with("00"))
        .then(digits.str.slice(1))
        .when(digits.str.len_bytes().is_in([9, 10]))
        .then(digits)
    )
    national, length = pl.col("_national"), pl.col("_national").str.len_bytes()
    old = national.str.slice(0, 3).replace_strict(_OLD_PREFIXES, default=None)
    frame = frame.with_columns(
        _national=pl.when((length == 10) & old.is_not_null())
        .then(old + national.str.slice(3))
        .otherwise(national)
    )
    valid = ((length == 9) & national.str.slice(0, 2).is_in(_MOBILE)) | (
        national.str.starts_with("2") & length.is_in([9, 10])
    )
    dates = pl.coalesce(
        [
            pl.col("completed_on").str.replace(r"[ T]\d{1,2}:\d{2}.*$", "")
            .str.strptime(pl.Date, f, strict=False)
            for f in _DATE_FORMATS
        ]
    )  # fmt: skip
    start, end = (dt.datetime.strptime(day, "%d/%m/%Y").date() for day in PERIOD)
    frame = frame.with_columns(
        phone=pl.when(valid).then("0" + national),
        completed_on=dates,
        _name=pl.col("full_name").str.to_lowercase().str.replace_all(r"\s+", " "),
        _dossier=pl.col("dossier_code").str.replace_all(" ", "").str.to_uppercase(),
    ).drop("_digits", "_national")
    reachable = pl.col("phone").is_not_null() | pl.col("address").is_not_null()
    inside = pl.col("completed_on").is_null() | pl.col("completed_on").is_between(start, end)
    frame = frame.filter(
        pl.col("full_name").is_not_null() & pl.col("unit").is_not_null() & reachable & inside
    )
    first_dossier = pl.col("_dossier").is_null() | pl.struct("unit", "_dossier").is_first_distinct()
    first_person = (
        pl.col("phone").is_null() | pl.struct("unit", "_name", "phone").is_first_distinct()
    )
    return frame.filter(first_dossier & first_person).drop("_name", "_dossier")


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _timings(path: Path, repeats: int) -> dict:
    """Medians of wall-clock and CPU seconds (CPU time sums the readers' threads and is
    less disturbed by other jobs on the machine than wall time)."""
    import pandas as pd

    import sampling

    keys = ("pandas", "pandas_cpu", "read", "validate", "ours_cpu", "polars", "polars_cpu")
    runs = {key: [] for key in keys}
    for _ in range(repeats):
        wall, cpu = _clock()
        pd.read_csv(path)
        after_wall, after_cpu = _clock()
        runs["pandas"].append(after_wall - wall)
        runs["pandas_cpu"].append(after_cpu - cpu)
        wall, cpu = _clock()
        frame = sampling.read_frame(path, max_rows=10**8, max_bytes=1 << 40)
        middle, _ = _clock()
        result = sampling.validate_frame(frame, period=PERIOD)
        after_wall, after_cpu = _clock()
        runs["read"].append(middle - wall)
        runs["validate"].append(after_wall - middle)
        runs["ours_cpu"].append(after_cpu - cpu)
        del frame, result
        wall, cpu = _clock()
        _polars(str(path))
        after_wall, after_cpu = _clock()
        runs["polars"].append(after_wall - wall)
        runs["polars_cpu"].append(after_cpu - cpu)
    median = {key: statistics.median(values) for key, values in runs.items()}
    totals = [r + v for r, v in zip(runs["read"], runs["validate"], strict=True)]
    total = statistics.median(totals)
    return {
        **median,
        "total": total,
        "ratio": statistics.median([t / p for t, p in zip(totals, runs["pandas"], strict=True)]),
        "cpu_ratio": median["ours_cpu"] / median["pandas_cpu"],
        "polars_ratio": statistics.median(
            [t / p for t, p in zip(runs["polars"], runs["pandas"], strict=True)]
        ),
    }


def _peak_rss_child(step: str, path: str) -> None:
    """Run one step in this (fresh) process and print its memory figures as JSON."""
    import pandas as pd

    import sampling  # noqa: F401  (imported before the baseline is taken)

    def status_bytes(field: str) -> int:
        with open("/proc/self/status") as handle:
            line = next(line for line in handle if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024

    def step_on(source):
        return pd.read_csv(source) if step == "pandas" else _ours(source)[0]

    # A first run on the list's first 100 rows loads what both sides load lazily (pyarrow's
    # compute functions, thread pools, pandas' Arrow types): the figures are the memory
    # the list itself costs. The peak resident size (VmHWM) is then reset to the current
    # size; ru_maxrss would not do: it carries the parent's size over fork and exec.
    warm_up = Path(path).with_suffix(".head.csv")
    with open(path, "rb") as source:
        warm_up.write_bytes(b"".join(source.readline() for _ in range(101)))
    step_on(warm_up)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status_bytes("VmRSS")
    frame = step_on(path)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    print(json.dumps({"peak_over_start": status_bytes("VmHWM") - before, "frame": frame_bytes}))


def _child(step: str, path: Path, repeats: int = 1) -> dict:
    """One step in a fresh process."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", step, str(path), "--repeats", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def _xlsx_timings(directory: str, rows: int, repeats: int = 3) -> dict:
    """Reading an XLSX of the same kind: ``pandas.read_excel(engine="calamine")`` against
    ``sampling.read_frame`` (read only)."""
    import pandas as pd

    import sampling

    csv_path = Path(directory) / f"frame_{rows}.csv"
    generate(csv_path, rows)
    xlsx_path = csv_path.with_suffix(".xlsx")
    pd.read_csv(csv_path, dtype=str).to_excel(xlsx_path, index=False)
    baseline, ours = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        pd.read_excel(xlsx_path, engine="calamine")
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        sampling.read_frame(xlsx_path)
        ours.append(time.perf_counter() - start)
    return {"pandas": statistics.median(baseline), "ours": statistics.median(ours)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200000,1000000")
    parser.add_argument("--repeats", type=int, default=5, help="runs per size (median)")
    parser.add_argument("--xlsx-rows", type=int, default=50_000, help="XLSX case (0: none)")
    parser.add_argument("--dir", default=None, help="where to write the generated CSVs")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        step, path = options.child
        if step == "timings":
            print(json.dumps(_timings(Path(path), options.repeats)))
        else:
            _peak_rss_child(step, path)
        return
    sizes = [int(n) for n in options.rows.split(",") if n and int(n)]
    with tempfile.TemporaryDirectory(dir=options.dir) as directory:
        print("| rows | pandas.read_csv s | read_frame s | validate_frame s | ours s | ours / "
              "pandas | CPU s pandas / ours | polars s | polars / pandas | peak MB pandas | "
              "frame MB | peak MB ours | peak / frame |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for rows in sizes:
            path = Path(directory) / f"frame_{rows}.csv"
            generate(path, rows)
            t = _child("timings", path, options.repeats)
            pandas, ours = _child("pandas", path), _child("ours", path)
            print(
                f"| {rows:,} | {t['pandas']:.2f} | {t['read']:.2f} | {t['validate']:.2f} | "
                f"{t['total']:.2f} | **{t['ratio']:.2f}x** | {t['pandas_cpu']:.2f} / "
                f"{t['ours_cpu']:.2f} | {t['polars']:.2f} | {t['polars_ratio']:.2f}x | "
                f"{pandas['peak_over_start'] / 1e6:,.0f} | {ours['frame'] / 1e6:,.0f} | "
                f"{ours['peak_over_start'] / 1e6:,.0f} | "
                f"**{ours['peak_over_start'] / ours['frame']:.2f}x** |",
                flush=True,
            )
            path.unlink()
        if options.xlsx_rows:
            x = _xlsx_timings(directory, options.xlsx_rows)
            print(
                f"\nXLSX, {options.xlsx_rows:,} rows: pandas.read_excel(engine='calamine') "
                f"{x['pandas']:.2f} s, read_frame {x['ours']:.2f} s (medians of 3)."
            )


if __name__ == "__main__":
    main()
