"""``surveyapp units import FILE`` and ``surveyapp units export``."""

from pathlib import Path

import click

from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction
from surveyapp.i18n import both
from surveyapp.units import bp
from surveyapp.units.importer import COLUMNS, export_rows, import_units

BUILTIN_REGISTRIES = {"brvt-2024": Path(__file__).parent / "data" / "brvt-2024.csv"}


@bp.cli.command("import")
@click.argument("source")
def import_command(source: str):
    """Nhập danh mục đơn vị từ CSV (hoặc 'brvt-2024') / Import the unit registry."""
    path = BUILTIN_REGISTRIES.get(source, Path(source))
    if not path.is_file():
        raise click.ClickException(both(f"Không có tệp {source}", f"No file {source}"))
    with transaction():
        result = import_units(path.read_bytes())
    if not result.ok:
        for error in result.errors:
            click.echo(
                f"row {error.row} [{error.column}] {error.value!r}: "
                f"{both(error.message_vi, error.message_en)}",
                err=True,
            )
        raise click.ClickException(both("Không nhập gì cả", "Nothing was imported"))
    click.echo(
        both(
            f"Đã nhập {result.created} đơn vị mới, cập nhật {result.updated}",
            f"Imported {result.created} new units, updated {result.updated}",
        )
    )


@bp.cli.command("export")
def export_command():
    """Xuất danh mục đơn vị ra CSV (stdout) / Export the unit registry as CSV."""
    click.echo(write_csv(export_rows(), COLUMNS, bom=False), nl=False)
