"""Frame upload: units upload their lists; the Department follows who has uploaded.

Views in routes.py, the upload logic in operations.py, spreadsheet downloads in exports.py.
"""

from flask import Blueprint

bp = Blueprint("frames", __name__, url_prefix="/frames", template_folder="templates")
bp.nav = [("frames.index", "Danh sách đơn vị", "Units' lists")]
