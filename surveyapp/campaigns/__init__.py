"""Survey campaigns: status, instruments per respondent group, survey period."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", cli_group="campaign")
