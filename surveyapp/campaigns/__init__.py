"""Survey campaigns: status, instruments per respondent group, survey period, who rates whom.

Views in routes.py; ``surveyapp campaign ...`` commands attach to ``bp.cli``.
"""

from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", cli_group="campaign")
bp.nav = [("campaigns.index", "Đợt khảo sát", "Campaigns")]
bp.cli.help = "Đợt khảo sát / Campaigns."
