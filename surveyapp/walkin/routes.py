"""Walk-in pages: the public /w/<slug> address on a unit's counter poster, and the poster.

There is no token, so abuse is limited by a per-IP rate limit on opening and sending the
form and by a light duplicate guard: a signed cookie remembers that this browser sent
an answer for this unit today. Walk-in responses are a non-probability sample.
"""

import io

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)

from questionnaires.invitation import duration_label
from surveyapp.citizen import flow
from surveyapp.citizen.drafts import open_for_walkin
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.campaigns import Campaign, CampaignStatus
from surveyapp.models.units import Unit
from surveyapp.models.users import Role
from surveyapp.models.walkin import WalkinLink
from surveyapp.responses.operations import (
    campaign_state,
    instrument_for,
    questionnaire_for,
)
from surveyapp.security import current_user, public, require_unit, roles_required
from surveyapp.throttles import client_address
from surveyapp.tokens.service import LettersError, base_url_problem, require_public_base_url
from surveyapp.units.scope import campaign_units_query
from surveyapp.walkin.poster import poster_link, render_poster

bp = Blueprint("walkin", __name__, template_folder="templates")


@bp.route("/w/<slug>")
@public
def open_walkin(slug: str):
    link = db.session.scalar(sa.select(WalkinLink).where(WalkinLink.slug == slug[:32]))
    if link is None:
        return flow.notice("invalid")
    state = campaign_state(db.session.get(Campaign, link.campaign_id))
    if state:
        return flow.notice(state)
    if flow.answered_today(slug):
        return render_template("walkin/already.html"), 409
    if not flow.walkin_throttle("open").hit(client_address()):
        return flow.notice("throttled")
    instrument = instrument_for(link.campaign_id, link.respondent_group)
    if instrument is None:
        return flow.notice("not_open")
    open_for_walkin(link, instrument)
    return redirect(url_for("citizen.form"))


# --- posters (staff) ------------------------------------------------------------------------


def _open_campaigns() -> list[Campaign]:
    return list(
        db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.status != CampaignStatus.CLOSED)
            .order_by(Campaign.code.desc())
        )
    )


@bp.route("/posters/")
@roles_required(Role.ADMIN, Role.SUPERVISOR, Role.FOCAL_POINT)
def posters():
    user = current_user()
    campaigns = _open_campaigns()
    # Each campaign's posters are for its own registry's units (a focal point: its own).
    units = {}
    for campaign in campaigns:
        query = campaign_units_query(campaign).order_by(Unit.code)
        if user.role == Role.FOCAL_POINT:
            query = query.where(Unit.id == user.unit_id)
        units[campaign.id] = db.session.scalars(query).all()
    problem = base_url_problem()
    return render_template(
        "walkin/posters.html",
        campaigns=campaigns,
        units=units,
        base_url_warning=t(*problem) if problem else None,
    )


@bp.route("/posters/<int:campaign_id>/<int:unit_id>.pdf")
@roles_required(Role.ADMIN, Role.SUPERVISOR, Role.FOCAL_POINT)
def poster(campaign_id: int, unit_id: int):
    require_unit(unit_id)
    campaign = db.session.get(Campaign, campaign_id)
    unit = db.session.get(Unit, unit_id)
    if campaign is None or unit is None:
        abort(404)
    if campaign.status == CampaignStatus.CLOSED:
        abort(409)
    try:
        require_public_base_url()  # a poster's link to 127.0.0.1 reaches nobody
    except LettersError as error:
        flash(t(error.message_vi, error.message_en), "error")
        return redirect(url_for("walkin.posters"))
    link = poster_link(campaign, unit)
    url = f"{current_app.config['BASE_URL']}/w/{link.slug}"
    buffer = io.BytesIO()
    questionnaire = None
    if instrument_for(campaign.id, link.respondent_group) is not None:
        questionnaire = questionnaire_for(campaign.id, link.respondent_group)
    render_poster(
        buffer,
        url=url,
        unit_name=unit.name,
        campaign_name=campaign.name,
        duration=duration_label(questionnaire),
    )
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"poster-{unit.code}-{campaign.code}.pdf".replace("/", "-"),
    )
