"""Crosswalks from the units of an earlier structure to the current ones (views in routes.py)."""

from flask import Blueprint

bp = Blueprint(
    "crosswalk", __name__, url_prefix="/crosswalks", template_folder="templates",
    cli_group="crosswalk",
)  # fmt: skip
bp.cli.help = "Bảng chuyển đổi đơn vị cũ → mới / Old-to-new unit crosswalks."
