"""Walk-in mode: a QR poster per unit for the one-stop counter (bộ phận một cửa).

Walk-in responses are a non-probability sample (no weight), kept apart from the
weighted indices by the responses table's CHECK constraints.
"""

from flask import Blueprint

bp = Blueprint("walkin", __name__)
bp.nav = [("walkin.posters", "Áp phích tại quầy", "Counter posters")]
