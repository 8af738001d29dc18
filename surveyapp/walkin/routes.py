"""Walk-in pages: the public /w/<slug> address on a unit's counter poster, and the poster.

There is no token, so abuse is limited by a per-IP rate limit on opening and sending the
form and by a light duplicate guard: a signed cookie remembers that this browser sent
an answer for this unit today. Walk-in responses are a non-probability sample.
"""

import io
import secrets

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from questionnaires import AnswerError
from surveyapp.auth.models import Role
from surveyapp.campaigns.models import Campaign, CampaignStatus
from surveyapp.citizen.drafts import forget_draft, open_for_walkin
from surveyapp.citizen.routes import go_to_problem, notice
from surveyapp.extensions import db
from surveyapp.responses.operations import (
    NotAccepting,
    campaign_state,
    instrument_for,
    record_response,
    today,
)
from surveyapp.security import Throttle, current_user, public, require_unit, roles_required
from surveyapp.units.models import Unit
from surveyapp.walkin import bp
from surveyapp.walkin.models import WalkinLink
from surveyapp.walkin.poster import render_poster

COOKIE_PREFIX = "walkin_"


def _throttle(scope: str) -> Throttle:
    config = current_app.config
    return Throttle(f"walkin-{scope}", config["WALKIN_LIMIT"], config["WALKIN_WINDOW"])


def _serializer() -> URLSafeSerializer:
    from surveyapp.security import derive_key

    return URLSafeSerializer(derive_key("walkin-cookie"), salt="walkin")


def _answered_today(slug: str) -> bool:
    value = request.cookies.get(COOKIE_PREFIX + slug)
    if not value:
        return False
    try:
        return _serializer().loads(value) == today().isoformat()
    except BadSignature:
        return False


@bp.route("/w/<slug>")
@public
def open_walkin(slug: str):
    link = db.session.scalar(sa.select(WalkinLink).where(WalkinLink.slug == slug[:32]))
    if link is None:
        return notice("invalid")
    state = campaign_state(db.session.get(Campaign, link.campaign_id))
    if state:
        return notice(state)
    if _answered_today(slug):
        return render_template("walkin/already.html"), 409
    throttle = _throttle("open")
    if throttle.blocked(request.remote_addr or "unknown"):
        return notice("throttled")
    throttle.hit(request.remote_addr or "unknown")
    instrument = instrument_for(link.campaign_id, link.respondent_group)
    if instrument is None:
        return notice("not_open")
    open_for_walkin(link, instrument)
    return redirect(url_for("citizen.form"))


def submit_walkin(draft, questionnaire, answers):
    """The last page of a walk-in form (called by the citizen form view)."""
    link = db.session.get(WalkinLink, draft.walkin_link_id)
    if _answered_today(link.slug):
        forget_draft()
        return render_template("walkin/already.html"), 409
    throttle = _throttle("submit")
    client = request.remote_addr or "unknown"
    if throttle.blocked(client):
        return notice("throttled")
    throttle.hit(client)  # before this request writes (SQLite allows one writer)
    try:
        record_response(
            unit=draft.rated_unit_id,
            answers=answers,
            mode="walkin",
            questionnaire=questionnaire,
            campaign=draft.campaign_id,
            respondent_group=draft.respondent_group,
        )
    except AnswerError as error:
        return go_to_problem(draft, questionnaire, answers, error, draft.step)
    except NotAccepting as error:
        forget_draft()
        return notice(error.reason)
    db.session.delete(draft)
    forget_draft()
    response = redirect(url_for("citizen.thanks"))
    response.set_cookie(
        COOKIE_PREFIX + link.slug,
        _serializer().dumps(today().isoformat()),
        max_age=2 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("PRODUCTION", False),
    )
    return response


# --- posters (staff) ------------------------------------------------------------------------


def poster_link(campaign: Campaign, unit: Unit) -> WalkinLink:
    """The campaign's walk-in link for ``unit``, made on first use."""
    link = db.session.scalar(
        sa.select(WalkinLink).where(
            WalkinLink.campaign_id == campaign.id, WalkinLink.unit_id == unit.id
        )
    )
    if link is None:
        group = current_app.config["WALKIN_RESPONDENT_GROUP"]
        link = WalkinLink(
            campaign_id=campaign.id,
            unit_id=unit.id,
            slug=secrets.token_urlsafe(9),
            respondent_group=group,
        )
        db.session.add(link)
        db.session.flush()
    return link


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
    query = sa.select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)
    if user.role == Role.FOCAL_POINT:
        query = query.where(Unit.id == user.unit_id)
    units = db.session.scalars(query).all()
    return render_template("walkin/posters.html", campaigns=_open_campaigns(), units=units)


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
    link = poster_link(campaign, unit)
    url = f"{current_app.config['BASE_URL']}/w/{link.slug}"
    buffer = io.BytesIO()
    render_poster(buffer, url=url, unit_name=unit.name, campaign_name=campaign.name)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"poster-{unit.code}-{campaign.code}.pdf".replace("/", "-"),
    )
