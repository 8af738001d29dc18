"""Fieldwork: assignments, contact attempts, replacements from the reserve, interviews,
paper forms keyed in, back-checks.

Views in routes.py, the rules in operations.py (and dispositions.py), the
``surveyapp campaign purge-pii`` command in cli.py.
"""

from flask import Blueprint

bp = Blueprint("fieldwork", __name__, url_prefix="/fieldwork")
bp.nav = [
    ("fieldwork.index", "Thực địa", "Fieldwork"),
    ("fieldwork.my_assignments", "Việc của tôi", "My assignments"),
    ("fieldwork.paper_lookup", "Nhập phiếu giấy", "Key in paper forms"),
]
