"""Reading + validating a frame against a plain ``pandas.read_csv`` of the same file.

Generates a realistic unit list (Vietnamese names, some in NFD; phones written a dozen
ways, old 11-digit prefixes, invalid ones; dd/mm/yyyy and ISO dates; addresses; dossier
codes; duplicates; rows without contact), saved as Excel does (UTF-8 with BOM, quotes only
where needed). Then, in the same run, medians of 5 interleaved runs:

* baseline: ``pandas.read_csv(path)`` (pandas' default C engine; text columns come back
  as pandas 3's ``str``);
* reference: ``pandas.read_csv(path, engine="pyarrow")`` (the parser ours uses, alone);
* ours: ``sampling.read_frame(path)`` (pyarrow's multi-threaded CSV reader) then
  ``sampling.validate_frame(frame, period=...)``; and the same again with the compiled
  loops switched off (``sampling.kernels.disabled()``: the numpy path of an install
  without a C compiler).

Each configuration runs in its own fresh process: pyarrow's defaults (what the service
and the command line run), and at 1M rows for comparison mimalloc without transparent huge
pages (``MIMALLOC_ALLOW_THP=0``) and the system allocator
(``ARROW_DEFAULT_MEMORY_POOL=system``).

Peak memory is measured in fresh subprocesses: the peak resident size (VmHWM) during the
step minus the resident size before it, against ``memory_usage(deep=True)`` of the frame
read (ours; pandas' own frame is larger, its text columns are not categoricals). For
reference the child also reports pyarrow's own allocation peak
(``default_memory_pool().max_memory()``) and, in a separate run, tracemalloc's peak (numpy
and Python allocations; Arrow's are not traced).

Usage: python bench/bench_frames.py [--rows 100000,1000000] [--repeats 5] [--once 5000000]
       [--dir DIR]
"""

import argparse
import json
import os
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


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _timings(path: Path, repeats: int) -> dict:
    """Medians of wall-clock and CPU seconds (CPU time sums pyarrow's reader threads and
    is less disturbed by other jobs on the machine than wall time)."""
    import pandas as pd

    import sampling
    from sampling import kernels

    keys = ("pandas", "pandas_cpu", "arrow", "arrow_cpu", "read", "validate", "ours_cpu", "numpy")
    runs = {key: [] for key in keys}
    for _ in range(repeats):
        wall, cpu = _clock()
        pd.read_csv(path)
        after_wall, after_cpu = _clock()
        runs["pandas"].append(after_wall - wall)
        runs["pandas_cpu"].append(after_cpu - cpu)
        wall, cpu = _clock()
        pd.read_csv(path, engine="pyarrow")
        after_wall, after_cpu = _clock()
        runs["arrow"].append(after_wall - wall)
        runs["arrow_cpu"].append(after_cpu - cpu)
        wall, cpu = _clock()
        frame = sampling.read_frame(path, max_rows=10**8, max_bytes=1 << 40)
        middle, _ = _clock()
        result = sampling.validate_frame(frame, period=PERIOD)
        after_wall, after_cpu = _clock()
        runs["read"].append(middle - wall)
        runs["validate"].append(after_wall - middle)
        runs["ours_cpu"].append(after_cpu - cpu)
        del frame, result
        with kernels.disabled():  # the same steps without the compiled loops
            wall, _ = _clock()
            _ours(path)
            runs["numpy"].append(_clock()[0] - wall)
    median = {key: statistics.median(values) for key, values in runs.items()}
    total = statistics.median([r + v for r, v in zip(runs["read"], runs["validate"], strict=True)])
    return {
        **median,
        "total": total,
        "ratio": total / median["pandas"],
        "cpu_ratio": median["ours_cpu"] / median["pandas_cpu"],
    }


def _peak_rss_child(step: str, path: str) -> None:
    """Run one step in this (fresh) process and print its memory figures as JSON."""
    import pandas as pd
    import pyarrow as pa

    import sampling  # noqa: F401  (imported before the baseline is taken)

    def status_bytes(field: str) -> int:
        with open("/proc/self/status") as handle:
            line = next(line for line in handle if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024

    # The peak resident size (VmHWM) is reset to the current size after the imports;
    # ru_maxrss would not do: it carries the parent's size over fork and exec.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status_bytes("VmRSS")
    if step == "pandas":
        frame = pd.read_csv(path)
    elif step == "traced":
        import tracemalloc

        tracemalloc.start()
        frame, result = _ours(path)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({"traced_peak": traced_peak}))
        return
    else:
        frame, result = _ours(path)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    peak = status_bytes("VmHWM")
    arrow_peak = pa.default_memory_pool().max_memory()
    print(
        json.dumps(
            {"peak_over_start": peak - before, "frame_bytes": frame_bytes, "arrow_peak": arrow_peak}
        )
    )


