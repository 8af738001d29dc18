"""Sample draws: design, allocation preview, draw, lock, verification and the contractor's
lists. Views in routes.py, the logic (and ``current_draw``) in operations.py."""

from flask import Blueprint

bp = Blueprint("draws", __name__, url_prefix="/draws", template_folder="templates")
bp.nav = [("draws.index", "Chọn mẫu", "Sample draw")]
