"""``surveyapp units import FILE`` and ``surveyapp units export``."""

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction
from surveyapp.i18n import both
from surveyapp.units.builtin import BUILTIN_REGISTRIES, import_builtin
from surveyapp.units.importer import COLUMNS, export_rows, import_units
from surveyapp.units.official_import import import_official

group = AppGroup("units", help="Danh mục đơn vị / Unit registry.")


@group.command("import")
@click.argument("source")
def import_command(source: str):
    """Nhập danh mục đơn vị từ CSV (hoặc 'brvt-2024') / Import the unit registry."""
    path = Path(source)
    if source not in BUILTIN_REGISTRIES and not path.is_file():
        raise click.ClickException(both(f"Không có tệp {source}", f"No file {source}"))
    with transaction():
        if source in BUILTIN_REGISTRIES:
            result = import_builtin(source)
        else:
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


@group.command("export")
def export_command():
    """Xuất danh mục đơn vị ra CSV (stdout) / Export the unit registry as CSV."""
    click.echo(write_csv(export_rows(), COLUMNS, bom=False), nl=False)


@group.command("import-official")
@click.argument("province")
@click.option(
    "--departments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV (code,name) các sở, ngành lần nhập đầu / departments for the first import",
)
def import_official_command(province: str, departments: Path | None):
    """Nhập đơn vị cấp xã hiện hành của một tỉnh từ danh mục chính thức (mã, tên) /
    Import a province's current commune-level units from the official list."""

    with transaction():
        result = import_official(province, departments.read_bytes() if departments else None)
    if not result.ok:
        for error in result.errors:
            where = f"row {error.row} " if error.row else ""
            click.echo(
                f"{where}[{error.column}] {error.value!r}: "
                f"{both(error.message_vi, error.message_en)}",
                err=True,
            )
        raise click.ClickException(both("Không nhập gì cả", "Nothing was imported"))
    registry = result.registry
    click.echo(
        both(
            f"{registry.name} — {registry.edition}: {result.created} đơn vị cấp xã mới, "
            f"{result.updated} cập nhật, {result.retired} không còn trong danh mục; "
            f"{result.departments} sở, ngành thêm mới",
            f"{registry.name} — {registry.edition}: {result.created} new commune-level "
            f"units, {result.updated} updated, {result.retired} no longer listed; "
            f"{result.departments} departments added",
        )
    )