DEFAULTS = "pyarrow defaults"
CONFIGURATIONS = {
    DEFAULTS: {},
    "mimalloc without huge pages": {"MIMALLOC_ALLOW_THP": "0"},
    "system allocator": {"ARROW_DEFAULT_MEMORY_POOL": "system"},
}
SETTINGS = {name for environment in CONFIGURATIONS.values() for name in environment}


def _child(step: str, path: Path, configuration: str = DEFAULTS, repeats: int = 1) -> dict:
    """One step in a fresh process with a configuration's allocator settings."""
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    output = subprocess.run(
        [sys.executable, __file__, "--child", step, str(path), "--repeats", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        env={**environment, **CONFIGURATIONS[configuration]},
    ).stdout
    return json.loads(output)


def _memory(path: Path, configurations) -> dict:
    pandas = _child("pandas", path)
    ours = {name: _child("ours", path, name) for name in configurations}
    traced = _child("traced", path)
    frame_bytes = ours[DEFAULTS]["frame_bytes"]
    return {
        "frame_mb": frame_bytes / 1e6,
        "pandas_frame_mb": pandas["frame_bytes"] / 1e6,
        "pandas_peak_mb": pandas["peak_over_start"] / 1e6,
        "peak_mb": {name: m["peak_over_start"] / 1e6 for name, m in ours.items()},
        "peak_over_frame": {name: m["peak_over_start"] / frame_bytes for name, m in ours.items()},
        "arrow_peak_mb": ours[DEFAULTS]["arrow_peak"] / 1e6,
        "traced_peak_mb": traced["traced_peak"] / 1e6,
    }


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
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=5, help="runs per size (median)")
    parser.add_argument("--once", default="5000000", help="sizes timed once (0: none)")
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
    sizes = [(int(n), options.repeats) for n in options.rows.split(",") if n and int(n)]
    sizes += [(int(n), 1) for n in options.once.split(",") if n and int(n)]
    with tempfile.TemporaryDirectory(dir=options.dir) as directory:
        print("| rows | configuration | pandas.read_csv s (C engine) | read_csv(engine=pyarrow) s "
              "| read_frame s | validate_frame s | read+validate s | ratio | CPU s C engine / "
              "pyarrow engine / ours | CPU ratio | read+validate without compiled loops s |")  # fmt: skip
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        memory = []
        for rows, repeats in sizes:
            path = Path(directory) / f"frame_{rows}.csv"
            generate(path, rows)
            # Every configuration at 1M rows, where the issue states its targets.
            configurations = list(CONFIGURATIONS) if rows == 1_000_000 else [DEFAULTS]
            for name in configurations:
                t = _child("timings", path, name, repeats)
                print(
                    f"| {rows:,} | {name} | {t['pandas']:.2f} | {t['arrow']:.2f} | "
                    f"{t['read']:.2f} | {t['validate']:.2f} | {t['total']:.2f} | "
                    f"{t['ratio']:.2f}x | {t['pandas_cpu']:.2f} / {t['arrow_cpu']:.2f} / "
                    f"{t['ours_cpu']:.2f} | {t['cpu_ratio']:.2f}x | {t['numpy']:.2f} "
                    f"({t['numpy'] / t['pandas']:.1f}x) |",
                    flush=True,
                )
            memory.append((rows, _memory(path, configurations)))
            path.unlink()
        print("\n| rows | frame MB ours / pandas | peak MB pandas | peak MB ours (peak / frame): "
              f"{' / '.join(CONFIGURATIONS)} | Arrow pool peak MB | tracemalloc peak MB |")  # fmt: skip
        print("|---:|---:|---:|---|---:|---:|")
        for rows, m in memory:
            peaks = " / ".join(
                f"{m['peak_mb'][name]:,.0f} ({m['peak_over_frame'][name]:.2f}x)"
                for name in m["peak_mb"]
            )
            print(
                f"| {rows:,} | {m['frame_mb']:,.0f} / {m['pandas_frame_mb']:,.0f} | "
                f"{m['pandas_peak_mb']:,.0f} | {peaks} | {m['arrow_peak_mb']:,.0f} | "
                f"{m['traced_peak_mb']:,.0f} |"
            )
        if options.xlsx_rows:
            x = _xlsx_timings(directory, options.xlsx_rows)
            print(
                f"\nXLSX, {options.xlsx_rows:,} rows: pandas.read_excel(engine='calamine') "
                f"{x['pandas']:.2f} s, read_frame {x['ours']:.2f} s (medians of 3)."
            )


if __name__ == "__main__":
    main()
