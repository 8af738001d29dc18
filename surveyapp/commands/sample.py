"""``surveyapp sample ...``: validate frames, plan and draw samples, verify draws.

``surveyapp sample validate FRAME`` exits with 0 when no row has an error (warnings and
merged duplicates allowed), 1 when rows were excluded or the file was rejected, and 2
for bad options.

How a list is read (the options every command shares): sample_reading.py; plan, commit,
draw and verify: sample_draw.py.
"""

import click

import sampling
from surveyapp.commands.sample_draw import (
    commit_command,
    draw_command,
    plan_command,
    verify_command,
)
from surveyapp.commands.sample_reading import (
    library_failure,
    read_and_validate,
    reading,
    reading_options,
)


@click.group("sample")
def group() -> None:
    """Khung mẫu và chọn mẫu / Frames and sample draws."""


@click.command("validate")
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


for command in (validate, plan_command, commit_command, draw_command, verify_command):
    group.add_command(command)
