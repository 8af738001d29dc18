"""``surveyapp sample plan | draw | verify``: allocation tables, draws and their audit.

The frame is read with :func:`sampling.read_frame` and checked with
:func:`sampling.validate_frame`; plans and draws use the valid rows. ``draw`` writes the
sample (CSV, or XLSX with one sheet per unit) and ``OUT.manifest.json`` beside it; the
manifest also records how the frame was read (list kind, period, sheet, file SHA-256) so
that ``verify`` reads it the same way.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd

import sampling
from sampling import SampleDesign, SamplingError
from sampling.text import spreadsheet_safe_frame
from sampling.validation import KINDS
from scoring_bridge.xlsx import sheet_title, write_xlsx
from surveyapp.commands.sample import group

_PROGRESS_MIN_BYTES = 5 * 1024 * 1024  # about 100,000 rows


def _fail(error: SamplingError) -> click.ClickException:
    return click.ClickException(f"{error.message_vi}\n{error.message_en}")


@contextmanager
def _library_errors() -> Iterator[None]:
    try:
        yield
    except SamplingError as error:
        raise _fail(error) from None


def _columns(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _reserve(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter(
            f"'{text}': cần một số nguyên (số dự phòng mỗi tầng) hoặc tỷ lệ như 0.2 / "
            "a count per stratum or a ratio such as 0.2."
        ) from None
    if value < 0:
        raise click.BadParameter("Số dự phòng không được âm / The reserve cannot be negative.")
    return int(value) if "." not in text and "e" not in text.lower() else value


def _period(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise click.BadParameter(
            "Dạng đúng: BẮT_ĐẦU,KẾT_THÚC (ví dụ 01/01/2024,30/09/2024) / "
            "Expected START,END (e.g. 2024-01-01,2024-09-30)."
        )
    return parts[0], parts[1]


def _read_sd(path: str | None) -> dict[str, float] | None:
    if not path:
        return None
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise click.BadParameter(
            f"Không đọc được tệp CSV (UTF-8) / Cannot read the CSV (UTF-8) file: {error}",
            param_hint="--sd",
        ) from None
    if not {"stratum", "sd"} <= set(table.columns):
        raise click.BadParameter(
            "Tệp độ lệch chuẩn cần hai cột 'stratum' và 'sd' / The standard deviation file "
            "needs the columns 'stratum' and 'sd'.",
            param_hint="--sd",
        )
    values = pd.to_numeric(table["sd"], errors="coerce")
    if values.isna().any():
        raise click.BadParameter(
            f"Giá trị sd không phải số ở dòng {int(values.isna().idxmax()) + 2} / "
            f"Non-numeric sd on line {int(values.isna().idxmax()) + 2}.",
            param_hint="--sd",
        )
    # Labels as the frame has them: NFC (Vietnamese text also arrives decomposed), trimmed.
    labels = (
        table["stratum"].fillna("").map(lambda text: unicodedata.normalize("NFC", text).strip())
    )
    return dict(zip(labels, values, strict=True))


def _infer_kind(frame: pd.DataFrame) -> str:
    """Officials' lists have positions and no procedure data; anything else is citizens."""
    citizen_columns = {"completed_on", "dossier_code", "procedure", "field"}
    if "position" in frame.columns and not citizen_columns & set(frame.columns):
        return "officials"
    return "citizens"


def _load_frame(
    path: str, kind: str | None, period, sheet: str | None, strata, progress=None
) -> tuple:
    """Valid rows of the frame and how they were read (for the manifest)."""
    with _library_errors():
        raw = sampling.read_frame(path, sheet=sheet)
        if progress is not None:
            progress.to(30)
        kind = kind or _infer_kind(raw)
        present = tuple(column for column in strata if column in raw.columns)
        result = sampling.validate_frame(raw, kind=kind, period=period, required=present)
        if progress is not None:
            progress.to(45)
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
        "kind": kind,
        "period": list(period) if period else None,
        "sheet": sheet,
        "rows_read": len(raw),
        "rows_valid": len(result.valid),
    }
    return result.valid, source


