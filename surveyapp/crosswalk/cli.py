"""``surveyapp crosswalk propose|import|export|confirm FROM TO``: registries by code."""

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.crosswalk import operations as ops
from surveyapp.crosswalk.logic import COLUMNS
from surveyapp.csvsafe import write_csv
from surveyapp.db import transaction
from surveyapp.i18n import both

group = AppGroup("crosswalk", help="Bảng chuyển đổi đơn vị cũ → mới / Old-to-new unit crosswalks.")


def _registries(old: str, new: str):
    try:
        return ops.registry_by_code(old), ops.registry_by_code(new)
    except ops.CrosswalkError as exc:
        raise click.ClickException(both(exc.message_vi, exc.message_en)) from None


def _version(old, new, number):
    found = [c for c in ops.versions(old, new) if number is None or c.version == number]
    if not found:
        raise click.ClickException(
            both(f"Chưa có bảng chuyển đổi {old.code} → {new.code}.",
                 f"No crosswalk {old.code} → {new.code} yet.")
        )  # fmt: skip
    return found[0]


@group.command("propose")
@click.argument("old")
@click.argument("new")
def propose_command(old, new):
    """Đề xuất bảng chuyển đổi từ danh mục OLD sang NEW / Propose a crosswalk OLD → NEW."""
    with transaction():
        old_registry, new_registry = _registries(old, new)
        try:
            outcome = ops.propose(old_registry, new_registry, None)
        except ops.CrosswalkError as exc:
            raise click.ClickException(both(exc.message_vi, exc.message_en)) from None
        version = outcome.crosswalk.version
    click.echo(
        both(
            f"Phiên bản {version}: {len(outcome.crosswalk.links)} dòng đề xuất; "
            f"{len(outcome.unmapped)} đơn vị cũ chưa có đơn vị kế thừa.",
            f"Version {version}: {len(outcome.crosswalk.links)} proposed rows; "
            f"{len(outcome.unmapped)} old units still without a successor.",
        )
    )
    for unit in outcome.unmapped:
        click.echo(f"  {unit.code}\t{unit.name}")


@group.command("export")
@click.argument("old")
@click.argument("new")
@click.option("--version", "number", type=int, help="Phiên bản (mặc định mới nhất) / version")
def export_command(old, new, number):
    """Xuất bảng chuyển đổi ra CSV (stdout) / Export a crosswalk as CSV."""
    crosswalk = _version(*_registries(old, new), number)
    click.echo(write_csv(ops.export_rows(crosswalk), COLUMNS, bom=False), nl=False)


@group.command("import")
@click.argument("old")
@click.argument("new")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(old, new, path):
    """Nhập một phiên bản mới từ CSV / Import a new version from a CSV."""
    with transaction():
        outcome = ops.import_csv(*_registries(old, new), path.read_bytes(), None, path.name)
        if not outcome.ok:
            for e in outcome.errors:
                where = f"row {e.row} " if e.row else ""
                click.echo(f"{where}[{e.column}] {e.value!r}: {both(e.message_vi, e.message_en)}",
                           err=True)  # fmt: skip
            raise click.ClickException(both("Không nhập gì cả", "Nothing was imported"))
        version = outcome.crosswalk.version
    click.echo(both(f"Đã nhập phiên bản {version}.", f"Imported as version {version}."))


@group.command("confirm")
@click.argument("old")
@click.argument("new")
@click.option("--version", "number", type=int, help="Phiên bản (mặc định mới nhất) / version")
def confirm_command(old, new, number):
    """Xác nhận một phiên bản (Sở Nội vụ) / Confirm a version (the Department)."""
    with transaction():
        crosswalk = _version(*_registries(old, new), number)
        missing = ops.confirm(crosswalk, None)
        version = crosswalk.version
    if missing:
        names = ", ".join(f"{u.code} ({u.name})" for u in missing)
        raise click.ClickException(
            both(f"Chưa xác nhận được: đơn vị cũ chưa có dòng: {names}",
                 f"Not confirmed: old units without a row: {names}")
        )  # fmt: skip
    click.echo(both(f"Đã xác nhận phiên bản {version}.", f"Version {version} confirmed."))
