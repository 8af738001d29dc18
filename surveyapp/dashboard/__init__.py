"""Fieldwork progress dashboard: sample, completions, AAPOR response rates, CSV, chart.

Rates in rates.py (pure), figures from the database in figures.py, views in routes.py.
"""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
bp.nav = [("dashboard.index", "Tiến độ", "Progress")]
