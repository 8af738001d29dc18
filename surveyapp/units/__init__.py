"""Administrative units: hierarchy view, CSV import and export (views in routes.py)."""

from flask import Blueprint

bp = Blueprint("units", __name__, url_prefix="/units", cli_group="units")
bp.nav = [("units.index", "Đơn vị", "Units")]
bp.cli.help = "Danh mục đơn vị / Unit registry."
