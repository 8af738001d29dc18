"""App-wide pages: home, health check, language switch; the menu on every page."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from surveyapp.core.nav import nav_items
from surveyapp.extensions import db
from surveyapp.i18n import LANGUAGES
from surveyapp.security import login_required, public, safe_next_url

bp = Blueprint("core", __name__, template_folder="templates")


@bp.app_context_processor
def _inject_nav() -> dict:
    return {"nav_items": nav_items}


@bp.app_template_global()
def page_url(number: int) -> str:
    """This page with the same filters (query string), on page ``number`` of its table."""
    args = {**request.args.to_dict(), "page": number}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


@bp.route("/")
@login_required
def index():
    return render_template("core/index.html")


@bp.route("/healthz")
@public
def healthz():
    """200 with the database state, 503 when the database does not answer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"
        current_app.logger.warning("Health check: database unavailable: %s", exc)
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/lang/<code>", methods=["GET", "POST"])
@public
def set_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    # The Referer header is never sent (Referrer-Policy: no-referrer): pages pass `next`.
    return redirect(safe_next_url(request.values.get("next"), url_for("core.index")))
