"""``surveyapp sample plan | commit | draw | verify``: allocation tables, commitments, draws
and their audit.

The frame is read with :func:`sampling.read_frame` and checked with
:func:`sampling.validate_frame`; plans and draws use the valid rows. ``draw`` writes the
sample (CSV, or XLSX with one sheet per unit) and ``OUT.manifest.json`` beside it; the
manifest also records how the frame was read (list kind, period, sheet, unit, file
SHA-256) so that ``verify`` reads it the same way.

A draw nobody can shop for (:mod:`sampling.commitment`)::

    surveyapp sample commit list.csv --strata unit,group --n 100 \\
        --value-source "Giải đặc biệt XSKT TP.HCM ngày 15/07/2025" --value-date 15/07/2025 \\
        --out commitment.json                  # publish it (and its SHA-256) today
    surveyapp sample draw list.csv --commitment commitment.json --public-value 482913 \\
        --out sample.csv                       # on or after 15/07/2025
    surveyapp sample verify list.csv sample.csv --commitment commitment.json \\
        --public-value 482913                  # anyone: the whole chain

The design options and their defaults are the web draw page's
(:data:`sampling.inputs.DESIGN_DEFAULTS`): n and the margin apply per stratum unless
``--total``; the reserve and the standard-deviation table are read by the same parsers.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd
from click.core import ParameterSource

import sampling
from sampling import SampleDesign, SamplingError
from sampling.inputs import DESIGN_DEFAULTS, parse_reserve, parse_sd_table
from sampling.text import spreadsheet_safe_frame
from sampling.verification import STEPS
from scoring_bridge.xlsx import sheet_title, write_xlsx
from surveyapp.commands.sample_reading import (
    DAY,
    library_failure,
    read_and_validate,
    reading,
    reading_options,
)
from surveyapp.core.progress import progress_bar

_PROGRESS_MIN_BYTES = 5 * 1024 * 1024  # about 100,000 rows


@contextmanager
def _library_errors() -> Iterator[None]:
    try:
        yield
    except SamplingError as error:
        raise library_failure(error) from None


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _reserve(ctx, param, value):
    try:
        return parse_reserve(value)
    except SamplingError as error:
        raise click.BadParameter(f"{error.message_vi} / {error.message_en}") from None


def _read_sd(ctx, param, path):
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.BadParameter(
            "Tệp độ lệch chuẩn cần mã hoá UTF-8 / The standard deviation file must be UTF-8."
        ) from None
    try:
        return parse_sd_table(text)
    except SamplingError as error:
        raise click.BadParameter(f"{error.message_vi} / {error.message_en}") from None


def _load_frame(path: str, how: dict, strata, progress=None) -> tuple:
    """Valid rows of the frame and how they were read (for the manifest)."""
    with _library_errors():
        raw, result, kind = read_and_validate(path, how, strata, progress)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    excluded = len(raw) - len(result.valid)
    if excluded:
        click.echo(
            f"Đã loại {excluded:,} dòng không hợp lệ hoặc trùng (xem `surveyapp sample "
            f"validate`); còn {len(result.valid):,} dòng.\n"
            f"Excluded {excluded:,} invalid or duplicate rows (see `surveyapp sample "
            f"validate`); {len(result.valid):,} rows remain.",
            err=True,
        )
    source = {
        "file": Path(path).name,
        "file_sha256": digest.hexdigest(),
        **how,
        "kind": kind,
        "rows_read": len(raw),
        "rows_valid": len(result.valid),
    }
    return result.valid, source


DESIGN_OPTIONS = (
    "strata", "domains", "n", "margin", "confidence", "rule", "per_stratum", "response_rate",
    "allocation", "sd", "min_per_stratum", "max_per_stratum", "min_per_domain", "reserve",
    "method", "sort_by", "size_measure",
)  # fmt: skip


def _design_options(function):
    defaults = DESIGN_DEFAULTS
    options = [
        click.option(
            "--strata",
            default="",
            help="Cột phân tầng, cách nhau bởi dấu phẩy / Stratification columns, comma-separated.",
        ),
        click.option(
            "--domains",
            default=None,
            help="Cột xác định miền báo cáo (mặc định: mọi tầng) / Columns of the reporting "
            "domains (default: every stratum is one).",
        ),
        click.option(
            "--n",
            "n",
            type=click.IntRange(min=0),
            help="Cỡ mẫu mỗi tầng (hoặc tổng với --total) / Sample size per stratum (or in "
            "total with --total).",
        ),
        click.option(
            "--margin",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            help="Sai số cho phép, ví dụ 0.05 / Margin of error, e.g. 0.05.",
        ),
        click.option(
            "--confidence",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=defaults["confidence"],
            show_default=True,
        ),
        click.option(
            "--rule",
            type=click.Choice(["yamane", "cochran"]),
            default=defaults["rule"],
            show_default=True,
            help="Công thức cỡ mẫu với --margin / Sample size rule with --margin.",
        ),
        click.option(
            "--per-stratum/--total",
            "per_stratum",
            default=defaults["per_stratum"],
            show_default=True,
            help="--n hoặc --margin cho từng tầng, hay tổng cỡ mẫu phân bổ cho các tầng / "
            "--n or --margin per stratum, or a total allocated to the strata.",
        ),
        click.option(
            "--response-rate",
            type=click.FloatRange(0, 1, min_open=True),
            help="Tỷ lệ trả lời dự kiến / Expected response rate.",
        ),
        click.option(
            "--allocation",
            type=click.Choice([a.value for a in sampling.Allocation]),
            default=defaults["allocation"],
            show_default=True,
            help="Phân bổ tổng cỡ mẫu (với --total) / How a total is allocated (with --total).",
        ),
        click.option(
            "--sd",
            type=click.Path(exists=True, dir_okay=False),
            callback=_read_sd,
            help="Tệp CSV «tầng,độ lệch chuẩn» cho Neyman / CSV «stratum,sd» for Neyman.",
        ),
        click.option(
            "--min-per-stratum",
            type=click.IntRange(min=0),
            default=defaults["min_per_stratum"],
            show_default=True,
        ),
        click.option("--max-per-stratum", type=click.IntRange(min=0)),
        click.option(
            "--min-per-domain",
            type=click.IntRange(min=0),
            default=defaults["min_per_domain"],
            show_default=True,
            help="Tối thiểu mỗi miền báo cáo / Minimum per reporting domain.",
        ),
        click.option(
            "--reserve",
            default=defaults["reserve"],
            show_default=True,
            callback=_reserve,
            help="Số dự phòng mỗi tầng (2) hoặc tỷ lệ (0.2 hay 20%) / Spares per stratum (2) "
            "or a ratio (0.2 or 20%).",
        ),
        click.option(
            "--method",
            type=click.Choice([m.value for m in sampling.SelectionMethod]),
            default="srswor",
            show_default=True,
        ),
        click.option(
            "--sort-by",
            default="",
            help="Khóa sắp xếp cho chọn hệ thống / Sort keys for systematic selection.",
        ),
        click.option("--size-measure", help="Cột quy mô cho PPS / Size measure column for PPS."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _design(options: dict) -> SampleDesign:
    if (options["n"] is None) == (options["margin"] is None):
        raise click.UsageError(
            "Cần đúng một trong --n hoặc --margin / Give exactly one of --n or --margin."
        )
    domains = options["domains"]
    with _library_errors():
        return SampleDesign(
            strata=_columns(options["strata"]),
            domains=None if domains is None else _columns(domains),
            n=options["n"],
            margin=options["margin"],
            confidence=options["confidence"],
            sample_size_rule=options["rule"],
            per_stratum_size=options["per_stratum"],
            response_rate=options["response_rate"],
            allocation=options["allocation"],
            sd=options["sd"],
            min_per_stratum=options["min_per_stratum"],
            max_per_stratum=options["max_per_stratum"],
            min_per_domain=options["min_per_domain"],
            reserve=options["reserve"],
            method=options["method"],
            sort_by=_columns(options["sort_by"]),
            size_measure=options["size_measure"],
        )


def _strata_columns(design: SampleDesign) -> tuple[str, ...]:
    return (*design.strata, *design.sort_by)


def _print_allocation(table: pd.DataFrame) -> None:
    shown = table[["stratum", "N_h", "n_h", "reserve_h", "fraction"]].copy()
    shown["fraction"] = shown["fraction"].map(lambda value: f"{value:.4f}")
    total = pd.DataFrame(
        [["TỔNG / TOTAL", table["N_h"].sum(), table["n_h"].sum(), table["reserve_h"].sum(),
          f"{table['n_h'].sum() / max(table['N_h'].sum(), 1):.4f}"]],
        columns=shown.columns,
    )  # fmt: skip
    click.echo(pd.concat([shown, total]).to_string(index=False))
    for warning in sampling.allocation_warnings(table):
        click.echo(f"Cảnh báo: {warning.message_vi}\nWarning: {warning.message_en}", err=True)


@click.command("plan")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@_design_options
@reading_options
def plan_command(frame, **options) -> None:
    """Bảng phân bổ mẫu (N_h, n_h, tỷ lệ) mà không chọn / Allocation table without drawing."""
    how = reading(options)
    design = _design(options)
    valid, _ = _load_frame(frame, how, _strata_columns(design))
    with _library_errors():
        table = sampling.plan(valid, design)
    _print_allocation(table)


def manifest_path_for(out: Path) -> Path:
    """``OUT.csv`` -> ``OUT.manifest.json`` beside it."""
    return out.with_suffix(".manifest.json")


def _sheet_names(units: list[str]) -> dict[str, str]:
    used: set[str] = set()
    return {unit: sheet_title(str(unit), used) for unit in units}


def write_sample(table: pd.DataFrame, out: Path) -> None:
    """CSV (UTF-8 with BOM for Excel) or XLSX with one sheet per unit."""
    if out.suffix.lower() == ".csv":
        spreadsheet_safe_frame(table, strip_control=False).to_csv(
            out, index=False, encoding="utf-8-sig"
        )
        return
    safe = spreadsheet_safe_frame(table)
    if "unit" not in safe.columns:
        write_xlsx(out, {"sample": safe})
        return
    units = safe["unit"].astype(str)
    names = _sheet_names(list(dict.fromkeys(units)))
    write_xlsx(out, {names[unit]: rows for unit, rows in safe.groupby(units, sort=False)})


def read_sample(path: Path) -> pd.DataFrame:
    """A sample file written by ``draw`` (all sheets of an XLSX), every column as text.

    ``attrs["row_labels"]`` names each row as a person finds it in the file: its line in
    a CSV (the header is line 1), ``sheet!row`` in an XLSX.
    """
    if path.suffix.lower() == ".xlsx":
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="calamine")
        table = pd.concat(sheets.values(), ignore_index=True).fillna("")
        labels = [f"{name}!{i + 2}" for name, rows in sheets.items() for i in range(len(rows))]
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        labels = [str(i + 2) for i in range(len(table))]
    table.attrs["row_labels"] = labels
    return table


def _read_json(path: str, what_vi: str, what_en: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(
            f"Không đọc được {what_vi} {path} / Cannot read the {what_en} {path}: {error}"
        ) from None


def _progress(path: str):
    """One bar over reading, checking, drawing and writing (read 0-30, validate 30-45, draw
    45-80, write 80-100); shown for large files only."""
    return progress_bar(
        "Chọn mẫu / Drawing", shown=Path(path).stat().st_size >= _PROGRESS_MIN_BYTES
    )


def _check_out(out: str, suffixes: tuple[str, ...]) -> Path:
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise click.BadParameter(
            f"Tệp kết quả phải là {' hoặc '.join(suffixes)} / The output must be "
            f"{' or '.join(suffixes)}.",
            param_hint="--out",
        )
    return path


@click.command("commit")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@_design_options
@reading_options
@click.option(
    "--value-source",
    required=True,
    help="Giá trị ngẫu nhiên công khai sẽ dùng, ví dụ «Giải đặc biệt XSKT TP.HCM ngày "
    "15/07/2025» / The future public random value, e.g. a lottery's special prize.",
)
@click.option(
    "--value-date",
    type=DAY,
    required=True,
    help="Ngày giá trị được công bố (sau hôm nay) / The day it becomes public (after today).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="commitment.json")
def commit_command(frame, value_source, value_date, out, **options) -> None:
    """Công bố cam kết trước khi chọn mẫu / Publish a commitment before drawing."""
    out_path = _check_out(out, (".json",))
    how = reading(options)
    design = _design(options)
    valid, source = _load_frame(frame, how, _strata_columns(design))
    with _library_errors():
        table = sampling.plan(valid, design)
        commitment = sampling.make_commitment(
            valid, design, value_source=value_source, value_date=value_date
        )
    commitment["source"] = source
    out_path.write_text(json.dumps(commitment, ensure_ascii=False, indent=2), encoding="utf-8")
    _print_allocation(table)
    identity = sampling.commitment_sha256(commitment)
    click.echo(
        f"Cam kết / Commitment: {out_path}\nSHA-256: {identity}\n"
        f"Công bố tệp này và mã SHA-256 ngay hôm nay; chọn mẫu từ ngày {value_date:%d/%m/%Y} "
        f"với giá trị: {commitment['public_value']['source']}.\n"
        f"Publish this file and its SHA-256 today; draw on or after {value_date:%d/%m/%Y} "
        f"with the value: {commitment['public_value']['source']}."
    )


def _given(names) -> list[str]:
    ctx = click.get_current_context()
    return [
        "--" + name.replace("_", "-")
        for name in names
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    ]


def _committed(commitment_file: str, public_value: str | None):
    """Design and reading options of a commitment; none may be given again."""
    if public_value is None:
        raise click.UsageError(
            "Cần --public-value (giá trị đã công bố) với --commitment / Give --public-value "
            "(the published value) with --commitment."
        )
    repeated = _given(
        [*DESIGN_OPTIONS, "seed", "kind", "period_start", "period_end", "sheet", "unit"]
    )
    if repeated:
        raise click.UsageError(
            f"Thiết kế và cách đọc danh sách lấy từ cam kết; bỏ {', '.join(repeated)} / "
            f"The design and how the list is read come from the commitment; drop "
            f"{', '.join(repeated)}."
        )
    commitment = _read_json(commitment_file, "tệp cam kết", "commitment")
    source = commitment.get("source") or {}
    how = {key: source.get(key) for key in ("kind", "period", "sheet", "unit")}
    with _library_errors():
        design = SampleDesign.from_manifest(commitment.get("design") or {})
    return commitment, design, how


@click.command("draw")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@_design_options
@reading_options
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Hạt giống (mặc định: ngẫu nhiên, ghi vào manifest) / Seed (default: fresh, recorded).",
)
@click.option(
    "--commitment",
    "commitment_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Chọn theo cam kết đã công bố / Draw as committed (see `sample commit`).",
)
@click.option(
    "--public-value",
    help="Giá trị ngẫu nhiên công khai đã được công bố / The public value, as published.",
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="OUT.csv hoặc OUT.xlsx."
)
def draw_command(frame, seed, commitment_file, public_value, out, **options) -> None:
    """Chọn mẫu chính thức và dự phòng / Draw the primary sample and reserves."""
    out_path = _check_out(out, (".csv", ".xlsx"))
    commitment = None
    if commitment_file:
        commitment, design, how = _committed(commitment_file, public_value)
    else:
        how = reading(options)
        design = _design(options)
    with _progress(frame) as progress:
        valid, source = _load_frame(frame, how, _strata_columns(design), progress)
        with _library_errors():
            if commitment is not None:
                sample = sampling.committed_draw(
                    valid, commitment, public_value, progress=progress.stage(45, 80)
                )
            else:
                sample = sampling.draw_sample(
                    valid, design, seed=seed, progress=progress.stage(45, 80)
                )
        manifest = dict(sample.manifest, source=source)
        write_sample(sample.table, out_path)
        manifest_path = manifest_path_for(out_path)
        sampling.write_manifest(manifest, manifest_path)
    _print_allocation(sample.allocation)
    primary = int((sample.table["selection"] == "primary").sum())
    click.echo(
        f"Đã chọn {primary:,} chính thức và {len(sample.table) - primary:,} dự phòng; hạt giống "
        f"{manifest['seed']}.\nDrew {primary:,} primary and {len(sample.table) - primary:,} "
        f"reserve units; seed {manifest['seed']}.\n{out_path}\n{manifest_path}"
    )


def _print_steps(result) -> None:
    click.echo("Kiểm tra / Checks:")
    for step, status in result.steps.items():
        mark = {True: "✓", False: "✗", None: "–"}[status]
        vi, en = STEPS[step]
        click.echo(f"  {mark} {vi} / {en}")
    if result.steps.get("commitment") is None:
        click.echo(
            "  Mẫu này không được chọn theo cam kết: có thể đã được chọn lại nhiều lần.\n"
            "  This sample was not drawn from a commitment: it may have been re-drawn at will."
        )
    if result.checked_columns:
        click.echo(f"  Cột đã so sánh / Columns compared: {', '.join(result.checked_columns)}")
    if result.unchecked_columns:
        click.echo(
            "  Không có trong tệp mẫu nên không so sánh / Not in the sample file, not compared: "
            + ", ".join(result.unchecked_columns)
        )


@click.command("verify")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@click.argument("sample_file", metavar="SAMPLE", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(dir_okay=False),
    help="Mặc định: SAMPLE.manifest.json / Default: SAMPLE.manifest.json.",
)
@click.option(
    "--commitment",
    "commitment_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Cam kết đã công bố, để đối chiếu / The commitment as published, to hold it to.",
)
@click.option(
    "--public-value",
    help="Giá trị công khai theo nguồn công bố / The public value as its source published it.",
)
def verify_command(frame, sample_file, manifest_file, commitment_file, public_value) -> None:
    """Kiểm tra mẫu tái lập đúng từ khung mẫu + manifest (và cam kết) / Check a sample is
    exactly reproduced from the frame and manifest (and the commitment)."""
    sample_path = Path(sample_file)
    with _library_errors():
        manifest = sampling.read_manifest(manifest_file or manifest_path_for(sample_path))
    published = (
        _read_json(commitment_file, "tệp cam kết", "commitment") if commitment_file else None
    )
    source = manifest.get("source") or {}
    how = {key: source.get(key) for key in ("kind", "period", "sheet", "unit")}
    design = manifest.get("design", {})
    valid, _ = _load_frame(frame, how, (*design.get("strata", ()), *design.get("sort_by", ())))
    table = read_sample(sample_path)
    with _library_errors():
        result = sampling.verify_chain(
            valid, table, manifest, published=published, public_value=public_value
        )
    _print_steps(result)
    if result.ok:
        click.echo(
            f"Khớp: mẫu tái lập đúng từ khung mẫu và manifest ({len(table):,} dòng).\n"
            f"OK: the sample is exactly reproduced from the frame and manifest ({len(table):,} rows)."
        )
        return
    click.echo("Mẫu KHÔNG khớp / The sample does NOT match:", err=True)
    for difference in result.differences:
        click.echo(f"- {difference.message_vi}\n  {difference.message_en}", err=True)
    sys.exit(1)
