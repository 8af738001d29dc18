"""How ``surveyapp sample`` commands read a list: the options (``--kind``,
``--period-start``, ``--period-end``, ``--sheet``, ``--unit``) shared by ``validate``,
``plan``, ``draw`` and ``commit``, with the web upload's rules: dates typed as on the web
(:data:`sampling.inputs.DAY_FORMATS`), a one-unit list needs no unit column when
``--unit`` names the unit.
"""

import datetime as dt

import click
import pandas as pd

import sampling
from sampling.dates import parse_date
from sampling.inputs import DAY_FORMATS, with_unit
from sampling.validation import KINDS


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
