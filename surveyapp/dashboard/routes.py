"""Progress dashboard: administrators and supervisors see every unit, a unit's focal
point only their own unit's aggregate figures (never a person)."""

import re

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request

from surveyapp.csvsafe import csv_response
from surveyapp.dashboard.chart import Bar, response_rate_svg
from surveyapp.dashboard.figures import (
    CSV_HEADER,
    RATES_CSV_HEADER,
    campaign_progress,
    csv_rows,
    rates_csv_rows,
    response_rates,
)
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.campaigns import Campaign
from surveyapp.models.users import Role
from surveyapp.responses import ballots
from surveyapp.security import current_user, roles_required

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates")

VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.FOCAL_POINT)


def _visible_units() -> set[int] | None:
    """None (every unit) or the focal point's own unit."""
    user = current_user()
    return {user.unit_id} if user.role == Role.FOCAL_POINT else None


def _eligibility_param() -> float | None:
    """``?e=0.8`` overrides the estimated eligibility rate for RR3 (ignored if invalid)."""
    raw = request.args.get("e", "").strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def _progress(campaign_id: int):
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    return campaign, campaign_progress(campaign.id, _visible_units(), _eligibility_param())


def _rates(campaign: Campaign):
    return response_rates(campaign.id, unit_ids=_visible_units(), e=_eligibility_param())


@bp.route("/")
@roles_required(*VIEW_ROLES)
def index():
    campaigns = db.session.scalars(sa.select(Campaign).order_by(Campaign.code.desc())).all()
    return render_template("dashboard/index.html", campaigns=campaigns)


@bp.route("/<int:campaign_id>")
@roles_required(*VIEW_ROLES)
def campaign(campaign_id: int):
    campaign, progress = _progress(campaign_id)
    rates = _rates(campaign)
    chart = None
    if rates.units:
        chart = response_rate_svg(
            [Bar(f"{u.unit_code} {u.unit_name}", u.rr1, u.rr3) for u in rates.units],
            title=t("Tỷ lệ trả lời theo đơn vị", "Response rate per unit"),
            description=t(
                "Biểu đồ thanh: tỷ lệ RR1 và RR3 của từng đơn vị; số liệu có trong bảng dưới.",
                "Bar chart of RR1 and RR3 per unit; the figures are in the table below.",
            ),
            legends={"rr1": "AAPOR RR1", "rr3": "AAPOR RR3"},
        )
    # Answers cast but not yet mixed into responses (responses/ballots.py): a count for
    # the whole campaign (a ballot's unit is sealed), so not shown to a unit's focal point.
    waiting = None if _visible_units() is not None else ballots.waiting(campaign.id)
    return render_template(
        "dashboard/campaign.html",
        campaign=campaign,
        progress=progress,
        rates=rates,
        chart=chart,
        waiting=waiting,
        box_size=current_app.config["BALLOT_BOX_SIZE"],
    )


@bp.route("/<int:campaign_id>/progress.csv")
@roles_required(*VIEW_ROLES)
def export_csv(campaign_id: int):
    campaign, progress = _progress(campaign_id)
    safe_code = re.sub(r"[^A-Za-z0-9._-]", "_", campaign.code)
    return csv_response(csv_rows(progress), CSV_HEADER, f"progress-{safe_code}.csv")


@bp.route("/<int:campaign_id>/response_rates.csv")
@roles_required(*VIEW_ROLES)
def export_rates_csv(campaign_id: int):
    """RR1/RR3 per unit × respondent group: the figures of the results' response_rates.csv."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    safe_code = re.sub(r"[^A-Za-z0-9._-]", "_", campaign.code)
    return csv_response(
        rates_csv_rows(_rates(campaign)), RATES_CSV_HEADER, f"response-rates-{safe_code}.csv"
    )
