"""App-wide pages: home, health check, language switch and error pages."""

from flask import Blueprint

bp = Blueprint("core", __name__)


@bp.app_context_processor
def _inject_nav() -> dict:
    from surveyapp.core.nav import nav_items

    return {"nav_items": nav_items}