def _design_options(function):
    options = [
        click.argument("frame", type=click.Path(exists=True, dir_okay=False)),
        click.option(
            "--strata",
            default="",
            help="Cột phân tầng, cách nhau bởi dấu phẩy / Stratification columns, comma-separated.",
        ),
        click.option(
            "--n", "n", type=click.IntRange(min=0), help="Cỡ mẫu tổng / Total sample size."
        ),
        click.option(
            "--margin",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            help="Sai số cho phép, ví dụ 0.05 / Margin of error, e.g. 0.05.",
        ),
        click.option(
            "--confidence",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.95,
            show_default=True,
        ),
        click.option(
            "--rule",
            type=click.Choice(["cochran", "yamane"]),
            default="cochran",
            show_default=True,
            help="Công thức cỡ mẫu với --margin / Sample size rule with --margin.",
        ),
        click.option(
            "--per-stratum",
            is_flag=True,
            help="Áp dụng --margin cho từng tầng / Apply --margin within every stratum.",
        ),
        click.option(
            "--response-rate",
            type=click.FloatRange(0, 1, min_open=True),
            help="Tỷ lệ trả lời dự kiến / Expected response rate.",
        ),
        click.option(
            "--allocation",
            type=click.Choice([a.value for a in sampling.Allocation]),
            default="proportional",
            show_default=True,
        ),
        click.option(
            "--sd",
            "sd_file",
            type=click.Path(exists=True, dir_okay=False),
            help="CSV (stratum, sd) cho Neyman / CSV (stratum, sd) for Neyman.",
        ),
        click.option("--min-per-stratum", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--max-per-stratum", type=click.IntRange(min=0)),
        click.option(
            "--reserve",
            default="0",
            show_default=True,
            help="Số dự phòng mỗi tầng hoặc tỷ lệ như 0.2 / Spares per stratum or a ratio such as 0.2.",
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
        click.option(
            "--kind",
            type=click.Choice(KINDS),
            help="Loại danh sách (mặc định: tự nhận biết) / List kind (default: inferred).",
        ),
        click.option("--period", help="Kỳ khảo sát BẮT_ĐẦU,KẾT_THÚC / Survey period START,END."),
        click.option("--sheet", help="Tên trang tính XLSX / XLSX sheet name."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _design(options: dict) -> SampleDesign:
    if (options["n"] is None) == (options["margin"] is None):
        raise click.UsageError(
            "Cần đúng một trong --n hoặc --margin / Give exactly one of --n or --margin."
        )
    with _library_errors():
        return SampleDesign(
            strata=_columns(options["strata"]),
            n=options["n"],
            margin=options["margin"],
            confidence=options["confidence"],
            sample_size_rule=options["rule"],
            per_stratum_size=options["per_stratum"],
            response_rate=options["response_rate"],
            allocation=options["allocation"],
            sd=_read_sd(options["sd_file"]),
            min_per_stratum=options["min_per_stratum"],
            max_per_stratum=options["max_per_stratum"],
            reserve=_reserve(options["reserve"]),
            method=options["method"],
            sort_by=_columns(options["sort_by"]),
            size_measure=options["size_measure"],
        )


def _frame_for(options: dict, design: SampleDesign, progress=None):
    return _load_frame(
        options["frame"],
        options["kind"],
        _period(options["period"]),
        options["sheet"],
        (*design.strata, *design.sort_by),
        progress,
    )


def _print_allocation(table: pd.DataFrame) -> None:
    shown = table[["stratum", "N_h", "n_h", "reserve_h", "fraction"]].copy()
    shown["fraction"] = shown["fraction"].map(lambda value: f"{value:.4f}")
    total = pd.DataFrame(
        [["TỔNG / TOTAL", table["N_h"].sum(), table["n_h"].sum(), table["reserve_h"].sum(),
          f"{table['n_h'].sum() / max(table['N_h'].sum(), 1):.4f}"]],
        columns=shown.columns,
    )  # fmt: skip
    click.echo(pd.concat([shown, total]).to_string(index=False))


@group.command("plan")
@_design_options
def plan_command(**options) -> None:
    """Bảng phân bổ mẫu (N_h, n_h, tỷ lệ) mà không chọn / Allocation table without drawing."""
    design = _design(options)
    frame, _ = _frame_for(options, design)
    with _library_errors():
        table = sampling.plan(frame, design)
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


class _Progress:
    """One bar over reading, checking, drawing and writing; shown for large files only.

    Percentages: read 0-30, validate 30-45, draw 45-80 (the library's callback), write
    80-100. click draws nothing when stderr is not a terminal.
    """

    def __init__(self, path: str) -> None:
        self.bar = None
        if Path(path).stat().st_size >= _PROGRESS_MIN_BYTES:
            self.bar = click.progressbar(
                length=100, label="Chọn mẫu / Drawing", file=sys.stderr
            ).__enter__()
        self.done = 0

    def to(self, percent: int) -> None:
        if self.bar is not None and percent > self.done:
            self.bar.update(percent - self.done)
            self.done = percent

    def draw_stage(self, stage: str, fraction: float) -> None:
        self.to(45 + int(35 * fraction))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@group.command("draw")
@_design_options
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Hạt giống (mặc định: ngẫu nhiên, ghi vào manifest) / Seed (default: fresh, recorded).",
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="OUT.csv hoặc OUT.xlsx."
)
def draw_command(seed, out, **options) -> None:
    """Chọn mẫu chính thức và dự phòng / Draw the primary sample and reserves."""
    out_path = Path(out)
    if out_path.suffix.lower() not in (".csv", ".xlsx"):
        raise click.BadParameter(
            "Tệp kết quả phải là .csv hoặc .xlsx / The output must be .csv or .xlsx.",
            param_hint="--out",
        )
    design = _design(options)
    progress = _Progress(options["frame"])
    try:
        frame, source = _frame_for(options, design, progress)
        with _library_errors():
            sample = sampling.draw_sample(frame, design, seed=seed, progress=progress.draw_stage)
        manifest = dict(sample.manifest, source=source)
        write_sample(sample.table, out_path)
        manifest_path = manifest_path_for(out_path)
        sampling.write_manifest(manifest, manifest_path)
        progress.to(100)
    finally:
        progress.close()
    _print_allocation(sample.allocation)
    primary = int((sample.table["selection"] == "primary").sum())
    click.echo(
        f"Đã chọn {primary:,} chính thức và {len(sample.table) - primary:,} dự phòng; hạt giống "
        f"{manifest['seed']}.\nDrew {primary:,} primary and {len(sample.table) - primary:,} "
        f"reserve units; seed {manifest['seed']}.\n{out_path}\n{manifest_path}"
    )


@group.command("verify")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@click.argument("sample_file", metavar="SAMPLE", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--manifest",
    "manifest_file",
    type=click.Path(dir_okay=False),
    help="Mặc định: SAMPLE.manifest.json / Default: SAMPLE.manifest.json.",
)
def verify_command(frame, sample_file, manifest_file) -> None:
    """Kiểm tra mẫu có tái lập đúng từ khung mẫu + manifest / Check a sample is reproducible."""
    sample_path = Path(sample_file)
    with _library_errors():
        manifest = sampling.read_manifest(manifest_file or manifest_path_for(sample_path))
    source = manifest.get("source") or {}
    design = manifest.get("design", {})
    valid, _ = _load_frame(
        frame,
        source.get("kind"),
        tuple(source["period"]) if source.get("period") else None,
        source.get("sheet"),
        (*design.get("strata", ()), *design.get("sort_by", ())),
    )
    table = read_sample(sample_path)
    with _library_errors():
        result = sampling.verify_sample(valid, table, manifest)
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
