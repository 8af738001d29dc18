"""The citizen web form: short-code entry at /s, personal links /s/<token>, the form itself.

The same form engine serves walk-in respondents (surveyapp/walkin) through a draft that
carries no respondent.
"""

from flask import Blueprint

bp = Blueprint("citizen", __name__, url_prefix="/s")
