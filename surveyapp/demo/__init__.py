"""``surveyapp demo``: a demo database seeded through the real code paths, then served.

Commands in cli.py (top level: ``cli_group=None``), seeding in operations.py, the units'
lists in generator.py and simulated answers in answers.py.
"""

from flask import Blueprint

bp = Blueprint("demo", __name__, cli_group=None)
