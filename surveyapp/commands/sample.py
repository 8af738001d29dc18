"""``surveyapp sample ...``: validate frames, plan and draw samples, verify draws.

``surveyapp sample validate FRAME`` exits with 0 when no row has an error (warnings and
merged duplicates allowed), 1 when rows were excluded or the file was rejected, and 2
for bad options.

The options that say how a list is read (``--kind``, ``--period-start``, ``--period-end``,
``--sheet``, ``--unit``) are the same for ``validate``, ``plan``, ``draw`` and ``commit``,
with the web upload's rules: dates typed as on the web (:data:`sampling.inputs.DAY_FORMATS`),
a one-unit list needs no unit column when ``--unit`` names the unit.
"""

import datetime as dt

import click
import pandas as pd

import sampling
from sampling.dates import parse_date
from sampling.inputs import DAY_FORMATS, with_unit
from sampling.validation import KINDS


@click.group("sample")
def group() -> None:
    """Khung mẫu và chọn mẫu / Frames and sample draws."""


class Day(click.DateTime):
    """A date typed dd/mm/yyyy (or d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy, ISO), as on the web."""

    name = "dd/mm/yyyy"

    def __init__(self) -> None:
        super().__init__(formats=DAY_FORMATS)

    def get_metavar(self, param, ctx=None) -> str:
        return "dd/mm/yyyy"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return super().convert(str(value).strip(), param, ctx).date()
        except click.BadParameter:
            self.fail(
                f"Ngày «{value}» không hợp lệ: nhập theo dạng ngày/tháng/năm, ví dụ 15/07/2024 / "
                f"«{value}» is not a valid date: type day/month/year, e.g. 15/07/2024.",
                param,
                ctx,
            )


DAY = Day()


def library_failure(error: sampling.SamplingError) -> click.ClickException:
    return click.ClickException(f"{error.message_vi}\n{error.message_en}")


def reading_options(function):
    """How the list is read: kind, survey period, sheet, and the unit of a one-unit list."""
    options = [
        click.option(
            "--kind",
            type=click.Choice(KINDS),
            help="Loại danh sách (mặc định: tự nhận biết) / List kind (default: inferred).",
        ),
        click.option(
            "--period-start",
            type=DAY,
            help="Ngày đầu kỳ khảo sát / First day of the survey period (dd/mm/yyyy).",
        ),
        click.option(
            "--period-end",
            type=DAY,
            help="Ngày cuối kỳ khảo sát / Last day of the survey period (dd/mm/yyyy).",
        ),
        click.option(
            "--sheet", help="Tên trang tính Excel / Excel sheet name (default: the first)."
        ),
        click.option(
            "--unit",
            help="Mã đơn vị khi danh sách là của một đơn vị và không có cột đơn vị / The unit "
            "of a one-unit list without a unit column.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def reading(options: dict) -> dict:
    """The reading options of a command as recorded in a manifest's ``source``."""
    start, end = options.pop("period_start"), options.pop("period_end")
    if (start is None) != (end is None):
        raise click.UsageError(
            "Cần cả --period-start và --period-end / Give both --period-start and --period-end."
        )
    return {
        "kind": options.pop("kind"),
        "period": [start.isoformat(), end.isoformat()] if start else None,
        "sheet": options.pop("sheet"),
        "unit": options.pop("unit"),
    }


def infer_kind(frame: pd.DataFrame) -> str:
    """Officials' lists have positions and no procedure data; anything else is citizens."""
    citizen_columns = {"completed_on", "dossier_code", "procedure", "field"}
    if "position" in frame.columns and not citizen_columns & set(frame.columns):
        return "officials"
    return "citizens"


def read_and_validate(path, how: dict, required=(), progress=None):
    """(raw frame, validation result, kind) of a list read as ``how`` says."""
    raw = with_unit(sampling.read_frame(path, sheet=how.get("sheet")), how.get("unit"))
    if progress is not None:
        progress.to(30)
    kind = how.get("kind") or infer_kind(raw)
    # Recorded periods are ISO dates (dd/mm/yyyy text in manifests of earlier versions).
    period = tuple(map(parse_date, how["period"])) if how.get("period") else None
    present = tuple(column for column in required if column in raw.columns)
    result = sampling.validate_frame(raw, kind=kind, period=period, required=present)
    if progress is not None:
        progress.to(45)
    return raw, result, kind


@group.command("validate")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True),
    help="Ghi báo cáo lỗi ra tệp .csv hoặc .xlsx / Write the issue report to a .csv or .xlsx file.",
)
@reading_options
@click.option(
    "--max-issues",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="Số vấn đề in ra màn hình / Issues printed on screen.",
)
def validate(frame, report, max_issues, **options) -> None:
    """Kiểm tra danh sách (khung mẫu) / Validate a frame (CSV or XLSX list)."""
    how = reading(options)
    if report and not report.lower().endswith((".csv", ".xlsx")):
        raise click.BadParameter(
            "cần đuôi .csv hoặc .xlsx / must end in .csv or .xlsx", param_hint="--report"
        )
    try:
        _, result, _ = read_and_validate(frame, how)
    except sampling.NoValidRowsError as error:
        _print_result(error.result, report, max_issues)
        raise library_failure(error) from None
    except sampling.SamplingError as error:
        raise library_failure(error) from None
    _print_result(result, report, max_issues)
    if result.summary["excluded"]:
        click.get_current_context().exit(1)


def _print_result(result, report, max_issues) -> None:
    click.echo(result.to_text(max_issues=max_issues))
    if report:
        try:
            path = result.write_report(report)
        except sampling.SamplingError as error:
            raise library_failure(error) from None
        except OSError as error:
            raise click.ClickException(
                f"Không ghi được báo cáo {report} / Cannot write report {report}: {error.strerror}"
            ) from None
        click.echo(f"Đã ghi báo cáo vào {path} / Report written to {path}")
