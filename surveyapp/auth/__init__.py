"""Sign-in, sign-out, account pages and the ``surveyapp users`` commands.

Views in routes.py, commands in cli.py, shared account logic in users.py.
"""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth", cli_group="users")
bp.nav = [("auth.users", "Người dùng", "Users")]
bp.cli.help = "Tài khoản người dùng / User accounts."
