"""Administrative units: hierarchy view, CSV import and export."""

from flask import Blueprint

bp = Blueprint("units", __name__, url_prefix="/units")
