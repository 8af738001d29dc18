"""``surveyapp sample ...``: validate frames, plan and draw samples, verify draws.

``surveyapp sample validate FRAME`` exits with 0 when no row has an error (warnings and
merged duplicates allowed), 1 when rows were excluded or the file was rejected, and 2
for bad options.
"""

import click

import sampling
from sampling.dates import parse_date
from sampling.validation import KINDS


@click.group("sample")
def group() -> None:
    """Khung mẫu và chọn mẫu / Frames and sample draws."""


def _date_option(ctx, param, value):
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise click.BadParameter(
            f"'{value}' không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd) / "
            "is not a date (dd/mm/yyyy or yyyy-mm-dd)."
        )
    return parsed


def _library_failure(error: sampling.SamplingError) -> click.ClickException:
    return click.ClickException(f"{error.message_vi}\n{error.message_en}")


@group.command("validate")
@click.argument("frame", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True),
    help="Ghi báo cáo lỗi ra tệp .csv hoặc .xlsx / Write the issue report to a .csv or .xlsx file.",
)
@click.option("--sheet", help="Tên trang tính Excel / Excel sheet name (default: the first).")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="citizens",
    show_default=True,
    help="Danh sách người dân hay cán bộ / Citizens' or officials' list.",
)
@click.option(
    "--period-start",
    callback=_date_option,
    help="Ngày đầu kỳ khảo sát / First day of the survey period (dd/mm/yyyy).",
)
@click.option(
    "--period-end",
    callback=_date_option,
    help="Ngày cuối kỳ khảo sát / Last day of the survey period (dd/mm/yyyy).",
)
@click.option(
    "--max-issues",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="Số vấn đề in ra màn hình / Issues printed on screen.",
)
def validate(frame, report, sheet, kind, period_start, period_end, max_issues) -> None:
    """Kiểm tra danh sách (khung mẫu) / Validate a frame (CSV or XLSX list)."""
    if (period_start is None) != (period_end is None):
        raise click.UsageError(
            "Cần cả --period-start và --period-end / Give both --period-start and --period-end."
        )
    period = (period_start, period_end) if period_start else None
    if report and not report.lower().endswith((".csv", ".xlsx")):
        raise click.BadParameter(
            "cần đuôi .csv hoặc .xlsx / must end in .csv or .xlsx", param_hint="--report"
        )
    try:
        table = sampling.read_frame(frame, sheet=sheet)
        result = sampling.validate_frame(table, kind=kind, period=period)
    except sampling.NoValidRowsError as error:
        _print_result(error.result, report, max_issues)
        raise _library_failure(error) from None
    except sampling.SamplingError as error:
        raise _library_failure(error) from None
    _print_result(result, report, max_issues)
    if result.summary["excluded"]:
        click.get_current_context().exit(1)


def _print_result(result, report, max_issues) -> None:
    click.echo(result.to_text(max_issues=max_issues))
    if report:
        try:
            path = result.write_report(report)
        except sampling.SamplingError as error:
            raise _library_failure(error) from None
        except OSError as error:
            raise click.ClickException(
                f"Không ghi được báo cáo {report} / Cannot write report {report}: {error.strerror}"
            ) from None
        click.echo(f"Đã ghi báo cáo vào {path} / Report written to {path}")
