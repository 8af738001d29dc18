"""Results: the Department scores a campaign from its responses and downloads the outputs;
contractors' results bundles are exported and imported (views in routes.py, commands in
cli.py, database → scoring inputs in operations.py, runs on disk in runs.py, bundles in
bundle.py)."""

from flask import Blueprint

bp = Blueprint(
    "results", __name__, url_prefix="/results", template_folder="templates", cli_group="results"
)
bp.nav = [("results.index", "Kết quả", "Results")]
bp.cli.help = "Tính điểm và gói kết quả / Scoring runs and results bundles."
