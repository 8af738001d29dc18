"""Tokens, short codes and invitation letters for sampled respondents.

Plaintext tokens exist only while letters are produced (they go into the PDF and,
from the CLI, a links CSV); the database keeps keyed hashes. Issuing again replaces
(and so invalidates) a respondent's previous token and code.
"""

from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/tokens", cli_group="tokens")
bp.nav = [("tokens.index", "Thư mời", "Invitations")]
bp.cli.help = "Mã truy cập và thư mời / Tokens and invitation letters."
