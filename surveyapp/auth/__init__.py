"""Sign-in, sign-out and the ``surveyapp users`` commands."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth", cli_group="users")
